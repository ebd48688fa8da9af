package dev.llmj.tokenizer;

import com.knuddels.jtokkit.api.Encoding;
import dev.llmj.TestData;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Encode throughput of our byte-level BPE against jtokkit on the same text, one thread, run
 * back to back: {@code tools/bench-tokenizers.sh}. Not a test: prints medians of several runs.
 */
public final class TokenizerBench {
    public static void main(String[] args) {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        List<String[]> corpora = List.of(new String[] {"tinyshakespeare", TestData.shakespeare()},
                new String[] {"tang-poems", TestData.tangPoems()});
        System.out.printf("%-12s %-16s %6s %10s %10s %12s %8s%n", "encoding", "corpus", "MB", "llmj cold", "llmj MB/s", "jtokkit MB/s", "ratio");
        for (Tiktoken.Encoding enc : List.of(Tiktoken.R50K, Tiktoken.CL100K, Tiktoken.O200K)) {
            ByteBpeTokenizer ours = TiktokenParityTest.ours(enc);
            Encoding theirs = TiktokenParityTest.theirs(enc);
            for (String[] c : corpora) {
                String text = c[1];
                double mb = text.getBytes(StandardCharsets.UTF_8).length / 1e6;
                // cold: the first encode of a freshly loaded tokenizer, before its piece cache holds anything
                ByteBpeTokenizer fresh = TiktokenParityTest.ours(enc);
                long c0 = System.nanoTime();
                fresh.encode(text);
                double cold = mb / ((System.nanoTime() - c0) / 1e9);
                // our encoder caches pieces per thread; a fresh tokenizer per run would flatter jtokkit,
                // so both run warm, as they would in a long job
                double[] us = new double[runs], them = new double[runs];
                for (int i = 0; i < 2; i++) { ours.encode(text); theirs.encodeOrdinary(text); }
                for (int i = 0; i < runs; i++) {
                    long t0 = System.nanoTime();
                    int n1 = ours.encode(text).length;
                    long t1 = System.nanoTime();
                    int n2 = theirs.encodeOrdinary(text).size();
                    long t2 = System.nanoTime();
                    if (n1 != n2) throw new IllegalStateException("token counts differ: " + n1 + " vs " + n2);
                    us[i] = mb / ((t1 - t0) / 1e9);
                    them[i] = mb / ((t2 - t1) / 1e9);
                }
                double a = median(us), b = median(them);
                System.out.printf("%-12s %-16s %6.2f %10.1f %10.1f %12.1f %7.2fx%n", enc.name(), c[0], mb, cold, a, b, a / b);
            }
        }
        List<Double> train = new ArrayList<>();
        String text = TestData.shakespeare();
        for (int i = 0; i < Math.max(3, runs / 2); i++) {
            long t0 = System.nanoTime();
            BpeTrainer.train(text, 4096, List.of(SpecialTokens.Role.EOS), null);
            train.add((System.nanoTime() - t0) / 1e9);
        }
        System.out.printf("%nBPE training, 4,096 tokens on tinyshakespeare.txt: median %.2f s over %d runs (first %.2f s)%n",
                median(train.stream().mapToDouble(Double::doubleValue).toArray()), train.size(), train.get(0));
    }

    static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
