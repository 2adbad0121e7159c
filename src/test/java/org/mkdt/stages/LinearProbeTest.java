package org.mkdt.stages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.apache.commons.rng.sampling.distribution.ZigguratSampler;
import org.apache.commons.rng.simple.RandomSource;
import org.junit.jupiter.api.Test;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.io.NdArray;

class LinearProbeTest {
    /** Three Gaussian blobs in 6-D, centres 4 apart, unit noise. */
    private static Object[] blobs(int n, long seed) {
        ZigguratSampler.NormalizedGaussian gauss = ZigguratSampler.NormalizedGaussian.of(RandomSource.XO_RO_SHI_RO_128_PP.create(seed));
        double[] x = new double[n * 6];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 3;
            for (int j = 0; j < 6; j++) x[i * 6 + j] = gauss.sample() + (j == y[i] ? 4 : 0);
        }
        return new Object[] {NdArray.of(x, n, 6), y};
    }

    @Test
    void separatesBlobsAndStopsAtAStationaryPoint() {
        Object[] train = blobs(90, 1), test = blobs(300, 2);
        LinearProbe.Model m = LinearProbe.fit((NdArray) train[0], (int[]) train[1], 3, LinearProbe.L2, 500, CpuBackend.INSTANCE);
        assertTrue(!m.stop().startsWith("iteration limit"), m.stop());
        assertEquals(1.0, LinearProbe.accuracy(m, (NdArray) train[0], (int[]) train[1]), 1e-12);
        double acc = LinearProbe.accuracy(m, (NdArray) test[0], (int[]) test[1]);
        assertTrue(acc > 0.95, "held-out accuracy " + acc);
    }

    @Test
    void labelledSubsetIsSeededAndSized() {
        int[] a = LinearProbe.labelledSubset(60000, 0.01, 4);
        assertEquals(600, a.length);
        assertEquals(600, Arrays.stream(a).distinct().count());
        assertEquals(Arrays.toString(a), Arrays.toString(LinearProbe.labelledSubset(60000, 0.01, 4)));
    }
}
