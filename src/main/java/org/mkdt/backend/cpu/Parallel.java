package org.mkdt.backend.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;

/**
 * The CPU backend's worker pool. Work is split into chunks whose boundaries depend only on the
 * problem size and the grain, never on the number of threads, and every output element is
 * written by exactly one chunk in a fixed order: results are bit-identical whatever the core
 * count. Threads: {@code -Dmkdt.threads=N} or the environment variable MKDT_THREADS, else all
 * available processors.
 */
public final class Parallel {
    private static final int THREADS = CpuThreads.configured();
    private static final ForkJoinPool POOL = new ForkJoinPool(THREADS, pool -> {
        ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        t.setName("mkdt-cpu-" + t.getPoolIndex());
        t.setDaemon(true);
        return t;
    }, null, false);

    /** A body over the half-open index range [lo, hi). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int lo, int hi);
    }

    private Parallel() {}

    public static int threads() {
        return THREADS;
    }

    /**
     * Runs body over [0, n) in chunks of {@code grain} indices (the last one shorter). Runs
     * inline when there is one chunk, one thread, or when already on a worker (no nesting).
     */
    public static void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        int g = Math.max(1, grain);
        int chunks = (int) ((n + (long) g - 1) / g);
        if (chunks == 1 || THREADS == 1 || Thread.currentThread() instanceof ForkJoinWorkerThread) {
            for (int lo = 0; lo < n; lo += g) body.run(lo, Math.min(n, lo + g));
            return;
        }
        List<ForkJoinTask<?>> tasks = new ArrayList<>(chunks);
        for (int c = 0; c < chunks; c++) {
            int lo = c * g, hi = Math.min(n, lo + g);
            tasks.add(ForkJoinTask.adapt(() -> body.run(lo, hi)));
        }
        POOL.invoke(ForkJoinTask.adapt(() -> ForkJoinTask.invokeAll(tasks)));
    }

    /** A grain that gives each thread a few chunks of roughly {@code minWork} units of work each. */
    public static int grain(int n, long workPerIndex, long minWork) {
        long byWork = Math.max(1, minWork / Math.max(1, workPerIndex));
        long byThreads = Math.max(1, (n + 4L * THREADS - 1) / (4L * THREADS));
        return (int) Math.min(n, Math.max(byWork, byThreads));
    }
}
