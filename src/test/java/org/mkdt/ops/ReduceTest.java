package org.mkdt.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.mkdt.testing.Close.uniform;

import org.junit.jupiter.api.Test;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/** Sums over every subset of axes of a rank-4 tensor against a naive loop; broadcasting likewise. */
class ReduceTest {
    private static final int[] D = {3, 4, 5, 6};

    @Test
    void sumOverEveryAxisSubset() {
        double[] x = uniform(21, 3 * 4 * 5 * 6);
        Tensor t = Tensor.of(CpuBackend.INSTANCE, DType.F64, Shape.of(D), x);
        for (int mask = 0; mask < 16; mask++) {
            int m = mask;
            int[] axes = java.util.stream.IntStream.range(0, 4).filter(i -> (m & (1 << i)) != 0).toArray();
            Tensor s = Reduce.sum(t, true, axes);
            assertArrayEquals(naiveSum(x, m), s.toDoubleArray(), 1e-12, "axes mask " + m);
            Tensor mx = Reduce.maxConstant(t, axes);
            assertArrayEquals(naiveMax(x, m), mx.toDoubleArray(), 0.0, "max, axes mask " + m);
        }
    }

    private static double[] naiveSum(double[] x, int mask) {
        return naive(x, mask, false);
    }

    private static double[] naiveMax(double[] x, int mask) {
        return naive(x, mask, true);
    }

    private static double[] naive(double[] x, int mask, boolean max) {
        int[] o = D.clone();
        for (int i = 0; i < 4; i++) if ((mask & (1 << i)) != 0) o[i] = 1;
        double[] out = new double[o[0] * o[1] * o[2] * o[3]];
        if (max) java.util.Arrays.fill(out, Double.NEGATIVE_INFINITY);
        for (int a = 0; a < D[0]; a++) for (int b = 0; b < D[1]; b++) for (int c = 0; c < D[2]; c++) for (int d = 0; d < D[3]; d++) {
            int oi = (((a % o[0]) * o[1] + b % o[1]) * o[2] + c % o[2]) * o[3] + d % o[3];
            double v = x[((a * D[1] + b) * D[2] + c) * D[3] + d];
            out[oi] = max ? Math.max(out[oi], v) : out[oi] + v;
        }
        return out;
    }

    @Test
    void broadcastingAddMatchesExplicitExpansion() {
        double[] a = uniform(22, 3 * 1 * 5), b = uniform(23, 4 * 1);
        Tensor ta = Tensor.of(CpuBackend.INSTANCE, DType.F64, Shape.of(3, 1, 5), a);
        Tensor tb = Tensor.of(CpuBackend.INSTANCE, DType.F64, Shape.of(4, 1), b);
        Tensor s = Elementwise.add(ta, tb);
        assertEquals(Shape.of(3, 4, 5), s.shape());
        double[] got = s.toDoubleArray();
        for (int i = 0; i < 3; i++) for (int j = 0; j < 4; j++) for (int k = 0; k < 5; k++) {
            assertEquals(a[i * 5 + k] + b[j], got[(i * 4 + j) * 5 + k], 0.0);
        }
    }
}
