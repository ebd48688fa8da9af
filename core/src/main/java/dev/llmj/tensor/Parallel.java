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
            pool = Executors.newFixedThreadPool(Math.max(1, threads - 1), r -> { // the caller is the last worker
                Thread t = new Thread(r, "llmj-worker");
                t.setDaemon(true);
                return t;
            });
        }
        return pool;
    }

    /**
     * Runs {@code task} over [0, n) in chunks of about {@code grain} indices, in parallel when it pays.
     * The calling thread works too: it and threads − 1 pool workers each take the next chunk until
     * none is left, so one hand-off per worker starts the whole range (not one per chunk), and a
     * slow chunk does not hold the others up. Which thread runs a chunk does not matter: a chunk
     * always covers the same indices.
     */
    public static void forRange(int n, int grain, RangeTask task) {
        int chunks = Math.max(1, Math.min(threads * 4, (n + grain - 1) / Math.max(1, grain)));
        if (threads == 1 || chunks == 1) {
            task.run(0, n);
            return;
        }
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        Runnable worker = () -> {
            for (int c; (c = next.getAndIncrement()) < chunks; ) {
                int from = (int) ((long) n * c / chunks), to = (int) ((long) n * (c + 1) / chunks);
                if (from < to) task.run(from, to);
            }
        };
        int helpers = Math.min(threads - 1, chunks - 1);
        List<Future<?>> fs = new ArrayList<>(helpers);
        ExecutorService p = pool();
        for (int w = 0; w < helpers; w++) fs.add(p.submit(worker));
        Throwable failed = null;
        try {
            worker.run();
        } catch (RuntimeException | Error e) {
            failed = e;
            next.set(chunks); // the others stop taking chunks
        }
        try {
            for (Future<?> f : fs) f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (failed == null) failed = e.getCause();
        }
        if (failed instanceof RuntimeException re) throw re;
        if (failed instanceof Error err) throw err;
        if (failed != null) throw new IllegalStateException(failed);
    }
}
