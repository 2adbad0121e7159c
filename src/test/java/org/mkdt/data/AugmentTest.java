package org.mkdt.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.apache.commons.rng.simple.RandomSource;
import org.junit.jupiter.api.Test;

class AugmentTest {
    private static float[] image(int c, int h, int w) {
        float[] v = new float[c * h * w];
        for (int i = 0; i < v.length; i++) v[i] = (float) ((i * 37 % 101) / 100.0);
        return v;
    }

    @Test
    void flipTwiceIsIdentityAndMirrorsRows() {
        float[] img = image(3, 4, 5), f = img.clone();
        Augment.flip(f, 3, 4, 5);
        assertEquals(img[4], f[0]);
        Augment.flip(f, 3, 4, 5);
        assertArrayEquals(img, f);
    }

    @Test
    void fullCropIsIdentityAndGrayscaleEqualisesChannels() {
        float[] img = image(3, 6, 6);
        assertArrayEquals(img, Augment.resizeBilinear(img, 3, 6, 6, 0, 0, 6, 6), 1e-6f);
        float[] g = img.clone();
        Augment.grayscale(g, 36);
        for (int i = 0; i < 36; i++) {
            assertEquals(g[i], g[36 + i]);
            assertEquals(g[i], g[72 + i]);
        }
    }

    @Test
    void hueRotationByAFullTurnChangesNothingAndGreyHasNoHue() {
        float[] img = image(3, 4, 4), h = img.clone();
        Augment.shiftHue(h, 16, 1.0);
        assertArrayEquals(img, h, 1e-5f);
        float[] grey = new float[48];
        Arrays.fill(grey, 0.3f);
        Augment.shiftHue(grey, 16, 0.25);
        for (float v : grey) assertEquals(0.3f, v);
    }

    @Test
    void viewsAreSeededStayInRangeAndDiffer() {
        float[] img = image(3, 8, 8);
        float[] a = Augment.view(img, 3, 8, 8, Augment.DEFAULT_CROP_MIN, RandomSource.XO_RO_SHI_RO_128_PP.create(5L));
        float[] b = Augment.view(img, 3, 8, 8, Augment.DEFAULT_CROP_MIN, RandomSource.XO_RO_SHI_RO_128_PP.create(5L));
        float[] c = Augment.view(img, 3, 8, 8, Augment.DEFAULT_CROP_MIN, RandomSource.XO_RO_SHI_RO_128_PP.create(6L));
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
        for (float v : a) assertTrue(v >= 0 && v <= 1, "value out of [0, 1]: " + v);
        float[] one = Augment.view(image(1, 8, 8), 1, 8, 8, Augment.DEFAULT_CROP_MIN, RandomSource.XO_RO_SHI_RO_128_PP.create(5L));
        assertEquals(64, one.length);
    }

    @Test
    void aCropOfTheWholeAreaKeepsTheImageAndTheBoundIsChecked() {
        // cropMin = 1 leaves only crops of the full area: on a square image every accepted
        // aspect ratio rounds to the full square, so the crop is the identity.
        float[] img = image(1, 8, 8);
        var rng = RandomSource.XO_RO_SHI_RO_128_PP.create(5L);
        for (int t = 0; t < 20; t++) assertArrayEquals(img, Augment.randomResizedCrop(img, 1, 8, 8, 1.0, rng), 1e-6f);
        boolean smaller = false;
        for (int t = 0; t < 20; t++) smaller |= !Arrays.equals(img, Augment.randomResizedCrop(img, 1, 8, 8, Augment.DEFAULT_CROP_MIN, rng));
        assertTrue(smaller, "the default bound crops");
        for (double bad : new double[] {0, -0.1, 1.5, Double.NaN}) {
            assertThrows(IllegalArgumentException.class, () -> Augment.view(img, 1, 8, 8, bad, rng), "cropMin " + bad);
        }
    }

    @Test
    void greyImagesGetBrightnessAndContrastJitter() {
        // A grey view changes more than crop and flip can explain: brightness scales every
        // pixel, contrast pulls towards the mean, and values stay in [0, 1].
        float[] img = image(1, 8, 8);
        boolean changedStatistics = false;
        var rng = RandomSource.XO_RO_SHI_RO_128_PP.create(5L);
        for (int t = 0; t < 20; t++) {
            float[] j = img.clone();
            Augment.greyJitter(j, 0.4, 0.4, rng);
            double m0 = 0, m1 = 0;
            for (int i = 0; i < j.length; i++) {
                assertTrue(j[i] >= 0 && j[i] <= 1, "pixel " + j[i]);
                m0 += img[i];
                m1 += j[i];
            }
            changedStatistics |= Math.abs(m1 - m0) / j.length > 0.02;
        }
        assertTrue(changedStatistics, "brightness jitter never moved the mean");
        float[] identity = img.clone();
        Augment.greyJitter(identity, 0, 0, rng);
        assertArrayEquals(img, identity, 1e-6f);
    }
}
