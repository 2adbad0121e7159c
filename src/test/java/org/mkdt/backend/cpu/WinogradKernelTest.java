package org.mkdt.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mkdt.testing.Close;

/**
 * Winograd's three transforms on vectors against the per-tile formulas written out plainly:
 * the same bits for every shape (whole vectors, a scalar tail, a single tile column), at an
 * offset and stride like the convolution's.
 */
class WinogradKernelTest {
    @ParameterizedTest(name = "h={0} w={1}")
    @CsvSource({"2,2", "2,8", "4,4", "6,10", "8,8", "16,16", "32,32", "10,2", "34,18"})
    void vectorInputTransformEqualsThePerTileFormulaBitForBit(int h, int w) {
        double[] u = Close.uniform(h * 31L + w, 3 + h * w);
        float[] x = new float[u.length];
        for (int i = 0; i < x.length; i++) x[i] = (float) u[i];
        int xo = 3, tiles = (h / 2) * (w / 2), off = 5, stride = tiles + 7;
        float[] v = new float[off + 16 * stride], expected = new float[v.length];
        java.util.Arrays.fill(v, Float.NaN); // every position of every tile must be written
        java.util.Arrays.fill(expected, Float.NaN);
        WinogradKernel.transformInput(x, xo, h, w, new float[WinogradKernel.inputScratch(h, w)], v, off, stride);
        for (int ty = 0; ty < h / 2; ty++) {
            for (int tx = 0; tx < w / 2; tx++) {
                float[][] d = new float[4][4]; // the 4x4 window around output tile (ty, tx), zero outside the plane
                for (int r = 0; r < 4; r++) {
                    for (int c = 0; c < 4; c++) {
                        int yy = 2 * ty + r - 1, xx = 2 * tx + c - 1;
                        d[r][c] = yy < 0 || yy >= h || xx < 0 || xx >= w ? 0f : x[xo + yy * w + xx];
                    }
                }
                float[][] e = new float[4][4]; // B^T d
                for (int c = 0; c < 4; c++) {
                    e[0][c] = d[0][c] - d[2][c];
                    e[1][c] = d[1][c] + d[2][c];
                    e[2][c] = d[2][c] - d[1][c];
                    e[3][c] = d[1][c] - d[3][c];
                }
                int t = off + ty * (w / 2) + tx;
                for (int r = 0; r < 4; r++) { // (B^T d) B
                    expected[t + (4 * r) * stride] = e[r][0] - e[r][2];
                    expected[t + (4 * r + 1) * stride] = e[r][1] + e[r][2];
                    expected[t + (4 * r + 2) * stride] = e[r][2] - e[r][1];
                    expected[t + (4 * r + 3) * stride] = e[r][1] - e[r][3];
                }
            }
        }
        for (int i = 0; i < v.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(v[i]), "element " + i + ": " + expected[i] + " vs " + v[i]);
        }
    }

    @ParameterizedTest(name = "h={0} w={1}")
    @CsvSource({"2,2", "2,8", "4,4", "6,10", "8,8", "16,16", "32,32", "10,2", "34,18"})
    void vectorOutputTransformsEqualThePerTileFormulasBitForBit(int h, int w) {
        int th = h / 2, tw = w / 2, tiles = th * tw, off = 5, stride = tiles + 7, yo = 3;
        float bias = 0.375f;
        float[] m = floats(h * 7L + w, off + 16 * stride), dy = floats(h * 11L + w, yo + h * w);
        float[] q = new float[WinogradKernel.inputScratch(h, w)];
        // Y = A^T M A + bias, tile by tile
        float[] y = new float[yo + h * w], expected = new float[y.length];
        WinogradKernel.transformOutput(m, off, stride, h, w, bias, q, y, yo);
        // dM = A dY A^T, tile by tile
        float[] dm = new float[off + 16 * stride], expectedDm = new float[dm.length];
        java.util.Arrays.fill(dm, Float.NaN);
        java.util.Arrays.fill(expectedDm, Float.NaN);
        WinogradKernel.transformOutputGrad(dy, yo, h, w, q, dm, off, stride);
        for (int ty = 0; ty < th; ty++) {
            for (int tx = 0; tx < tw; tx++) {
                int t = off + ty * tw + tx, at = yo + 2 * ty * w + 2 * tx;
                float[] r = new float[8]; // A^T M: row 0 = M rows 0 + 1 + 2, row 1 = M rows 1 - 2 - 3
                for (int c = 0; c < 4; c++) {
                    r[c] = m[t + c * stride] + m[t + (4 + c) * stride] + m[t + (8 + c) * stride];
                    r[4 + c] = m[t + (4 + c) * stride] - m[t + (8 + c) * stride] - m[t + (12 + c) * stride];
                }
                expected[at] = r[0] + r[1] + r[2] + bias;
                expected[at + 1] = r[1] - r[2] - r[3] + bias;
                expected[at + w] = r[4] + r[5] + r[6] + bias;
                expected[at + w + 1] = r[5] - r[6] - r[7] + bias;

                float a = dy[at], b = dy[at + 1], c = dy[at + w], d = dy[at + w + 1];
                float[][] p = {{a, b}, {a + c, b + d}, {a - c, b - d}, {-c, -d}}; // A dY
                for (int i = 0; i < 4; i++) { // (A dY) A^T
                    expectedDm[t + (4 * i) * stride] = p[i][0];
                    expectedDm[t + (4 * i + 1) * stride] = p[i][0] + p[i][1];
                    expectedDm[t + (4 * i + 2) * stride] = p[i][0] - p[i][1];
                    expectedDm[t + (4 * i + 3) * stride] = -p[i][1];
                }
                expectedDm[t + 13 * stride] = -c - d; // the formula's own order for row 3: (-c) - d, d - c
                expectedDm[t + 14 * stride] = d - c;
                expectedDm[t + 15 * stride] = d;
            }
        }
        bits(expected, y, "transformOutput");
        bits(expectedDm, dm, "transformOutputGrad");
    }

    private static float[] floats(long seed, int n) {
        double[] u = Close.uniform(seed, n);
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = (float) u[i];
        return f;
    }

    private static void bits(float[] expected, float[] actual, String what) {
        for (int i = 0; i < actual.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]), what + " element " + i + ": " + expected[i] + " vs " + actual[i]);
        }
    }
}
