package org.mkdt.bench;

import org.mkdt.backend.Backend;
import org.mkdt.backend.cuda.CudaBackend;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/** Setup shared by the CUDA benchmarks (and the CPU convolution one): the backend (or a clear failure) and seeded tensors. */
final class CudaBench {
    private CudaBench() {}

    static CudaBackend backend() {
        try {
            return CudaBackend.get();
        } catch (IllegalStateException e) {
            throw new IllegalStateException("CUDA benchmarks need a GPU: " + e.getMessage());
        }
    }

    /** U(-1, 1) values, seeded, as a float32 device tensor (never zeros: they can run faster). */
    static Tensor random(Backend b, long seed, int... dims) {
        Shape s = Shape.of(dims);
        float[] v = new float[s.numel()];
        var rng = org.apache.commons.rng.simple.RandomSource.XO_RO_SHI_RO_128_PP.create(seed);
        for (int i = 0; i < v.length; i++) v[i] = (float) (2 * rng.nextDouble() - 1);
        return Tensor.of(b, s, v);
    }

    static Tensor zeros(Backend b, int... dims) {
        return Tensor.zeros(b, DType.F32, Shape.of(dims));
    }
}
