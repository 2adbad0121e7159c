package org.mkdt.backend.cpu;

import jdk.incubator.vector.FloatVector;

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
                float[] v = Conv2dKernel.scratch(0, XI * vStride), m = Conv2dKernel.scratch(1, XI * mStride), q = Conv2dKernel.scratch(2, inputScratch(h, w));
                for (int i = 0; i < gn; i++) {
                    for (int c = 0; c < ci; c++) transformInput(xs, xo + ((img0 + i) * ci + c) * h * w, h, w, q, v, c * cols + i * tiles, vStride);
                }
                for (int xi = 0; xi < XI; xi++) {
                    GemmKernel.sgemmSerial(u[xi], cols, v, xi * vStride, cols, false, m, xi * mStride, cols, false);
                }
                for (int i = 0; i < gn; i++) {
                    for (int o = 0; o < co; o++) {
                        float b = bs == null ? 0f : bs[bo + o];
                        transformOutput(m, o * cols + i * tiles, mStride, h, w, b, q, ys, yo + ((img0 + i) * co + o) * h * w);
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
        float[] partial = new float[chunks * XI * plane];
        Parallel.forRange(chunks, 1, (lo, hi) -> {
            for (int ch = lo; ch < hi; ch++) {
                int end = Math.min(n, (ch + 1) * chunkImages);
                boolean first = true;
                for (int img0 = ch * chunkImages; img0 < end; img0 += g) {
                    int gn = Math.min(g, end - img0), cols = gn * tiles;
                    int vStride = ci * cols + SKEW, mStride = co * cols + SKEW;
                    float[] v = Conv2dKernel.scratch(0, XI * vStride), m = Conv2dKernel.scratch(1, XI * mStride), q = Conv2dKernel.scratch(2, inputScratch(h, w));
                    for (int i = 0; i < gn; i++) {
                        for (int c = 0; c < ci; c++) transformInput(xs, xo + ((img0 + i) * ci + c) * h * w, h, w, q, v, c * cols + i * tiles, vStride);
                        for (int o = 0; o < co; o++) transformOutputGrad(dys, dyo + ((img0 + i) * co + o) * h * w, h, w, q, m, o * cols + i * tiles, mStride);
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
     * The plane's four tile corners are first split into planes of their own in {@code q}
     * (4 h/2 x w/2 floats), so the 16 outputs are lane-wise over contiguous tiles; the vector
     * and the scalar tail compute the same formula in the same order.
     */
    static void transformOutputGrad(float[] dy, int yo, int h, int w, float[] q, float[] m, int off, int stride) {
        int th = h / 2, tw = w / 2, tiles = th * tw;
        for (int ty = 0; ty < th; ty++) { // corner (r, c) of tile t at q[(2 r + c) * tiles + t]
            int row = yo + 2 * ty * w, t0 = ty * tw;
            for (int tx = 0; tx < tw; tx++) {
                q[t0 + tx] = dy[row + 2 * tx];
                q[tiles + t0 + tx] = dy[row + 2 * tx + 1];
                q[2 * tiles + t0 + tx] = dy[row + w + 2 * tx];
                q[3 * tiles + t0 + tx] = dy[row + w + 2 * tx + 1];
            }
        }
        int t = 0;
        for (int end = tiles - FloatChains.L; t <= end; t += FloatChains.L) {
            FloatVector a = ld(q, t), b = ld(q, tiles + t), c = ld(q, 2 * tiles + t), d = ld(q, 3 * tiles + t);
            // P = A dY: rows (a, b), (a + c, b + d), (a - c, b - d), (-c, -d); then P A^T row by row
            FloatVector p1 = a.add(c), q1 = b.add(d), p2 = a.sub(c), q2 = b.sub(d), nc = c.neg();
            int o = off + t;
            store(m, o, stride, 0, a, a.add(b), a.sub(b), b.neg());
            store(m, o, stride, 4, p1, p1.add(q1), p1.sub(q1), q1.neg());
            store(m, o, stride, 8, p2, p2.add(q2), p2.sub(q2), q2.neg());
            store(m, o, stride, 12, nc, nc.sub(d), d.sub(c), d);
        }
        for (; t < tiles; t++) {
            float a = q[t], b = q[tiles + t], c = q[2 * tiles + t], d = q[3 * tiles + t];
            float p1 = a + c, q1 = b + d, p2 = a - c, q2 = b - d;
            int o = off + t;
            store(m, o, stride, 0, a, a + b, a - b, -b);
            store(m, o, stride, 4, p1, p1 + q1, p1 - q1, -q1);
            store(m, o, stride, 8, p2, p2 + q2, p2 - q2, -q2);
            store(m, o, stride, 12, -c, -c - d, d - c, d);
        }
    }

    private static void store(float[] v, int t, int stride, int xi0, FloatVector a, FloatVector b, FloatVector c, FloatVector d) {
        a.intoArray(v, t + xi0 * stride);
        b.intoArray(v, t + (xi0 + 1) * stride);
        c.intoArray(v, t + (xi0 + 2) * stride);
        d.intoArray(v, t + (xi0 + 3) * stride);
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
     * (1, 0, 0), (1/2, 1/2, 1/2), (1/2, -1/2, 1/2), (0, 0, 1).
     */
    static GemmKernel.PackedA[] transformWeights(float[] ws, int wo, int co, int ci) {
        float[] u = new float[XI * co * ci];
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
        GemmKernel.PackedA[] packed = new GemmKernel.PackedA[XI];
        for (int xi = 0; xi < XI; xi++) packed[xi] = GemmKernel.pack(co, ci, u, xi * plane, ci, false);
        return packed;
    }

    /** Floats of the scratch that {@link #transformInput} reads its windows from: 8 planes of (h/2 + 1) x w/2. */
    static int inputScratch(int h, int w) {
        return 8 * (h / 2 + 1) * (w / 2);
    }

    /**
     * V = B^T d B for every 4x4 window d of one (h, w) plane (zero outside it), tile t of the
     * plane written at v[off + xi * stride + t]. B^T's rows are (1, 0, -1, 0), (0, 1, 1, 0),
     * (0, -1, 1, 0), (0, 1, 0, -1).
     *
     * <p>Window element (r, c) of tile (ty, tx) is the zero-padded plane's element
     * (2 ty + r, 2 tx + c): a stride-2 gather. So the plane is first split into 8 planes
     * {@code q}, one per row parity and column offset c, in which that element sits at tile index
     * t (rows 0 and 1 of the window) or t + w/2 (rows 2 and 3); then each of the 16 outputs is
     * a lane-wise sum over contiguous runs of tiles, on vectors. The sums are the scalar
     * formula's, in its order: the bits do not depend on the vector width.
     */
    static void transformInput(float[] x, int xo, int h, int w, float[] q, float[] v, int off, int stride) {
        int th = h / 2, tw = w / 2, rows = (th + 1) * tw, tiles = th * tw;
        for (int rp = 0; rp < 2; rp++) {
            for (int c = 0; c < 4; c++) { // plane (rp, c): element (ty, tx) = x[2 ty + rp - 1][2 tx + c - 1], 0 outside
                int base = (4 * rp + c) * rows;
                for (int ty = 0; ty <= th; ty++) {
                    int yy = 2 * ty + rp - 1, dst = base + ty * tw;
                    if (yy < 0 || yy >= h) {
                        java.util.Arrays.fill(q, dst, dst + tw, 0f);
                        continue;
                    }
                    int lo = c == 0 ? 1 : 0, hi = c == 3 ? tw - 1 : tw, src = xo + yy * w + c - 1;
                    if (c == 0) q[dst] = 0f;
                    if (c == 3) q[dst + tw - 1] = 0f;
                    for (int tx = lo; tx < hi; tx++) q[dst + tx] = x[src + 2 * tx];
                }
            }
        }
        // p_rc: window row r, column c, over tiles: plane (r mod 2, c), shifted by a tile row for r >= 2
        int p00 = 0, p01 = rows, p02 = 2 * rows, p03 = 3 * rows;
        int p10 = 4 * rows, p11 = 5 * rows, p12 = 6 * rows, p13 = 7 * rows;
        int p20 = p00 + tw, p21 = p01 + tw, p22 = p02 + tw, p23 = p03 + tw;
        int p30 = p10 + tw, p31 = p11 + tw, p32 = p12 + tw, p33 = p13 + tw;
        int t = 0;
        for (int end = tiles - FloatChains.L; t <= end; t += FloatChains.L) {
            // e = B^T d (combining rows), then V = e B (combining columns), as in the scalar tail below
            FloatVector d20 = ld(q, p20 + t), d21 = ld(q, p21 + t), d22 = ld(q, p22 + t), d23 = ld(q, p23 + t);
            FloatVector d10 = ld(q, p10 + t), d11 = ld(q, p11 + t), d12 = ld(q, p12 + t), d13 = ld(q, p13 + t);
            FloatVector e00 = ld(q, p00 + t).sub(d20), e01 = ld(q, p01 + t).sub(d21), e02 = ld(q, p02 + t).sub(d22), e03 = ld(q, p03 + t).sub(d23);
            FloatVector e10 = d10.add(d20), e11 = d11.add(d21), e12 = d12.add(d22), e13 = d13.add(d23);
            FloatVector e20 = d20.sub(d10), e21 = d21.sub(d11), e22 = d22.sub(d12), e23 = d23.sub(d13);
            FloatVector e30 = d10.sub(ld(q, p30 + t)), e31 = d11.sub(ld(q, p31 + t)), e32 = d12.sub(ld(q, p32 + t)), e33 = d13.sub(ld(q, p33 + t));
            int o = off + t;
            storeRow(v, o, stride, 0, e00, e01, e02, e03);
            storeRow(v, o, stride, 4, e10, e11, e12, e13);
            storeRow(v, o, stride, 8, e20, e21, e22, e23);
            storeRow(v, o, stride, 12, e30, e31, e32, e33);
        }
        for (; t < tiles; t++) {
            float e00 = q[p00 + t] - q[p20 + t], e01 = q[p01 + t] - q[p21 + t], e02 = q[p02 + t] - q[p22 + t], e03 = q[p03 + t] - q[p23 + t];
            float e10 = q[p10 + t] + q[p20 + t], e11 = q[p11 + t] + q[p21 + t], e12 = q[p12 + t] + q[p22 + t], e13 = q[p13 + t] + q[p23 + t];
            float e20 = q[p20 + t] - q[p10 + t], e21 = q[p21 + t] - q[p11 + t], e22 = q[p22 + t] - q[p12 + t], e23 = q[p23 + t] - q[p13 + t];
            float e30 = q[p10 + t] - q[p30 + t], e31 = q[p11 + t] - q[p31 + t], e32 = q[p12 + t] - q[p32 + t], e33 = q[p13 + t] - q[p33 + t];
            int o = off + t;
            store(v, o, stride, 0, e00 - e02, e01 + e02, e02 - e01, e01 - e03);
            store(v, o, stride, 4, e10 - e12, e11 + e12, e12 - e11, e11 - e13);
            store(v, o, stride, 8, e20 - e22, e21 + e22, e22 - e21, e21 - e23);
            store(v, o, stride, 12, e30 - e32, e31 + e32, e32 - e31, e31 - e33);
        }
    }

    private static FloatVector ld(float[] a, int at) {
        return FloatVector.fromArray(FloatChains.V, a, at);
    }

    /** One row i of e (columns e_i0 .. e_i3) combined by B into V's positions xi0 .. xi0 + 3, at tiles [t, t + L). */
    private static void storeRow(float[] v, int t, int stride, int xi0, FloatVector e0, FloatVector e1, FloatVector e2, FloatVector e3) {
        store(v, t, stride, xi0, e0.sub(e2), e1.add(e2), e2.sub(e1), e1.sub(e3));
    }

    private static void store(float[] v, int t, int stride, int xi0, float a, float b, float c, float d) {
        v[t + xi0 * stride] = a;
        v[t + (xi0 + 1) * stride] = b;
        v[t + (xi0 + 2) * stride] = c;
        v[t + (xi0 + 3) * stride] = d;
    }

    /**
     * One output plane: for its tile t, Y = A^T M A + bias from m[off + xi * stride + t], A^T's
     * rows being (1, 1, 1, 0) and (0, 1, -1, -1). The four outputs of each tile are computed
     * lane-wise over contiguous tiles into planes of {@code q} (4 h/2 x w/2 floats), then
     * interleaved into the plane; vector and scalar tail share the formula and its order.
     */
    static void transformOutput(float[] m, int off, int stride, int h, int w, float bias, float[] q, float[] y, int yo) {
        int th = h / 2, tw = w / 2, tiles = th * tw;
        int t = 0;
        FloatVector bv = FloatVector.broadcast(FloatChains.V, bias);
        for (int end = tiles - FloatChains.L; t <= end; t += FloatChains.L) {
            int s = off + t;
            // R = A^T M: two rows of four (M's row r is positions 4r .. 4r + 3)
            FloatVector m4 = ld(m, s + 4 * stride), m5 = ld(m, s + 5 * stride), m6 = ld(m, s + 6 * stride), m7 = ld(m, s + 7 * stride);
            FloatVector m8 = ld(m, s + 8 * stride), m9 = ld(m, s + 9 * stride), m10 = ld(m, s + 10 * stride), m11 = ld(m, s + 11 * stride);
            FloatVector r00 = ld(m, s).add(m4).add(m8), r01 = ld(m, s + stride).add(m5).add(m9);
            FloatVector r02 = ld(m, s + 2 * stride).add(m6).add(m10), r03 = ld(m, s + 3 * stride).add(m7).add(m11);
            FloatVector r10 = m4.sub(m8).sub(ld(m, s + 12 * stride)), r11 = m5.sub(m9).sub(ld(m, s + 13 * stride));
            FloatVector r12 = m6.sub(m10).sub(ld(m, s + 14 * stride)), r13 = m7.sub(m11).sub(ld(m, s + 15 * stride));
            r00.add(r01).add(r02).add(bv).intoArray(q, t);
            r01.sub(r02).sub(r03).add(bv).intoArray(q, tiles + t);
            r10.add(r11).add(r12).add(bv).intoArray(q, 2 * tiles + t);
            r11.sub(r12).sub(r13).add(bv).intoArray(q, 3 * tiles + t);
        }
        for (; t < tiles; t++) {
            int s = off + t;
            float r00 = m[s] + m[s + 4 * stride] + m[s + 8 * stride];
            float r01 = m[s + stride] + m[s + 5 * stride] + m[s + 9 * stride];
            float r02 = m[s + 2 * stride] + m[s + 6 * stride] + m[s + 10 * stride];
            float r03 = m[s + 3 * stride] + m[s + 7 * stride] + m[s + 11 * stride];
            float r10 = m[s + 4 * stride] - m[s + 8 * stride] - m[s + 12 * stride];
            float r11 = m[s + 5 * stride] - m[s + 9 * stride] - m[s + 13 * stride];
            float r12 = m[s + 6 * stride] - m[s + 10 * stride] - m[s + 14 * stride];
            float r13 = m[s + 7 * stride] - m[s + 11 * stride] - m[s + 15 * stride];
            q[t] = r00 + r01 + r02 + bias;
            q[tiles + t] = r01 - r02 - r03 + bias;
            q[2 * tiles + t] = r10 + r11 + r12 + bias;
            q[3 * tiles + t] = r11 - r12 - r13 + bias;
        }
        for (int ty = 0; ty < th; ty++) { // output (2 ty + r, 2 tx + c) is plane 2 r + c's tile (ty, tx)
            int row = yo + 2 * ty * w, t0 = ty * tw;
            for (int tx = 0; tx < tw; tx++) {
                y[row + 2 * tx] = q[t0 + tx];
                y[row + 2 * tx + 1] = q[tiles + t0 + tx];
                y[row + w + 2 * tx] = q[2 * tiles + t0 + tx];
                y[row + w + 2 * tx + 1] = q[3 * tiles + t0 + tx];
            }
        }
    }
}
