package dev.llmj.tensor;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of worker threads for the kernels. Work is cut into chunks, and each output element
 * is computed by one thread in one fixed order whatever the chunking, so results are identical on
 * 1 or 16 threads.
 * <p>
 * A training step or a decoded token runs a hundred parallel regions, some of a few microseconds,
 * so handing work over must cost far less than that: a worker spins for a moment after each job,
 * waiting for the next one, before it parks (sleeping costs a system call to wake). One job runs at
 * a time; a region started while one runs (a nested call, or a second caller thread) runs on its
 * caller's thread alone.
 */
public final class Parallel {
    /** A range of indices [from, to) to work on. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to);
    }

    private static volatile int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
    private static Worker[] workers = new Worker[0];     // threads − 1 of them: the caller is the last worker
    private static final AtomicBoolean busy = new AtomicBoolean();
    /** How long an idle worker spins for the next job before it parks. */
    private static final long SPIN_NANOS = 200_000;

    // The one job: written by its caller while busy, published to the workers by the generation.
    private static RangeTask task;
    private static int n, chunks, helpers;
    private static final AtomicInteger pending = new AtomicInteger();
    /** Each participant's next chunk, 16 ints (a cache line) apart: participant p owns chunks [first(p), first(p + 1)). */
    private static AtomicIntegerArray next = new AtomicIntegerArray(16);
    private static volatile Throwable failed;
    private static volatile long generation;

    private Parallel() {}

    /**
     * {@code -Dllmj.parallelStats=true} (e.g. in LLMJ_JAVA_OPTS): each kind of parallel region's count, time, and the
     * share of it the caller spent waiting for the other threads after its own chunks, printed to stderr at exit.
     */
    private static final boolean STATS = Boolean.getBoolean("llmj.parallelStats");

    /** Forgets what {@link #STATS} has collected so far: the benchmarks call it after their warm-up. */
    public static void resetStats() {
        if (STATS) RegionStats.BY_CLASS.clear();
    }

    /** What {@link #STATS} collects, per class of task, named by the method that first started one. */
    private static final class RegionStats {
        final String name;
        long count, total, wait;

        RegionStats(String name) {
            this.name = name;
        }

        static final java.util.Map<Class<?>, RegionStats> BY_CLASS = new java.util.concurrent.ConcurrentHashMap<>();

        static {
            Runtime.getRuntime().addShutdownHook(new Thread(RegionStats::print));
        }

        static void add(RangeTask task, long start, long ownDone, long end) {
            RegionStats s = BY_CLASS.get(task.getClass());
            if (s == null) {
                String name = name(task.getClass()); // here, so that the stack is the region's caller's
                s = BY_CLASS.computeIfAbsent(task.getClass(), c -> new RegionStats(name));
            }
            s.count++;
            s.total += end - start;
            s.wait += end - ownDone;
        }

        /** A kernel's task by its class (Kernels.GemmTask); a layer's method reference by the method that started it (Attention.backward). */
        private static String name(Class<?> c) {
            if (!c.isHidden()) return c.getName().substring(c.getName().lastIndexOf('.') + 1).replace('$', '.');
            return StackWalker.getInstance().walk(f -> f.filter(x -> !x.getClassName().startsWith(Parallel.class.getName())).findFirst()
                    .map(x -> x.getClassName().substring(x.getClassName().lastIndexOf('.') + 1) + "." + x.getMethodName()).orElse("?"));
        }

        static void print() {
            long all = BY_CLASS.values().stream().mapToLong(s -> s.total).sum();
            System.err.printf("parallel regions (%d threads): %.0f ms in all%n", threads, all / 1e6);
            System.err.printf("  %-34s %9s %9s %6s %10s %12s%n", "started by", "regions", "ms", "share", "µs each", "caller waits");
            BY_CLASS.values().stream().sorted((a, b) -> Long.compare(b.total, a.total)).forEach(s -> System.err.printf(
                    "  %-34s %,9d %,9.0f %5.1f%% %,10.1f %11.1f%%%n", s.name, s.count, s.total / 1e6, 100.0 * s.total / Math.max(1, all),
                    s.total / 1e3 / s.count, 100.0 * s.wait / Math.max(1, s.total)));
        }
    }

    /** Sets the number of worker threads (the CLI's --threads). */
    public static synchronized void setThreads(int count) {
        if (count < 1) throw new IllegalArgumentException("threads must be at least 1");
        if (count != threads) {
            for (Worker w : workers) w.stop();
            workers = new Worker[0];
        }
        threads = count;
    }

    public static int threads() {
        return threads;
    }

    private static synchronized Worker[] workers() {
        if (workers.length != threads - 1) {
            for (Worker w : workers) w.stop();
            workers = new Worker[threads - 1];
            next = new AtomicIntegerArray(16 * threads);
            for (int i = 0; i < workers.length; i++) workers[i] = new Worker(i, generation);
        }
        return workers;
    }

    /**
     * Runs {@code task} over [0, n) in chunks of about {@code grain} indices, in parallel when it pays.
     * The calling thread works too. Each thread owns an equal run of the chunks (the caller the first)
     * and takes them in order, then takes what is left of the others' runs, so a slow thread does not
     * hold the others up. Which thread runs a chunk does not matter: a chunk always covers the same indices.
     */
    public static void forRange(int n, int grain, RangeTask task) {
        int chunks = Math.max(1, Math.min(threads * 8, (n + grain - 1) / Math.max(1, grain)));
        if (threads == 1 || chunks == 1 || !busy.compareAndSet(false, true)) {
            task.run(0, n);
            return;
        }
        try {
            Worker[] ws = workers();
            Parallel.task = task;
            Parallel.n = n;
            Parallel.chunks = chunks;
            Parallel.helpers = Math.min(ws.length, chunks - 1);
            failed = null;
            for (int p = 0; p <= Parallel.helpers; p++) next.set(16 * p, first(p));
            pending.set(helpers);
            long t0 = STATS ? System.nanoTime() : 0;
            generation++;                                   // publishes the job (a volatile write after the fields)
            for (int i = 0; i < helpers; i++) ws[i].wake();
            work(0);
            long t1 = STATS ? System.nanoTime() : 0;
            for (int spins = 0; pending.get() > 0; spins++) { // the helpers finish their last chunks
                if (spins < 1 << 14) Thread.onSpinWait();
                else Thread.yield();
            }
            if (STATS) RegionStats.add(task, t0, t1, System.nanoTime());
            Throwable f = failed;
            if (f instanceof RuntimeException re) throw re;
            if (f instanceof Error err) throw err;
            if (f != null) throw new IllegalStateException(f);
        } finally {
            Parallel.task = null;
            busy.set(false);
        }
    }

    /** The first chunk participant p owns (p = helpers + 1: the end). */
    private static int first(int p) {
        return (int) ((long) chunks * p / (helpers + 1));
    }

    /**
     * Participant p (0 the caller, i + 1 worker i) takes its own chunks in order, then helps the others
     * with theirs until none is left. A thread that keeps to its own share works on the same rows
     * region after region, so what one region wrote is in its own core's cache when the next reads
     * it; taking chunks from one shared counter sent about half of every array from core to core.
     */
    private static void work(int p) {
        RangeTask t = task;
        int count = chunks, size = n, parts = helpers + 1;
        try {
            for (int i = 0; i < parts; i++) {
                int q = (p + i) % parts, end = first(q + 1);
                for (int c; (c = next.getAndIncrement(16 * q)) < end; ) {
                    int from = (int) ((long) size * c / count), to = (int) ((long) size * (c + 1) / count);
                    if (from < to) t.run(from, to);
                }
            }
        } catch (Throwable e) {
            if (failed == null) failed = e;
            for (int q = 0; q < parts; q++) next.set(16 * q, count); // the others stop taking chunks
        }
    }

    /** One worker thread: waits for a job (spinning, then parked), helps with it, and waits again. */
    private static final class Worker implements Runnable {
        private final int id;
        private final Thread thread;
        private volatile boolean parked, stopped;
        private long seen;

        Worker(int id, long generation) {
            this.id = id;
            this.seen = generation;
            thread = new Thread(this, "llmj-worker-" + id);
            thread.setDaemon(true);
            thread.start();
        }

        void wake() {
            if (parked) LockSupport.unpark(thread);
        }

        void stop() {
            stopped = true;
            LockSupport.unpark(thread);
        }

        @Override
        public void run() {
            while (!stopped) {
                long g = generation, start = 0;
                for (int spins = 0; g == seen && !stopped; spins++, g = generation) {
                    if (spins < 64) {
                        Thread.onSpinWait();
                        continue;
                    }
                    if (start == 0) start = System.nanoTime();
                    if (System.nanoTime() - start < SPIN_NANOS) {
                        Thread.onSpinWait();
                        continue;
                    }
                    parked = true;                     // then look once more: a caller that missed the flag has moved the generation
                    if (generation == seen && !stopped) LockSupport.park(this);
                    parked = false;
                }
                if (stopped) return;
                seen = g;
                if (id < helpers) {
                    work(id + 1);
                    pending.decrementAndGet();
                }
            }
        }
    }
}
