package dev.llmj.tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A fixed pool of worker threads for the kernels. Work is cut into the same chunks whatever the
 * thread count, and each output element is computed by one thread in one fixed order, so results
 * are identical on 1 or 16 threads.
 */
public final class Parallel {
    /** A range of indices [from, to) to work on. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to);
    }

    private static volatile int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
    private static ExecutorService pool;

    private Parallel() {}

    /** Sets the number of worker threads (the CLI's --threads). */
    public static synchronized void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be at least 1");
        if (n != threads && pool != null) {
            pool.shutdown();
            pool = null;
        }
        threads = n;
    }

    public static int threads() {
        return threads;
    }

    private static synchronized ExecutorService pool() {
        if (pool == null) {
            pool = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, "llmj-worker");
                t.setDaemon(true);
                return t;
            });
        }
        return pool;
    }

    /** Runs {@code task} over [0, n) in chunks of about {@code grain} indices, in parallel when it pays. */
    public static void forRange(int n, int grain, RangeTask task) {
        int chunks = Math.max(1, Math.min(threads * 4, (n + grain - 1) / Math.max(1, grain)));
        if (threads == 1 || chunks == 1) {
            task.run(0, n);
            return;
        }
        List<Future<?>> fs = new ArrayList<>(chunks);
        ExecutorService p = pool();
        for (int c = 0; c < chunks; c++) {
            int from = (int) ((long) n * c / chunks), to = (int) ((long) n * (c + 1) / chunks);
            if (from < to) fs.add(p.submit(() -> task.run(from, to)));
        }
        try {
            for (Future<?> f : fs) f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            if (e.getCause() instanceof Error err) throw err;
            throw new IllegalStateException(e.getCause());
        }
    }
}
