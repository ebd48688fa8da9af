package dev.llmj.tensor;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ParallelTest {
    /** Runs body on 1 to 5 threads, then puts the thread count back. */
    private static void onThreads(java.util.function.IntConsumer body) {
        int saved = Parallel.threads();
        try {
            for (int threads = 1; threads <= 5; threads++) {
                Parallel.setThreads(threads);
                body.accept(threads);
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void everyIndexRunsExactlyOnceWhateverTheChunksAndThreads() { // each thread's own share, then the others' leftovers
        onThreads(threads -> {
            for (int n : new int[] {1, 2, 3, 7, 40, 41, 1000}) {
                for (int grain : new int[] {1, 3, 64}) {
                    AtomicIntegerArray runs = new AtomicIntegerArray(n);
                    for (int region = 0; region < 20; region++) { // regions back to back: the shares are set again each time
                        Parallel.forRange(n, grain, (from, to) -> {
                            for (int i = from; i < to; i++) runs.incrementAndGet(i);
                        });
                    }
                    for (int i = 0; i < n; i++) assertEquals(20, runs.get(i), threads + " threads, n " + n + ", grain " + grain + ", index " + i);
                }
            }
        });
    }

    @Test
    void aChunksFailureReachesTheCallerAndTheNextRegionRuns() {
        onThreads(threads -> {
            IllegalStateException boom = new IllegalStateException("boom");
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> Parallel.forRange(64, 1, (from, to) -> {
                if (from <= 50 && 50 < to) throw boom;
            }));
            assertSame(boom, thrown);
            AtomicIntegerArray runs = new AtomicIntegerArray(64);
            Parallel.forRange(64, 1, (from, to) -> {
                for (int i = from; i < to; i++) runs.incrementAndGet(i);
            });
            for (int i = 0; i < 64; i++) assertEquals(1, runs.get(i), threads + " threads, index " + i);
        });
    }
}
