package org.mkdt.backend.cpu;

import org.mkdt.tensor.Tensor;

/**
 * The reverse sweep's fused update a -= alpha * h (one rounding per element: the product and
 * difference are taken in double), plus dAlpha -= s when s is given.
 */
final class AdjointKernel {
    private AdjointKernel() {}

    static void step(Tensor a, Tensor h, double alpha, Tensor s, Tensor dAlpha) {
        Buf ab = Buf.of(a), hb = Buf.of(h);
        int n = a.numel();
        Parallel.forRange(n, Parallel.grain(n, 2, 1 << 15), (lo, hi) -> {
            for (int i = lo; i < hi; i++) ab.set(i, ab.get(i) - alpha * hb.get(i));
        });
        if (s != null) {
            Buf d = Buf.of(dAlpha);
            d.set(0, d.get(0) - Buf.of(s).get(0));
        }
    }
}
