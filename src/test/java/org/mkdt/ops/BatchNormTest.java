package org.mkdt.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.mkdt.testing.Close.uniform;

import org.junit.jupiter.api.Test;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

class BatchNormTest {
    private static final CpuBackend CPU = CpuBackend.INSTANCE;

    private static Tensor t(double[] v, int... dims) {
        return Tensor.of(CPU, DType.F64, Shape.of(dims), v);
    }

    @Test
    void trainingNormalisesPerChannelAndUpdatesRunningStatistics() {
        // Two channels over a batch of 4: channel 0 = 1, 2, 3, 4 (mean 2.5, biased var 1.25, unbiased 5/3).
        Tensor x = t(new double[] {1, 10, 2, 10, 3, 10, 4, 10}, 4, 2);
        BatchNorm.RunningStats stats = new BatchNorm.RunningStats(2);
        Tensor y = BatchNorm.train(x, t(new double[] {1, 1}, 2), t(new double[] {0, 0}, 2), stats);
        double s = 1 / Math.sqrt(1.25 + 1e-5);
        assertArrayEquals(new double[] {-1.5 * s, 0, -0.5 * s, 0, 0.5 * s, 0, 1.5 * s, 0}, y.toDoubleArray(), 1e-12);
        assertArrayEquals(new double[] {0.25, 1.0}, stats.mean(), 1e-12);
        assertArrayEquals(new double[] {0.9 + 0.1 * 5.0 / 3.0, 0.9}, stats.var(), 1e-12);
        Tensor e = BatchNorm.eval(t(new double[] {0.25, 1.0}, 1, 2), t(new double[] {2, 1}, 2), t(new double[] {1, 0}, 2), stats);
        assertArrayEquals(new double[] {1, 0}, e.toDoubleArray(), 1e-12);
    }

    @Test
    void barlowTwinsIsZeroForIdenticalViewsWithoutRedundancyTermAndFourPerDimensionForOpposite() {
        double[] z = uniform(31, 64 * 3);
        Tensor z1 = t(z, 64, 3);
        double[] neg = z.clone();
        for (int i = 0; i < neg.length; i++) neg[i] = -neg[i];
        assertEquals(0.0, Loss.barlowTwins(z1, z1, 0.0).item(), 1e-8);
        // C_ii = -var / (var + eps), so each of the 3 terms is 4 less about 4 eps / var (var ~ 1/3).
        assertEquals(12.0, Loss.barlowTwins(z1, t(neg, 64, 3), 0.0).item(), 1e-3);
    }
}
