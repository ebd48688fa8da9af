package dev.llmj.bench;

import dev.llmj.tensor.Kernels;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The kernels of {@link Kernels}, one benchmark each, at the training recipes' and GPT-2 decoding's
 * shapes ({@link Shapes}). Time per call; GFLOPS = 2·R·in·out / time for the matrix products.
 * {@code -p threads=1} measures one core.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g"})
public class KernelsBench {

    /** A training-sized product: X [R, in], W [out, in], dY [R, out] and the outputs of all three products. */
    @State(Scope.Benchmark)
    public static class Train {
        @Param({"s128.qkvo", "s128.fc", "s128.proj", "s128.head", "d384.qkvo", "d384.fc", "d384.proj", "d384.head",
                "gpt2prefill.fc", "gpt2prefill.proj"})
        public String shape;
        @Param({"2"})
        public int threads;
        int rows, in, out;
        float[] x, w, b, wt, y, dy, dyT, dx, dw, db;

        @Setup
        public void setup() {
            Shapes.threads(threads);
            Shapes.Matmul m = Shapes.get(Shapes.TRAIN, shape);
            rows = m.rows();
            in = m.in();
            out = m.out();
            x = Shapes.random(rows * in, 1f, 1);
            w = Shapes.random(out * in, 0.02f, 2);
            b = Shapes.random(out, 0.02f, 3);
            dy = Shapes.random(rows * out, 1e-3f, 4);
            wt = new float[in * out];
            dyT = new float[out];
            y = new float[rows * out];
            dx = new float[rows * in];
            dw = new float[out * in];
            db = new float[out];
        }
    }

    /** Y = X·Wᵀ + b through the transposed copy of W (the training forward of every linear layer). */
    @Benchmark
    public float[] matmulForward(Train s) {
        Kernels.matmulForward(s.y, s.x, s.w, s.b, s.rows, s.in, s.out, s.wt);
        return s.y;
    }

    /** dX += dY·W. */
    @Benchmark
    public float[] matmulBackwardInput(Train s) {
        Kernels.matmulBackwardInput(s.dx, s.dy, s.w, s.rows, s.in, s.out);
        return s.dx;
    }

    /** dW += dYᵀ·X (dY read transposed in place) and db += Σ dY. */
    @Benchmark
    public float[] matmulBackwardWeight(Train s) {
        Kernels.matmulBackwardWeight(s.dw, s.db, s.dy, s.x, s.rows, s.in, s.out, s.dyT);
        return s.dw;
    }

    /** W [out, in] → Wᵀ [in, out], the copy matmulForward makes first. */
    @Benchmark
    public float[] transpose(Train s) {
        Kernels.transpose(s.w, s.wt, s.out, s.in);
        return s.wt;
    }

    /** One decoded token through a GPT-2 small weight: x [1, in] · W [out, in]ᵀ, W read in place. */
    @State(Scope.Benchmark)
    public static class Decode {
        @Param({"gpt2.qkvo", "gpt2.fc", "gpt2.proj", "gpt2.head"})
        public String shape;
        @Param({"2"})
        public int threads;
        int rows, in, out;
        float[] x, w, b, y;

        @Setup
        public void setup() {
            Shapes.threads(threads);
            Shapes.Matmul m = Shapes.get(Shapes.DECODE, shape);
            rows = m.rows();
            in = m.in();
            out = m.out();
            x = Shapes.random(rows * in, 1f, 1);
            w = Shapes.random(out * in, 0.02f, 2);
            Kernels.packPanels(w, out, in); // inference reads its weights packed
            b = shape.endsWith(".head") ? null : Shapes.random(out, 0.02f, 3); // the tied LM head has no bias
            y = new float[rows * out];
        }
    }

    /** Matrix–vector: decode's product over a packed W, bound by reading W from memory (GB/s = 4·in·out / time). */
    @Benchmark
    public float[] matmulPanels(Decode s) {
        Kernels.matmulPanels(s.y, s.x, s.w, s.b, s.rows, s.in, s.out);
        return s.y;
    }

    /**
     * The matmul micro-kernel's ceiling, two ways on one thread. {@code microKernelInL1}: Y [48, 64] +=
     * X [48, 64] · M [64, 64] by {@link Kernels#gemmBlock} on the calling thread, all 40 KB in L1, so
     * nothing but the FMAs limits it. {@code gemmAtBestShape}: Y [240, 64] = X · M through the whole
     * gemm (task split, zero fill), X and Y in L2. GFLOPS = 2·rows·64·64 / time.
     */
    @State(Scope.Benchmark)
    public static class InCache {
        float[] x = Shapes.random(240 * 64, 1f, 1), m = Shapes.random(64 * 64, 0.02f, 2), y = new float[240 * 64];

        @Setup
        public void setup() {
            Shapes.threads(1);
        }
    }

    @Benchmark
    public float[] microKernelInL1(InCache s) {
        Kernels.gemmBlock(s.y, 0, 64, s.x, 0, 64, 1, s.m, 0, 64, null, true, 0, 48, 0, 64, 0, 64);
        return s.y;
    }

    @Benchmark
    public float[] gemmAtBestShape(InCache s) {
        Kernels.matmulTransposed(s.y, s.x, s.m, null, 240, 64, 64);
        return s.y;
    }

    /** Vectors of one attention head (hd = 32 for s128, 64 for d384 and GPT-2) and of GPT-2's d = 768. */
    @State(Scope.Thread)
    public static class Vectors {
        @Param({"32", "64", "768"})
        public int n;
        float[] a, c;
        float alpha = 0.5f;

        @Setup
        public void setup() {
            a = Shapes.random(n, 1f, 1);
            c = Shapes.random(n, 1f, 2);
        }
    }

    /** q·k for one score (attention over the KV cache). */
    @Benchmark
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public float dot(Vectors s) {
        return Kernels.dot(s.a, 0, s.c, 0, s.n);
    }

    /** y += α·x: attention's p·v and the plain forward's row update. */
    @Benchmark
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public float[] axpy(Vectors s) {
        Kernels.axpy(s.alpha, s.a, 0, s.c, 0, s.n);
        s.alpha = -s.alpha; // alternate signs, so c stays bounded however long it runs
        return s.c;
    }
}
