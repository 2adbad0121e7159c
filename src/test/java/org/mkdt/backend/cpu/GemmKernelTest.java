package org.mkdt.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.mkdt.testing.Close.assertClose;
import static org.mkdt.testing.Close.uniform;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The float32 micro-kernel GEMM against the float64 reference at sizes around every blocking edge. */
class GemmKernelTest {

    @ParameterizedTest(name = "m={0} n={1} k={2}")
    @CsvSource({"1,1,1", "31,33,17", "33,31,1", "8,32,512", "97,65,513", "1,1000,3", "200,300,700", "7,4097,5"})
    void matchesReferenceForEveryTransposeAndAccumulate(int m, int n, int k) {
        for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
            double[] a = uniform(1, m * k), b = uniform(2, k * n), c0 = uniform(3, m * n);
            int lda = ta ? m : k, ldb = tb ? k : n;
            for (boolean acc : new boolean[] {false, true}) {
                double[] ref = c0.clone();
                GemmReference.dgemm(m, n, k, a, 0, lda, ta, b, 0, ldb, tb, ref, 0, n, acc);
                float[] c = toFloat(c0);
                GemmKernel.sgemm(m, n, k, toFloat(a), 0, lda, ta, toFloat(b), 0, ldb, tb, c, 0, n, acc);
                // Sums of k products of |x| <= 1: float32 rounding grows like sqrt(k) * 6e-8.
                double atol = 1e-6 * Math.sqrt(k) + 1e-6;
                assertClose(ref, c, atol, 1e-4, "sgemm ta=" + ta + " tb=" + tb + " acc=" + acc);
                for (GemmKernel.Tile tile : GemmKernel.Tile.values()) {
                    float[] d = toFloat(c0);
                    GemmKernel.sgemmSerial(tile, m, n, k, toFloat(a), 0, lda, ta, toFloat(b), 0, ldb, tb, d, 0, n, acc);
                    assertClose(ref, d, atol, 1e-4, "sgemm tile " + tile + " ta=" + ta + " tb=" + tb + " acc=" + acc);
                }
            }
        }
    }

    @ParameterizedTest(name = "m={0} n={1} k={2}")
    @CsvSource({"64,96,300", "200,300,700"})
    void isDeterministic(int m, int n, int k) {
        float[] a = toFloat(uniform(4, m * k)), b = toFloat(uniform(5, k * n));
        float[] c1 = new float[m * n], c2 = new float[m * n], c3 = new float[m * n];
        GemmKernel.sgemm(m, n, k, a, 0, k, false, b, 0, n, false, c1, 0, n, false);
        GemmKernel.sgemm(m, n, k, a, 0, k, false, b, 0, n, false, c2, 0, n, false);
        // The serial kernel sums in the same order as the parallel one: bits agree for any thread count.
        GemmKernel.sgemmSerial(m, n, k, a, 0, k, false, b, 0, n, false, c3, 0, n, false);
        assertArrayEquals(c1, c2);
        assertArrayEquals(c1, c3);
    }

    /** A packed once (a convolution's weights) gives the bits of packing it per call, at offsets, for both layouts of A. */
    @ParameterizedTest(name = "m={0} n={1} k={2}")
    @CsvSource({"1,1,1", "13,40,27", "97,65,513", "128,512,1152", "200,33,1030"})
    void packedAMatchesUnpackedBitForBit(int m, int n, int k) {
        for (boolean ta : new boolean[] {false, true}) {
            int lda = ta ? m : k, offA = 5, offB = 3, offC = 7;
            float[] a = toFloat(uniform(6, offA + m * k)), b = toFloat(uniform(7, offB + k * n));
            GemmKernel.PackedA packed = GemmKernel.pack(m, k, a, offA, lda, ta);
            // Packed into reused scratch at an offset: every float it reads is written (NaN poison)
            float[] scratch = new float[11 + GemmKernel.packedSize(m, k) + 5];
            java.util.Arrays.fill(scratch, Float.NaN);
            GemmKernel.PackedA into = GemmKernel.packInto(m, k, a, offA, lda, ta, scratch, 11);
            java.util.Arrays.fill(a, Float.NaN); // the packed copy must not read A again
            float[] aAgain = toFloat(uniform(6, offA + m * k));
            for (boolean acc : new boolean[] {false, true}) {
                float[] c1 = toFloat(uniform(8, offC + m * n)), c2 = c1.clone();
                GemmKernel.sgemmSerial(m, n, k, aAgain, offA, lda, ta, b, offB, n, false, c1, offC, n, acc);
                float[] c3 = c2.clone();
                GemmKernel.sgemmSerial(packed, n, b, offB, n, false, c2, offC, n, acc);
                assertArrayEquals(c1, c2, "ta=" + ta + " acc=" + acc);
                GemmKernel.sgemmSerial(into, n, b, offB, n, false, c3, offC, n, acc);
                assertArrayEquals(c1, c3, "packed into scratch, ta=" + ta + " acc=" + acc);
            }
        }
    }

    static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }
}
