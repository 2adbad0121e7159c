package org.mkdt.backend.cpu;

/**
 * The float32 3x3 / stride 1 / padding 1 convolution by Winograd's minimal filtering
 * F(2x2, 3x3) (Lavin and Gray, 2016): each 2x2 output tile is A^T [(G g G^T) . (B^T d B)] A for
 * the 4x4 input window d around it, so the 36 multiplications of a direct tile become 16, and
 * the products over channels become 16 GEMMs, one per position of the 4x4 transformed tile:
 * M[xi] (Co, T) = U[xi] (Co, Ci) . V[xi] (Ci, T) over T tiles. That is 2.25x fewer
 * multiply-adds than im2col's GEMM on the student's 128-channel layers, for a few additions
 * per pixel in the two transforms. The transforms' coefficients are 0, +-1 and 1/2, so the
 * float32 result differs from the direct sum by rounding only (tested against float64).
 *
 * <p>Images are taken in groups of about {@link #GROUP_TILES} tiles, fixed by the shape alone;
 * groups run in parallel and each writes only its own images, so the bits do not depend on
 * the thread count.
 */
final class WinogradKernel {
    /** Tiles (GEMM columns) per image group: V and M of a 128-channel group stay near L2. */
    static final int GROUP_TILES = 256;
    /** Positions of the transformed 4x4 tile: one GEMM each. */
    private static final int XI = 16;
    /**
     * Floats between the 16 matrices of V (and of M) beyond their size: their sizes are
     * multiples of 4 KiB, so without it the transforms' 16 write (read) streams all fall in one
     * L1 set and evict each other (the input transform was 17% of a student step).
     */
    private static final int SKEW = 16;

    private WinogradKernel() {}

    /** Whether the transform applies: even planes (whole 2x2 tiles). */
    static boolean applies(int h, int w) {
        return h % 2 == 0 && w % 2 == 0 && h > 0 && w > 0;
    }

    /**
     * y (n, co, h, w) = x (n, ci, h, w) correlated with the 3x3 kernels wt (co, ci, 3, 3), plus
     * bias (or none); zero padding 1.
     */
    static void forward(float[] xs, int xo, float[] ws, int wo, float[] bs, int bo, int n, int ci, int h, int w, int co, float[] ys, int yo) {
        int th = h / 2, tw = w / 2, tiles = th * tw;
        int g = Math.max(1, Math.min(n, GROUP_TILES / tiles)), groups = (n + g - 1) / g;
        GemmKernel.PackedA[] u = transformWeights(ws, wo, co, ci);
        Parallel.forRange(groups, 1, (lo, hi) -> {
            for (int grp = lo; grp < hi; grp++) {
                int img0 = grp * g, gn = Math.min(g, n - img0), cols = gn * tiles;
                int vStride = ci * cols + SKEW, mStride = co * cols + SKEW;
                float[] v = Conv2dKernel.scratch(0, XI * vStride), m = Conv2dKernel.scratch(1, XI * mStride), pad = Conv2dKernel.scratch(2, (h + 2) * (w + 2));
                for (int i = 0; i < gn; i++) {
                    for (int c = 0; c < ci; c++) transformInput(xs, xo + ((img0 + i) * ci + c) * h * w, h, w, pad, v, c * cols + i * tiles, vStride);
                }
                for (int xi = 0; xi < XI; xi++) {
                    GemmKernel.sgemmSerial(u[xi], cols, v, xi * vStride, cols, false, m, xi * mStride, cols, false);
                }
                for (int i = 0; i < gn; i++) {
                    for (int o = 0; o < co; o++) {
                        float b = bs == null ? 0f : bs[bo + o];
                        transformOutput(m, o * cols + i * tiles, mStride, h, w, b, ys, yo + ((img0 + i) * co + o) * h * w);
                    }
                }
            }
        });
    }

    /**
     * dw (co, ci, 3, 3) = the weight gradient of {@link #forward} for input x (n, ci, h, w) and
     * output gradient dy (n, co, h, w). In the transformed domain the forward is
     * M[xi] = U[xi] V[xi], so dU[xi] = dM[xi] V[xi]^T with dM = A dY A^T per tile (16 GEMMs
     * again), and dw = G^T dU G. The sum over images keeps one partial dU per fixed chunk of
     * {@code chunkImages} images, added in chunk order: the bits do not depend on the thread count.
     */
    static void weightGrad(float[] xs, int xo, float[] dys, int dyo, int n, int ci, int h, int w, int co, int chunkImages, float[] dws, int dwo) {
        int th = h / 2, tw = w / 2, tiles = th * tw, plane = co * ci;
        int g = Math.max(1, Math.min(Math.min(n, chunkImages), GROUP_TILES / tiles));
        int chunks = (n + chunkImages - 1) / chunkImages;
        // Each chunk's first GEMMs overwrite their part (accumulate false), so reused scratch needs no clearing.
        float[] partial = Conv2dKernel.scratch(Conv2dKernel.CALLER_PARTIAL, chunks * XI * plane);
        Parallel.forRange(chunks, 1, (lo, hi) -> {
            for (int ch = lo; ch < hi; ch++) {
                int end = Math.min(n, (ch + 1) * chunkImages);
                boolean first = true;
                for (int img0 = ch * chunkImages; img0 < end; img0 += g) {
                    int gn = Math.min(g, end - img0), cols = gn * tiles;
                    int vStride = ci * cols + SKEW, mStride = co * cols + SKEW;
                    float[] v = Conv2dKernel.scratch(0, XI * vStride), m = Conv2dKernel.scratch(1, XI * mStride), pad = Conv2dKernel.scratch(2, (h + 2) * (w + 2));
                    for (int i = 0; i < gn; i++) {
                        for (int c = 0; c < ci; c++) transformInput(xs, xo + ((img0 + i) * ci + c) * h * w, h, w, pad, v, c * cols + i * tiles, vStride);
                        for (int o = 0; o < co; o++) transformOutputGrad(dys, dyo + ((img0 + i) * co + o) * h * w, h, w, m, o * cols + i * tiles, mStride);
                    }
                    for (int xi = 0; xi < XI; xi++) {
                        GemmKernel.sgemmSerial(co, ci, cols, m, xi * mStride, cols, false, v, xi * vStride, cols, true,
                                partial, (ch * XI + xi) * plane, ci, !first);
                    }
                    first = false;
                }
            }
        });
        Parallel.forRange(co, Parallel.grain(co, (long) chunks * XI * ci, 1 << 14), (lo, hi) -> {
            float[] du = new float[XI];
            for (int o = lo; o < hi; o++) {
                for (int c = 0; c < ci; c++) {
                    for (int xi = 0; xi < XI; xi++) {
                        float sum = 0f;
                        for (int ch = 0; ch < chunks; ch++) sum += partial[(ch * XI + xi) * plane + o * ci + c];
                        du[xi] = sum;
                    }
                    transformWeightGrad(du, dws, dwo + (o * ci + c) * 9);
                }
            }
        });
    }

    /**
     * dM = A dY A^T for every 2x2 tile dY of one output-gradient plane, tile t written at
     * m[off + xi * stride + t]; A's columns are A^T's rows (1, 1, 1, 0) and (0, 1, -1, -1).
     */
    static void transformOutputGrad(float[] dy, int yo, int h, int w, float[] m, int off, int stride) {
        int th = h / 2, tw = w / 2;
        for (int ty = 0; ty < th; ty++) {
            for (int tx = 0; tx < tw; tx++) {
                int at = yo + 2 * ty * w + 2 * tx;
                float a = dy[at], b = dy[at + 1], c = dy[at + w], d = dy[at + w + 1];
                // P = A dY: rows (a, b), (a + c, b + d), (a - c, b - d), (-c, -d); then P A^T row by row
                float p1 = a + c, q1 = b + d, p2 = a - c, q2 = b - d;
                int t = off + ty * tw + tx;
                store(m, t, stride, 0, a, a + b, a - b, -b);
                store(m, t, stride, 4, p1, p1 + q1, p1 - q1, -q1);
                store(m, t, stride, 8, p2, p2 + q2, p2 - q2, -q2);
                store(m, t, stride, 12, -c, -c - d, d - c, d);
            }
        }
    }

    /** dw (3x3, at dw[at ..]) = G^T dU G for one (o, c) pair, dU in du[0 .. 16) row-major. */
    static void transformWeightGrad(float[] du, float[] dw, int at) {
        for (int s = 0; s < 4; s++) { // Q = G^T dU, column s, kept in du's rows 0-2
            float u0 = du[s], u1 = du[4 + s], u2 = du[8 + s], u3 = du[12 + s];
            du[s] = u0 + 0.5f * (u1 + u2);
            du[4 + s] = 0.5f * (u1 - u2);
            du[8 + s] = 0.5f * (u1 + u2) + u3;
        }
        for (int r = 0; r < 3; r++) { // dw = Q G
            float a0 = du[4 * r], a1 = du[4 * r + 1], a2 = du[4 * r + 2], a3 = du[4 * r + 3];
            dw[at + 3 * r] = a0 + 0.5f * (a1 + a2);
            dw[at + 3 * r + 1] = 0.5f * (a1 - a2);
            dw[at + 3 * r + 2] = 0.5f * (a1 + a2) + a3;
        }
    }

    /**
     * U[xi] = (G g G^T)[xi] for every (o, c), packed as 16 (co, ci) GEMM operands. G's rows are
     * (1, 0, 0), (1/2, 1/2, 1/2), (1/2, -1/2, 1/2), (0, 0, 1). Both U and the packed operands
     * live in the calling thread's scratch (every element written), so they are valid until
     * that thread's next convolution.
     */
    static GemmKernel.PackedA[] transformWeights(float[] ws, int wo, int co, int ci) {
        float[] u = Conv2dKernel.scratch(Conv2dKernel.CALLER_TRANSFORMED, XI * co * ci);
        int plane = co * ci;
        float[] t = new float[12];
        for (int o = 0; o < co; o++) {
            for (int c = 0; c < ci; c++) {
                int src = wo + (o * ci + c) * 9;
                for (int j = 0; j < 3; j++) { // t = G g: 4 rows of 3
                    float g0 = ws[src + j], g1 = ws[src + 3 + j], g2 = ws[src + 6 + j];
                    t[j] = g0;
                    t[3 + j] = 0.5f * (g0 + g1 + g2);
                    t[6 + j] = 0.5f * (g0 - g1 + g2);
                    t[9 + j] = g2;
                }
                for (int r = 0; r < 4; r++) { // U = t G^T
                    float a0 = t[3 * r], a1 = t[3 * r + 1], a2 = t[3 * r + 2];
                    int dst = (r * 4) * plane + o * ci + c;
                    u[dst] = a0;
                    u[dst + plane] = 0.5f * (a0 + a1 + a2);
                    u[dst + 2 * plane] = 0.5f * (a0 - a1 + a2);
                    u[dst + 3 * plane] = a2;
                }
            }
        }
        int size = GemmKernel.packedSize(co, ci);
        float[] panels = Conv2dKernel.scratch(Conv2dKernel.CALLER_PACKED, XI * size);
        GemmKernel.PackedA[] packed = new GemmKernel.PackedA[XI];
        for (int xi = 0; xi < XI; xi++) packed[xi] = GemmKernel.packInto(co, ci, u, xi * plane, ci, false, panels, xi * size);
        return packed;
    }

    /**
     * V = B^T d B for every 4x4 window d of one (h, w) plane (zero outside it), tile t of the
     * plane written at v[off + xi * stride + t]. B^T's rows are (1, 0, -1, 0), (0, 1, 1, 0),
     * (0, -1, 1, 0), (0, 1, 0, -1). The plane is first copied into a zero border ({@code pad},
     * (h + 2) x (w + 2)), so every window is read without bounds tests.
     */
    static void transformInput(float[] x, int xo, int h, int w, float[] pad, float[] v, int off, int stride) {
        int th = h / 2, tw = w / 2, pw = w + 2;
        java.util.Arrays.fill(pad, 0, pw, 0f);
        java.util.Arrays.fill(pad, (h + 1) * pw, (h + 2) * pw, 0f);
        for (int yy = 0; yy < h; yy++) {
            int row = (yy + 1) * pw;
            pad[row] = 0f;
            pad[row + w + 1] = 0f;
            System.arraycopy(x, xo + yy * w, pad, row + 1, w);
        }
        for (int ty = 0; ty < th; ty++) {
            for (int tx = 0; tx < tw; tx++) {
                int p0 = 2 * ty * pw + 2 * tx, p1 = p0 + pw, p2 = p1 + pw, p3 = p2 + pw;
                // e = B^T d (combining rows), then V = e B (combining columns)
                float e00 = pad[p0] - pad[p2], e01 = pad[p0 + 1] - pad[p2 + 1], e02 = pad[p0 + 2] - pad[p2 + 2], e03 = pad[p0 + 3] - pad[p2 + 3];
                float e10 = pad[p1] + pad[p2], e11 = pad[p1 + 1] + pad[p2 + 1], e12 = pad[p1 + 2] + pad[p2 + 2], e13 = pad[p1 + 3] + pad[p2 + 3];
                float e20 = pad[p2] - pad[p1], e21 = pad[p2 + 1] - pad[p1 + 1], e22 = pad[p2 + 2] - pad[p1 + 2], e23 = pad[p2 + 3] - pad[p1 + 3];
                float e30 = pad[p1] - pad[p3], e31 = pad[p1 + 1] - pad[p3 + 1], e32 = pad[p1 + 2] - pad[p3 + 2], e33 = pad[p1 + 3] - pad[p3 + 3];
                int t = off + ty * tw + tx;
                store(v, t, stride, 0, e00 - e02, e01 + e02, e02 - e01, e01 - e03);
                store(v, t, stride, 4, e10 - e12, e11 + e12, e12 - e11, e11 - e13);
                store(v, t, stride, 8, e20 - e22, e21 + e22, e22 - e21, e21 - e23);
                store(v, t, stride, 12, e30 - e32, e31 + e32, e32 - e31, e31 - e33);
            }
        }
    }

    private static void store(float[] v, int t, int stride, int xi0, float a, float b, float c, float d) {
        v[t + xi0 * stride] = a;
        v[t + (xi0 + 1) * stride] = b;
        v[t + (xi0 + 2) * stride] = c;
        v[t + (xi0 + 3) * stride] = d;
    }

    /**
     * One output plane: for its tile t, Y = A^T M A + bias from m[off + xi * stride + t], A^T's
     * rows being (1, 1, 1, 0) and (0, 1, -1, -1).
     */
    static void transformOutput(float[] m, int off, int stride, int h, int w, float bias, float[] y, int yo) {
        int th = h / 2, tw = w / 2;
        for (int ty = 0; ty < th; ty++) {
            for (int tx = 0; tx < tw; tx++) {
                int t = off + ty * tw + tx;
                // R = A^T M: two rows of four (M's row r is positions 4r .. 4r + 3)
                float r00 = m[t] + m[t + 4 * stride] + m[t + 8 * stride];
                float r01 = m[t + stride] + m[t + 5 * stride] + m[t + 9 * stride];
                float r02 = m[t + 2 * stride] + m[t + 6 * stride] + m[t + 10 * stride];
                float r03 = m[t + 3 * stride] + m[t + 7 * stride] + m[t + 11 * stride];
                float r10 = m[t + 4 * stride] - m[t + 8 * stride] - m[t + 12 * stride];
                float r11 = m[t + 5 * stride] - m[t + 9 * stride] - m[t + 13 * stride];
                float r12 = m[t + 6 * stride] - m[t + 10 * stride] - m[t + 14 * stride];
                float r13 = m[t + 7 * stride] - m[t + 11 * stride] - m[t + 15 * stride];
                int dst = yo + 2 * ty * w + 2 * tx;
                y[dst] = r00 + r01 + r02 + bias;
                y[dst + 1] = r01 - r02 - r03 + bias;
                y[dst + w] = r10 + r11 + r12 + bias;
                y[dst + w + 1] = r11 - r12 - r13 + bias;
            }
        }
    }
}
