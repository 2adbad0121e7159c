package org.mkdt.testing;

import static org.junit.jupiter.api.Assertions.fail;

import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.simple.RandomSource;

/** Elementwise comparison with atol + rtol * |expected|, naming the first bad index and both values. */
public final class Close {
    /** float32 against a float64 reference: rounding of K-term sums stays well inside 1e-4 relative. */
    public static final double F32_RTOL = 1e-4;
    public static final double F32_ATOL = 1e-5;

    private Close() {}

    public static void assertClose(double[] expected, double[] actual, double atol, double rtol, String what) {
        if (expected.length != actual.length) fail(what + ": length " + actual.length + " != expected " + expected.length);
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(actual[i] - expected[i]);
            worst = Math.max(worst, err);
            if (!(err <= atol + rtol * Math.abs(expected[i]))) {
                fail(String.format("%s: index %d: got %.9g, expected %.9g (|diff| %.3g > %.3g + %.3g*|ref|; %d elements)",
                        what, i, actual[i], expected[i], err, atol, rtol, expected.length));
            }
        }
    }

    public static void assertClose(double[] expected, float[] actual, double atol, double rtol, String what) {
        double[] a = new double[actual.length];
        for (int i = 0; i < a.length; i++) a[i] = actual[i];
        assertClose(expected, a, atol, rtol, what);
    }

    /** Seeded U(-1, 1) values. */
    /**
     * max |expected - actual| within tolerance * max |expected|: a bound relative to the whole
     * vector's scale (for a gradient, whose small entries carry no relative precision). Fails
     * when expected vanishes, since agreeing with zero proves nothing.
     */
    public static void assertScaled(double[] expected, double[] actual, double tolerance, String what) {
        double scale = 0, err = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            err = Math.max(err, Math.abs(expected[i] - actual[i]));
        }
        if (!(scale > 0)) fail(what + " vanishes: the comparison proves nothing");
        if (!(err <= tolerance * scale)) fail(what + ": max error " + err + " vs scale " + scale + " (tolerance " + tolerance + ")");
    }

    public static double[] uniform(long seed, int n) {
        UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = 2 * rng.nextDouble() - 1;
        return v;
    }
}
