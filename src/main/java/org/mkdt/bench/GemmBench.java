package org.mkdt.bench;

import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.simple.RandomSource;
import org.mkdt.backend.Backend;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/** C = A B for n x n float32 matrices with seeded uniform entries: the SGEMM figure. */
public final class GemmBench {
    private final Backend backend;
    private final int n;
    private final Tensor a;
    private final Tensor b;
    private final Tensor c;

    public GemmBench(Backend backend, int n) {
        this.backend = backend;
        this.n = n;
        UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(n);
        this.a = Tensor.of(backend, DType.F32, Shape.of(n, n), uniform(rng, n * n));
        this.b = Tensor.of(backend, DType.F32, Shape.of(n, n), uniform(rng, n * n));
        this.c = Tensor.zeros(backend, DType.F32, Shape.of(n, n));
    }

    static double[] uniform(UniformRandomProvider rng, int count) {
        double[] v = new double[count];
        for (int i = 0; i < count; i++) v[i] = 2 * rng.nextDouble() - 1;
        return v;
    }

    public int n() {
        return n;
    }

    /** Floating-point operations of one product. */
    public double flops() {
        return 2.0 * n * n * n;
    }

    /** One product into a preallocated C (kernel only, no allocation). Returns C for sinking. */
    public Tensor run() {
        backend.gemm(a, false, b, false, c);
        return c;
    }
}
