package org.mkdt.backend.cpu;

import org.mkdt.backend.Backend;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.MemoryStats;
import org.mkdt.tensor.Storage;

/** Heap storage: a float[] for float32, a double[] for float64 (exactly one is non-null). */
final class CpuStorage extends Storage {
    private final CpuBackend backend;
    private float[] f;
    private double[] d;

    private static final class HeapRelease extends Release {
        HeapRelease(MemoryStats stats, long bytes) {
            super(stats, bytes);
        }

        @Override
        protected void free() {
            // The arrays go with the storage object; nothing to hand back.
        }
    }

    CpuStorage(CpuBackend backend, DType dtype, int numel) {
        super(dtype, numel, new HeapRelease(backend.memory(), (long) numel * dtype.bytes()));
        this.backend = backend;
        if (dtype == DType.F32) f = new float[numel];
        else d = new double[numel];
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public void release() {
        super.release();
        f = null;
        d = null;
    }

    float[] floats() {
        checkLive();
        return f;
    }

    double[] doubles() {
        checkLive();
        return d;
    }
}
