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

        HeapRelease(MemoryStats stats, ArrayPool pool, DType dtype, int numel) {
            super(stats, (long) numel * dtype.bytes());
            this.pool = pool;
            if (dtype == DType.F32) f = pool.floats(numel);
            else d = pool.doubles(numel);
        }

        @Override
        protected void free() {
            if (f != null) pool.give(f);
            if (d != null) pool.give(d);
            f = null;
            d = null;
        }
    }

    CpuStorage(CpuBackend backend, ArrayPool pool, DType dtype, int numel) {
        this(backend, new HeapRelease(backend.memory(), pool, dtype, numel), dtype, numel);
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
