package dev.llmj.data;

import dev.llmj.LlmjException;
import dev.llmj.TestData;
import dev.llmj.tokenizer.CharTokenizer;
import dev.llmj.tokenizer.SpecialTokens.Role;
import dev.llmj.tokenizer.Tokenizer;
import dev.llmj.tokenizer.WordTokenizer;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DemoCorporaTest {

    @Test
    void numbersInWords() {
        assertEquals("zero", NumberWords.words(0));
        assertEquals("seven", NumberWords.words(7));
        assertEquals("ten", NumberWords.words(10));
        assertEquals("eleven", NumberWords.words(11));
        assertEquals("fifteen", NumberWords.words(15));
        assertEquals("nineteen", NumberWords.words(19));
        assertEquals("twenty", NumberWords.words(20));
        assertEquals("twenty-one", NumberWords.words(21));
        assertEquals("ninety-nine", NumberWords.words(99));
        assertEquals("one hundred", NumberWords.words(100));
        assertEquals("one hundred five", NumberWords.words(105));
        assertEquals("one hundred twelve", NumberWords.words(112));
        assertEquals("seven hundred seventy-seven", NumberWords.words(777));
        assertEquals("one thousand", NumberWords.words(1000));
        assertEquals("one thousand one", NumberWords.words(1001));
        assertEquals("four thousand seventy-one", NumberWords.words(4071));
        assertEquals("nine thousand nine hundred ninety-nine", NumberWords.words(9999));
        assertEquals("twelve thousand three hundred", NumberWords.words(12_300));
        assertEquals("one hundred thousand", NumberWords.words(100_000));
        assertEquals("one million two", NumberWords.words(1_000_002));
        assertEquals("nine hundred ninety-nine million nine hundred ninety-nine thousand nine hundred ninety-nine", NumberWords.words(999_999_999));
        assertThrows(LlmjException.class, () -> NumberWords.words(-1));
        assertThrows(LlmjException.class, () -> NumberWords.words(1_000_000_000));
    }

    @Test
    void theCommittedFilesAreWhatTheGeneratorWrites() throws Exception {
        Path data = TestData.dataDir();
        List<List<String>> numbers = DemoCorpora.numberPairs();
        assertEquals(DemoCorpora.text(numbers.get(0)), Files.readString(data.resolve(DemoCorpora.NUMBERS_TRAIN)),
                "regenerate with: java -cp core/target/classes dev.llmj.data.DemoCorpora data");
        assertEquals(DemoCorpora.text(numbers.get(1)), Files.readString(data.resolve(DemoCorpora.NUMBERS_TEST)));
        assertEquals(DemoCorpora.text(DemoCorpora.fillMaskSentences()), Files.readString(data.resolve(DemoCorpora.FILL_MASK)));
    }

    @Test
    void theNumberTaskHoldsOutADisjointTenthAndReadsAsPairs() {
        Path data = TestData.dataDir();
        String train = Corpus.read(data.resolve(DemoCorpora.NUMBERS_TRAIN)), test = Corpus.read(data.resolve(DemoCorpora.NUMBERS_TEST));
        Tokenizer tok = CharTokenizer.build(train, List.of(Role.PAD, Role.BOS, Role.EOS));
        Pairs tr = Pairs.read(data.resolve(DemoCorpora.NUMBERS_TRAIN), tok), te = Pairs.read(data.resolve(DemoCorpora.NUMBERS_TEST), tok);
        assertEquals(9000, tr.size());
        assertEquals(1000, te.size());
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < tr.size(); i++) {
            Pairs.Pair p = tr.get(i);
            assertEquals(NumberWords.words(Integer.parseInt(p.source())), p.target());
            seen.add(p.source());
        }
        for (int i = 0; i < te.size(); i++) {
            assertTrue(seen.add(te.get(i).source()), te.get(i).source() + " is both in training and in the test set");
        }
        assertEquals(DemoCorpora.NUMBERS, seen.size(), "together they are every number 0 … 9,999");
        new PairBatcher(tr, 32, 44, 1); // the longest target, 43 characters + <eos>, fits a context of 44
        assertTrue(train.length() + test.length() < 500_000, "a few hundred KB");
    }

    @Test
    void theFillMaskCorpusIsWordLevelAndEachBlankIsDecidedByItsContext() {
        List<String> lines = DemoCorpora.fillMaskSentences();
        assertTrue(lines.size() > 2000 && lines.size() < 10_000, lines.size() + " lines");
        assertEquals(lines.size(), new HashSet<>(lines).size(), "no line twice");
        Tokenizer tok = WordTokenizer.build(String.join("\n", lines), List.of(Role.PAD, Role.MASK, Role.UNK), 0);
        Sentences s = Sentences.read(TestData.dataDir().resolve(DemoCorpora.FILL_MASK), tok);
        assertEquals(lines.size(), s.size());
        // the tutorial's sentence is there, and after 盒子 always comes 里, never 上
        assertTrue(lines.contains("猫 在 垫子 上"));
        for (String l : lines) {
            assertTrue(!l.contains("盒子 上") && !l.contains("垫子 里"), l);
            if (l.contains("熊猫 ")) assertTrue(l.endsWith(" 竹子"), l);
            if (l.contains(" 只 ")) assertTrue(l.matches(".* 只 (猫|狗|兔子|鸟)") || l.startsWith("那 只"), l);
        }
    }
}
