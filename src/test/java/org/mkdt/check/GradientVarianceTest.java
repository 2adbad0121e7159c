package org.mkdt.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.check.GradientVariance.Report;
import org.mkdt.check.GradientVariance.Settings;
import org.mkdt.data.ImageSet;
import org.mkdt.data.Normalization;

/** {@code check variance}'s measurement on small seeded images: its statistics, its claim, its determinism. */
class GradientVarianceTest {
    static final Settings SMALL = new Settings(4, 16, 4, 2, 3, 0.1, 0.005, 32, 0.005, 3);

    @Test
    void noiseOfIdenticalGradientsIsZeroAndOfOpposedOnesExceedsOne() {
        GradientVariance.Noise same = GradientVariance.noise("same", List.of(new double[] {1, 2}, new double[] {1, 2}, new double[] {1, 2}));
        assertEquals(0, same.relativeVariance(), 1e-15);
        assertEquals(1, same.meanCosine(), 1e-12);
        // mean (1, 0); deviations (0, +-1): sum of squares 2 over K - 1 = 1, over |mean|^2 = 1
        GradientVariance.Noise noisy = GradientVariance.noise("noisy", List.of(new double[] {1, 1}, new double[] {1, -1}));
        assertEquals(2.0, noisy.relativeVariance(), 1e-12);
        assertEquals(1.0, noisy.meanNorm(), 1e-12);
    }

    @Test
    void kdGradientsAreSteadierThanBarlowTwinsAndTheReportRepeatsToTheBit() {
        ImageSet images = images(64, 11), heldOut = images(8, 12);
        Normalization norm = Normalization.of(images);
        Report a = GradientVariance.measure(images, heldOut, norm, null, SMALL, CpuBackend.INSTANCE);
        Report b = GradientVariance.measure(images, heldOut, norm, null, SMALL, CpuBackend.INSTANCE);
        assertEquals(a, b);
        for (GradientVariance.Noise n : new GradientVariance.Noise[] {a.kd(), a.bt(), a.btAugmentations(), a.kdEnd(), a.btEnd()}) {
            assertTrue(Double.isFinite(n.relativeVariance()) && n.relativeVariance() > 0, n.toString());
        }
        assertTrue(a.kd().relativeVariance() < a.bt().relativeVariance(), a.kd() + " vs " + a.bt());
        assertTrue(a.kdRuns().travelled() > 0 && a.btRuns().travelled() > 0 && a.kdRuns().pairwise() > 0, a.kdRuns() + " " + a.btRuns());
    }

    @Test
    void tooFewImagesOrAWrongSizeIsRefused() {
        ImageSet few = images(20, 1);
        Normalization norm = Normalization.of(few);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GradientVariance.measure(few, few, norm, null, SMALL, CpuBackend.INSTANCE))
                .getMessage().contains("at least 2 minibatches"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Settings(4, 16, 1, 2, 3, 0.1, 0.005, 32, 0.005, 3))
                .getMessage().contains("minibatches"));
    }

    static ImageSet images(int n, long seed) {
        return org.mkdt.testing.Blobs.images(n, seed);
    }
}
