package org.mkdt.backend.cpu;

import org.mkdt.backend.Backend;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.MemoryStats;
import org.mkdt.tensor.Storage;

/** Heap storage: a float[] for float32, a double[] for float64 (exactly one is non-null). */
final class CpuStorage extends Storage {
    private final CpuBackend backend;
    private final HeapRelease heap;

    /** Owns the array, so that the release (explicit, by scope, or by the cleaner) can pool it. */
    private static final class HeapRelease extends Release {
        private final ArrayPool pool;
        private volatile float[] f;
        private volatile double[] d;

        HeapRelease(MemoryStats stats, ArrayPool pool, DType dtype, int numel, Fill fill) {
            super(stats, (long) numel * dtype.bytes());
            this.pool = pool;
            if (dtype == DType.F32) f = pool.floats(numel, fill == Fill.ZERO);
            else d = pool.doubles(numel, fill == Fill.ZERO);
            if (fill == Fill.NAN) {
                if (f != null) java.util.Arrays.fill(f, Float.NaN);
                else java.util.Arrays.fill(d, Double.NaN);
            }
        }

        @Override
        protected void free() {
            if (f != null) pool.give(f);
            if (d != null) pool.give(d);
            f = null;
            d = null;
        }
    }

    /** What a new storage holds: zeros, whatever a reused array held, or NaN (the poisoning check of uninitialised outputs). */
    enum Fill { ZERO, ANY, NAN }

    CpuStorage(CpuBackend backend, ArrayPool pool, DType dtype, int numel, Fill fill) {
        this(backend, new HeapRelease(backend.memory(), pool, dtype, numel, fill), dtype, numel);
    }

    private CpuStorage(CpuBackend backend, HeapRelease heap, DType dtype, int numel) {
        super(dtype, numel, heap);
        this.backend = backend;
        this.heap = heap;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    float[] floats() {
        checkLive();
        return heap.f;
    }

    double[] doubles() {
        checkLive();
        return heap.d;
    }
}
