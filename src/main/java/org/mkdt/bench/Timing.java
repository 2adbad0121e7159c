package org.mkdt.bench;

import java.util.Arrays;
import java.util.function.DoubleSupplier;

/** Median-of-repeats timing for the quick bench command (JMH does the careful measurement). */
public final class Timing {
    /** Seconds: median, min, max over the timed repeats. */
    public record Stats(double median, double min, double max, int repeats) {}

    private static double sink;

    private Timing() {}

    /**
     * Runs {@code warmup} untimed calls (the JIT compiles the kernels during these), then
     * {@code repeats} timed ones.
     */
    public static Stats measure(int warmup, int repeats, DoubleSupplier body) {
        for (int i = 0; i < warmup; i++) sink += body.getAsDouble();
        double[] t = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            sink += body.getAsDouble();
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        Arrays.sort(t);
        double median = repeats % 2 == 1 ? t[repeats / 2] : 0.5 * (t[repeats / 2 - 1] + t[repeats / 2]);
        return new Stats(median, t[0], t[repeats - 1], repeats);
    }
}
