package org.mkdt.backend.cpu;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The CPU backend's caching allocator. Training allocates the same large shapes step after
 * step; handing a released array back out (re-zeroed) avoids what a fresh {@code new float[n]}
 * costs at these sizes: the garbage collector's work, and the kernel zeroing fresh pages (it
 * was half the time of a meta-gradient step before this pool). Only large arrays are cached;
 * the cache is bounded and is emptied before giving up when the heap runs out.
 */
final class ArrayPool {
    /** Arrays below this many bytes go to the garbage collector, which handles them well. */
    static final long MIN_POOLED_BYTES = 1 << 20;

    private final long capacityBytes;
    private final Map<Integer, ArrayDeque<float[]>> floats = new HashMap<>();
    private final Map<Integer, ArrayDeque<double[]>> doubles = new HashMap<>();
    private long cachedBytes;

    ArrayPool(long capacityBytes) {
        this.capacityBytes = capacityBytes;
    }

    /** A third of the maximum heap: the rest is for live tensors. */
    static ArrayPool sizedForHeap() {
        return new ArrayPool(Runtime.getRuntime().maxMemory() / 3);
    }

    float[] floats(int n) {
        return floats(n, true);
    }

    double[] doubles(int n) {
        return doubles(n, true);
    }

    /** An array of n floats: zero-filled, or (zeroed false) with whatever a reused array held. */
    float[] floats(int n, boolean zeroed) {
        float[] a = take(floats, n, 4L * n);
        if (a == null) return allocate(() -> new float[n]);
        if (zeroed) zero(a);
        return a;
    }

    double[] doubles(int n, boolean zeroed) {
        double[] a = take(doubles, n, 8L * n);
        if (a == null) return allocate(() -> new double[n]);
        if (zeroed) zero(a);
        return a;
    }

    synchronized void give(float[] a) {
        put(floats, a.length, a, 4L * a.length);
    }

    synchronized void give(double[] a) {
        put(doubles, a.length, a, 8L * a.length);
    }

    synchronized long cachedBytes() {
        return cachedBytes;
    }

    synchronized void clear() {
        floats.clear();
        doubles.clear();
        cachedBytes = 0;
    }

    private synchronized <T> T take(Map<Integer, ArrayDeque<T>> map, int n, long bytes) {
        if (bytes < MIN_POOLED_BYTES) return null;
        ArrayDeque<T> q = map.get(n);
        if (q == null || q.isEmpty()) return null;
        cachedBytes -= bytes;
        return q.pop();
    }

    private <T> void put(Map<Integer, ArrayDeque<T>> map, int n, T a, long bytes) {
        if (bytes < MIN_POOLED_BYTES || cachedBytes + bytes > capacityBytes || System.nanoTime() - pausedUntil < 0) return;
        map.computeIfAbsent(n, k -> new ArrayDeque<>()).push(a);
        cachedBytes += bytes;
    }

    /**
     * Allocates. When the heap is full: stop caching for a while (arrays released meanwhile go
     * back to the collector), empty the cache, and give the collector and the cleaner thread a
     * few chances to return unreachable tensors' arrays before giving up.
     */
    private <T> T allocate(java.util.function.Supplier<T> make) {
        for (int attempt = 0; ; attempt++) {
            try {
                return make.get();
            } catch (OutOfMemoryError e) {
                if (attempt == 3) throw e;
                pausedUntil = System.nanoTime() + 10_000_000_000L;
                clear();
                System.gc();
                try {
                    Thread.sleep(50L << attempt);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                clear();
            }
        }
    }

    /** Caching is paused until this System.nanoTime() after the heap ran out. */
    private volatile long pausedUntil = System.nanoTime();

    private static void zero(float[] a) {
        Parallel.forRange(a.length, 1 << 20, (lo, hi) -> java.util.Arrays.fill(a, lo, hi, 0f));
    }

    private static void zero(double[] a) {
        Parallel.forRange(a.length, 1 << 19, (lo, hi) -> java.util.Arrays.fill(a, lo, hi, 0.0));
    }
}
