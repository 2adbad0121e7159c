package org.mkdt.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Fitting a downstream data set to the student's input: channels, padding, and a filter that averages instead of picking. */
class ResampleTest {
    static ImageSet of(int channels, int h, int w, int... pixels) {
        return new ImageSet("test", toBytes(pixels), 1, channels, h, w, new int[] {0}, List.of("a"));
    }

    static byte[] toBytes(int[] v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) b[i] = (byte) v[i];
        return b;
    }

    @Test
    void greyBecomesRgbByCopyingAndRgbBecomesGreyByLuma() {
        ImageSet grey = of(1, 1, 2, 10, 200);
        ImageSet rgb = Resample.channels(grey, 3);
        assertEquals(3, rgb.channels());
        for (int k = 0; k < 3; k++) {
            assertEquals(10, rgb.pixels()[2 * k] & 0xff);
            assertEquals(200, rgb.pixels()[2 * k + 1] & 0xff);
        }
        ImageSet red = of(3, 1, 1, 255, 0, 0);
        assertEquals(Math.round(0.299 * 255), Resample.channels(red, 1).pixels()[0] & 0xff);
        assertSame(grey, Resample.channels(grey, 1));
    }

    @Test
    void aReductionAveragesEverySourcePixelSoACheckerboardTurnsGrey() {
        int n = 64;
        int[] board = new int[n * n];
        for (int y = 0; y < n; y++) for (int x = 0; x < n; x++) board[y * n + x] = (x + y) % 2 == 0 ? 0 : 255;
        ImageSet small = Resample.resize(of(1, n, n, board), 16, 16);
        for (byte b : small.pixels()) assertTrue(Math.abs((b & 0xff) - 128) <= 2, "nearest-neighbour would give 0 or 255, got " + (b & 0xff));
    }

    @Test
    void aConstantImageStaysConstantAndAnEnlargedRampStaysMonotonic() {
        int[] flat = new int[20 * 20];
        java.util.Arrays.fill(flat, 77);
        for (byte b : Resample.resize(of(1, 20, 20, flat), 32, 32).pixels()) assertEquals(77, b & 0xff);
        ImageSet ramp = Resample.resize(of(1, 1, 4, 0, 80, 160, 240), 1, 16);
        for (int i = 1; i < 16; i++) assertTrue((ramp.pixels()[i] & 0xff) >= (ramp.pixels()[i - 1] & 0xff), "not monotonic at " + i);
        for (Resample.Taps t : Resample.weights(7, 3)) {
            double sum = 0;
            for (double v : t.weights()) sum += v;
            assertEquals(1.0, sum, 1e-12);
        }
    }

    @Test
    void twentyEightPixelsArePaddedToThirtyTwoAndOddInputsAreRefused() {
        ImageSet mnist = new ImageSet("m", new byte[28 * 28], 1, 1, 28, 28, new int[] {0}, List.of("a"));
        ImageSet fitted = Resample.convert(mnist, 3, 32);
        assertEquals(32, fitted.height());
        assertEquals(3, fitted.channels());
        ImageSet four = new ImageSet("rgba", new byte[4], 1, 4, 1, 1, new int[] {0}, List.of("a"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Resample.convert(four, 3, 32)).getMessage().contains("4 channels"));
    }
}
