package org.mkdt.backend.cuda;

import jcuda.driver.CUdeviceptr;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Tensor;

/** Shared helpers of the kernel classes: device addresses of tensors, with checks. */
final class Kernels {
    static final int BLOCK = 256;

    private Kernels() {}

    /** The device address of {@code t}'s first element; t must be a float32 tensor of this backend. */
    static CUdeviceptr ptr(Tensor t) {
        if (t == null) return null;
        if (!(t.storage() instanceof CudaStorage s)) {
            throw new IllegalArgumentException("tensor on backend " + t.backend().name() + " passed to the CUDA backend");
        }
        if (t.dtype() != DType.F32) throw new IllegalArgumentException(CudaBackend.F32_ONLY);
        return s.pointer(t.offset());
    }

    /** The address {@code elements} floats past {@code base}. */
    static CUdeviceptr plus(CUdeviceptr base, long elements) {
        return elements == 0 ? base : base.withByteOffset(elements * Float.BYTES);
    }
}
