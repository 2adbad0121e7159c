package org.mkdt.backend.cpu;

import org.mkdt.backend.ConvGeometry;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Tensor;

/**
 * 2-D convolution (any kernel size, stride and padding) and its two gradients.
 *
 * <p>float32: images are taken in groups of G (G * Ho * Wo about 512 columns, fixed by the
 * shape alone); a group's im2col panels sit side by side in one (Ci*Kh*Kw, G*Ho*Wo) matrix, so
 * each of the three products is one large GEMM: forward W . cols, data gradient W^T . dY,
 * weight gradient dY . cols^T (or its transpose). Groups run in parallel; the weight gradient
 * keeps one partial sum per fixed group of 32 images and adds them in order, so results do not
 * depend on the thread count. The student's 3x3 / stride 1 / padding 1 case has its own
 * row-copying im2col, and with 16 or more input channels all three products go by Winograd
 * instead ({@link WinogradKernel}; the data gradient as a transposed forward). float64:
 * direct loops, the reference the float32 path is tested against.
 */
final class Conv2dKernel {
    /** Target GEMM width (columns of the grouped im2col matrix): 512 measured best of 1, 512, 2048 (panels stay in L2). */
    private static final int GROUP_COLUMNS = 512;
    /**
     * The data gradient of a 3x3 "same" convolution with at least this many input channels runs
     * as a transposed convolution; below it (the 3-channel first layer) the GEMM would have 3
     * rows, and im2col's adjoint is cheaper.
     */
    private static final int TRANSPOSED_MIN_CHANNELS = 16;
    /**
     * 3x3 "same" convolutions with at least this many input channels run by Winograd F(2x2, 3x3)
     * ({@link WinogradKernel}); the 3-channel first layer stays on im2col, where the GEMM is
     * small and the transforms would cost more than they save.
     */
    private static final int WINOGRAD_MIN_CHANNELS = 16;
    /**
     * Whether Winograd is used at all: on unless {@code -Dmkdt.cpu.winograd=false}, which keeps
     * the im2col path for every shape (the A/B and benchmark baseline).
     */
    static final boolean WINOGRAD = !"false".equals(System.getProperty("mkdt.cpu.winograd"));
    /** Whether a float32 convolution of these shapes runs by Winograd. */
    private static boolean winograd(Dims d) {
        return WINOGRAD && d.same3x3() && d.ci >= WINOGRAD_MIN_CHANNELS && WinogradKernel.applies(d.h, d.w);
    }

    /** Images per weight-gradient partial sum: fixed, so the sum order is thread-count independent. */
    private static final int WGRAD_IMAGES = 32;
    /**
     * Scratch slots 0-2 belong to the bodies that run in parallel (im2col columns, GEMM output,
     * Winograd's V, M and padded plane); slots from {@link #CALLER_FLIPPED} on belong to the
     * thread that calls a kernel, for what it prepares before and reads after the parallel
     * part (flipped and packed weights, weight-gradient partial sums). They used to be fresh
     * arrays: 1-8 MB per convolution, most of the meta-gradient's allocation. A caller's slot
     * stays its own for the whole call: {@link Parallel} blocks a caller while workers run the
     * bodies, and runs a call made on a worker inline.
     */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[7][0]);
    /** The data gradient's flipped, transposed weights. */
    static final int CALLER_FLIPPED = 3;
    /** Packed weights: im2col's GEMM operand, or Winograd's 16 transformed ones. */
    static final int CALLER_PACKED = 4;
    /** Winograd's transformed weights before packing. */
    static final int CALLER_TRANSFORMED = 5;
    /** The weight gradient's per-chunk partial sums. */
    static final int CALLER_PARTIAL = 6;

    private Conv2dKernel() {}

    /** Shapes of one convolution: input (n, ci, h, w), kernel (co, ci, kh, kw), output (n, co, oh, ow). */
    private record Dims(int n, int ci, int h, int w, int co, int kh, int kw, int oh, int ow, ConvGeometry geo) {
        static Dims of(Tensor input, Tensor weight, ConvGeometry geo) {
            int h = input.shape().dim(2), w = input.shape().dim(3), kh = weight.shape().dim(2), kw = weight.shape().dim(3);
            return new Dims(input.shape().dim(0), input.shape().dim(1), h, w, weight.shape().dim(0), kh, kw,
                    geo.out(h, kh), geo.out(w, kw), geo);
        }

        int hw() {
            return h * w;
        }

        int ohw() {
            return oh * ow;
        }

        /** Rows of the im2col matrix. */
        int kk() {
            return ci * kh * kw;
        }

        /** Images per GEMM group. */
        int group() {
            return Math.max(1, Math.min(n, GROUP_COLUMNS / Math.max(1, ohw())));
        }

        boolean same3x3() {
            return geo.isSame3x3(kh, kw);
        }
    }

    /**
     * Thread-local scratch buffer {@code which} of at least {@code size} floats, holding whatever
     * it held last (slots: {@link #SCRATCH}); shared with {@link WinogradKernel}, which never runs
     * while an im2col path holds one.
     */
    static float[] scratch(int which, int size) {
        float[][] s = SCRATCH.get();
        if (s[which].length < size) s[which] = new float[size];
        return s[which];
    }

    private static float[] floats(Tensor t) {
        return ((CpuStorage) t.storage()).floats();
    }

    // ---- im2col / col2im (float32) -----------------------------------------------------

    /**
     * Writes image x[xo ..] (Ci, H, W) as columns [col0, col0 + Ho*Wo) of the (Ci*Kh*Kw, ld)
     * matrix cols: row (c*Kh + i)*Kw + j, column oy*Wo + ox holds x[c, oy*s + i - p, ox*s + j - p]
     * (0 outside the image).
     */
    static void im2col(float[] x, int xo, Dims d, float[] cols, int col0, int ld) {
        if (d.same3x3()) {
            im2col3x3(x, xo, d.ci, d.h, d.w, cols, col0, ld);
            return;
        }
        int s = d.geo.stride(), p = d.geo.padding();
        for (int c = 0; c < d.ci; c++) {
            for (int i = 0; i < d.kh; i++) {
                for (int j = 0; j < d.kw; j++) {
                    int row = ((c * d.kh + i) * d.kw + j) * ld + col0;
                    for (int oy = 0; oy < d.oh; oy++) {
                        int sy = oy * s + i - p, dst = row + oy * d.ow;
                        if (sy < 0 || sy >= d.h) {
                            java.util.Arrays.fill(cols, dst, dst + d.ow, 0f);
                            continue;
                        }
                        int src = xo + (c * d.h + sy) * d.w;
                        for (int ox = 0; ox < d.ow; ox++) {
                            int sx = ox * s + j - p;
                            cols[dst + ox] = sx >= 0 && sx < d.w ? x[src + sx] : 0f;
                        }
                    }
                }
            }
        }
    }

    /** The 3x3 / stride 1 / padding 1 im2col: whole rows moved with arraycopy. */
    private static void im2col3x3(float[] x, int xo, int ci, int h, int w, float[] cols, int col0, int ld) {
        for (int c = 0; c < ci; c++) {
            for (int kh = 0; kh < 3; kh++) {
                for (int kw = 0; kw < 3; kw++) {
                    int row = (c * 9 + kh * 3 + kw) * ld + col0;
                    for (int y = 0; y < h; y++) {
                        int sy = y + kh - 1;
                        int dst = row + y * w;
                        if (sy < 0 || sy >= h) {
                            java.util.Arrays.fill(cols, dst, dst + w, 0f);
                            continue;
                        }
                        int src = xo + (c * h + sy) * w;
                        // columns x with 0 <= x + kw - 1 < w
                        int x0 = Math.max(0, 1 - kw), x1 = Math.min(w, w + 1 - kw);
                        if (x0 > 0) cols[dst] = 0f;
                        if (x1 < w) cols[dst + w - 1] = 0f;
                        System.arraycopy(x, src + x0 + kw - 1, cols, dst + x0, x1 - x0);
                    }
                }
            }
        }
    }

    /** dx[xo ..] (Ci, H, W) += the adjoint of im2col applied to columns [col0, col0 + Ho*Wo) of dcols. */
    static void col2imAdd(float[] dcols, int col0, int ld, Dims d, float[] dx, int xo) {
        if (d.same3x3()) {
            col2imAdd3x3(dcols, col0, ld, d.ci, d.h, d.w, dx, xo);
            return;
        }
        int s = d.geo.stride(), p = d.geo.padding();
        for (int c = 0; c < d.ci; c++) {
            for (int i = 0; i < d.kh; i++) {
                for (int j = 0; j < d.kw; j++) {
                    int row = ((c * d.kh + i) * d.kw + j) * ld + col0;
                    for (int oy = 0; oy < d.oh; oy++) {
                        int sy = oy * s + i - p;
                        if (sy < 0 || sy >= d.h) continue;
                        int src = row + oy * d.ow, dst = xo + (c * d.h + sy) * d.w;
                        for (int ox = 0; ox < d.ow; ox++) {
                            int sx = ox * s + j - p;
                            if (sx >= 0 && sx < d.w) dx[dst + sx] += dcols[src + ox];
                        }
                    }
                }
            }
        }
    }

    /**
     * The adjoint of {@link #im2col3x3}: each (channel, tap, row) adds one contiguous run of
     * columns into one row of dx, a loop the JIT vectorises (the general loop tests bounds per
     * element; it was 7% of a student step).
     */
    private static void col2imAdd3x3(float[] dcols, int col0, int ld, int ci, int h, int w, float[] dx, int xo) {
        for (int c = 0; c < ci; c++) {
            for (int kh = 0; kh < 3; kh++) {
                for (int kw = 0; kw < 3; kw++) {
                    int row = (c * 9 + kh * 3 + kw) * ld + col0;
                    int x0 = Math.max(0, 1 - kw), x1 = Math.min(w, w + 1 - kw), len = x1 - x0;
                    for (int y = Math.max(0, 1 - kh), yEnd = Math.min(h, h + 1 - kh); y < yEnd; y++) {
                        int src = row + y * w + x0, dst = xo + (c * h + y + kh - 1) * w + x0 + kw - 1;
                        for (int x = 0; x < len; x++) dx[dst + x] += dcols[src + x];
                    }
                }
            }
        }
    }

    /** The im2col panels of images [img0, img0 + g) side by side: a (Ci*Kh*Kw, g*Ho*Wo) matrix. */
    private static void im2colGroup(float[] x, int xo, int img0, int g, Dims d, float[] cols) {
        for (int i = 0; i < g; i++) im2col(x, xo + (img0 + i) * d.ci * d.hw(), d, cols, i * d.ohw(), g * d.ohw());
    }

    /** Copies the (rows, plane) planes of g images starting at image img0 side by side into (rows, g*plane). */
    private static void gatherPlanes(float[] src, int off, int img0, int g, int rows, int plane, float[] dst) {
        int ld = g * plane;
        for (int i = 0; i < g; i++) {
            int base = off + (img0 + i) * rows * plane;
            for (int r = 0; r < rows; r++) System.arraycopy(src, base + r * plane, dst, r * ld + i * plane, plane);
        }
    }

    // ---- forward ----------------------------------------------------------------------------

    static void forward(Tensor x, Tensor wt, Tensor bias, ConvGeometry geo, Tensor y) {
        Dims d = Dims.of(x, wt, geo);
        if (x.dtype() == DType.F32) {
            forwardF32(floats(x), x.offset(), floats(wt), wt.offset(), bias == null ? null : floats(bias), bias == null ? 0 : bias.offset(), d, floats(y), y.offset());
        } else {
            Buf xb = Buf.of(x), wb = Buf.of(wt), yb = Buf.of(y), bb = bias == null ? null : Buf.of(bias);
            int s = geo.stride(), p = geo.padding();
            Parallel.forRange(d.n * d.co, 1, (lo, hi) -> {
                for (int q = lo; q < hi; q++) {
                    int img = q / d.co, o = q % d.co;
                    for (int oy = 0; oy < d.oh; oy++) {
                        for (int ox = 0; ox < d.ow; ox++) {
                            double acc = bb == null ? 0.0 : bb.get(o);
                            for (int c = 0; c < d.ci; c++) {
                                for (int i = 0; i < d.kh; i++) {
                                    int sy = oy * s + i - p;
                                    if (sy < 0 || sy >= d.h) continue;
                                    for (int j = 0; j < d.kw; j++) {
                                        int sx = ox * s + j - p;
                                        if (sx < 0 || sx >= d.w) continue;
                                        acc += wb.get(((o * d.ci + c) * d.kh + i) * d.kw + j) * xb.get(((img * d.ci + c) * d.h + sy) * d.w + sx);
                                    }
                                }
                            }
                            yb.set(((img * d.co + o) * d.oh + oy) * d.ow + ox, acc);
                        }
                    }
                }
            });
        }
    }

    /** The float32 forward: per group of images, im2col, one GEMM W . cols, then bias and the NCHW scatter. */
    private static void forwardF32(float[] xs, int xo, float[] ws, int wo, float[] bs, int bo, Dims d, float[] ys, int yo) {
        if (winograd(d)) {
            WinogradKernel.forward(xs, xo, ws, wo, bs, bo, d.n, d.ci, d.h, d.w, d.co, ys, yo);
            return;
        }
        int ohw = d.ohw(), kk = d.kk(), co = d.co, g = d.group(), groups = (d.n + g - 1) / g;
        GemmKernel.PackedA packedW = GemmKernel.packInto(co, kk, ws, wo, kk, false, scratch(CALLER_PACKED, GemmKernel.packedSize(co, kk)), 0);
        Parallel.forRange(groups, 1, (lo, hi) -> {
            for (int grp = lo; grp < hi; grp++) {
                int img0 = grp * g, gn = Math.min(g, d.n - img0), ld = gn * ohw;
                float[] cols = scratch(0, kk * ld), out = scratch(1, co * ld);
                im2colGroup(xs, xo, img0, gn, d, cols);
                GemmKernel.sgemmSerial(packedW, ld, cols, 0, ld, false, out, 0, ld, false);
                for (int i = 0; i < gn; i++) {
                    for (int o = 0; o < co; o++) {
                        int src = o * ld + i * ohw, dst = yo + ((img0 + i) * co + o) * ohw;
                        float b = bs == null ? 0f : bs[bo + o];
                        for (int j = 0; j < ohw; j++) ys[dst + j] = out[src + j] + b;
                    }
                }
            }
        });
    }

    // ---- data gradient -----------------------------------------------------------------------

    static void dataGrad(Tensor dy, Tensor wt, ConvGeometry geo, Tensor dx) {
        Dims d = Dims.of(dx, wt, geo);
        if (dy.dtype() == DType.F32 && d.same3x3() && d.ci >= TRANSPOSED_MIN_CHANNELS) {
            // The data gradient of a 3x3 "same" convolution is itself one: dy convolved with the
            // weights transposed (ci <-> co) and flipped. Run as the forward, it writes dx
            // directly, instead of a 9x larger column matrix that col2im then adds up.
            float[] ws = floats(wt), flipped = scratch(CALLER_FLIPPED, d.ci * d.co * 9); // every element written below
            int wo = wt.offset();
            for (int o = 0; o < d.co; o++) {
                for (int c = 0; c < d.ci; c++) {
                    for (int t = 0; t < 9; t++) flipped[(c * d.co + o) * 9 + 8 - t] = ws[wo + (o * d.ci + c) * 9 + t];
                }
            }
            Dims t = new Dims(d.n, d.co, d.oh, d.ow, d.ci, 3, 3, d.h, d.w, geo);
            forwardF32(floats(dy), dy.offset(), flipped, 0, null, 0, t, floats(dx), dx.offset());
        } else if (dy.dtype() == DType.F32) {
            float[] dys = floats(dy), ws = floats(wt), dxs = floats(dx);
            int dyo = dy.offset(), wo = wt.offset(), dxo = dx.offset();
            int ohw = d.ohw(), kk = d.kk(), co = d.co, g = d.group(), groups = (d.n + g - 1) / g;
            GemmKernel.PackedA wTransposed = GemmKernel.packInto(kk, co, ws, wo, kk, true, scratch(CALLER_PACKED, GemmKernel.packedSize(kk, co)), 0);
            Parallel.forRange(groups, 1, (lo, hi) -> {
                for (int grp = lo; grp < hi; grp++) {
                    int img0 = grp * g, gn = Math.min(g, d.n - img0), ld = gn * ohw;
                    float[] dyg = scratch(1, co * ld), dcols = scratch(0, kk * ld);
                    gatherPlanes(dys, dyo, img0, gn, co, ohw, dyg);
                    GemmKernel.sgemmSerial(wTransposed, ld, dyg, 0, ld, false, dcols, 0, ld, false);
                    for (int i = 0; i < gn; i++) {
                        int out = dxo + (img0 + i) * d.ci * d.hw();
                        java.util.Arrays.fill(dxs, out, out + d.ci * d.hw(), 0f);
                        col2imAdd(dcols, i * ohw, ld, d, dxs, out);
                    }
                }
            });
        } else {
            Buf dyb = Buf.of(dy), wb = Buf.of(wt), dxb = Buf.of(dx);
            int s = geo.stride(), p = geo.padding();
            Parallel.forRange(d.n * d.ci, 1, (lo, hi) -> {
                for (int q = lo; q < hi; q++) {
                    int img = q / d.ci, c = q % d.ci;
                    for (int yy = 0; yy < d.h; yy++) {
                        for (int xx = 0; xx < d.w; xx++) {
                            double acc = 0.0;
                            for (int i = 0; i < d.kh; i++) {
                                int ty = yy + p - i;
                                if (ty < 0 || ty % s != 0 || ty / s >= d.oh) continue;
                                for (int j = 0; j < d.kw; j++) {
                                    int tx = xx + p - j;
                                    if (tx < 0 || tx % s != 0 || tx / s >= d.ow) continue;
                                    for (int o = 0; o < d.co; o++) {
                                        acc += wb.get(((o * d.ci + c) * d.kh + i) * d.kw + j) * dyb.get(((img * d.co + o) * d.oh + ty / s) * d.ow + tx / s);
                                    }
                                }
                            }
                            dxb.set(((img * d.ci + c) * d.h + yy) * d.w + xx, acc);
                        }
                    }
                }
            });
        }
    }

    // ---- weight gradient ---------------------------------------------------------------------

    static void weightGrad(Tensor x, Tensor dy, ConvGeometry geo, Tensor dw) {
        Dims d = Dims.of(x, dw, geo);
        if (x.dtype() == DType.F32 && winograd(d)) {
            WinogradKernel.weightGrad(floats(x), x.offset(), floats(dy), dy.offset(), d.n, d.ci, d.h, d.w, d.co, WGRAD_IMAGES, floats(dw), dw.offset());
        } else if (x.dtype() == DType.F32) {
            float[] xs = floats(x), dys = floats(dy), dws = floats(dw);
            int xo = x.offset(), dyo = dy.offset(), dwo = dw.offset();
            int ohw = d.ohw(), kk = d.kk(), co = d.co, wsize = co * kk, g = d.group();
            // The transposed operand is packed strided, so let it be the smaller one: with more
            // patch rows than output channels compute dW^T = cols . dY^T (layers 2-3 of the
            // student: 1.15x), else dW = dY . cols^T (the 3-channel first layer: 1.5x).
            boolean transposed = kk >= co;
            int chunks = (d.n + WGRAD_IMAGES - 1) / WGRAD_IMAGES;
            float[] partial = scratch(CALLER_PARTIAL, chunks * wsize);
            java.util.Arrays.fill(partial, 0, chunks * wsize, 0f); // the GEMMs below accumulate from the start
            Parallel.forRange(chunks, 1, (lo, hi) -> {
                for (int ch = lo; ch < hi; ch++) {
                    int end = Math.min(d.n, (ch + 1) * WGRAD_IMAGES);
                    for (int img0 = ch * WGRAD_IMAGES; img0 < end; img0 += g) {
                        int gn = Math.min(g, end - img0), ld = gn * ohw;
                        float[] cols = scratch(0, kk * ld), dyg = scratch(1, co * ld);
                        im2colGroup(xs, xo, img0, gn, d, cols);
                        gatherPlanes(dys, dyo, img0, gn, co, ohw, dyg);
                        if (transposed) GemmKernel.sgemmSerial(kk, co, ld, cols, 0, ld, false, dyg, 0, ld, true, partial, ch * wsize, co, true);
                        else GemmKernel.sgemmSerial(co, kk, ld, dyg, 0, ld, false, cols, 0, ld, true, partial, ch * wsize, kk, true);
                    }
                }
            });
            Parallel.forRange(co, Parallel.grain(co, (long) chunks * kk, 1 << 14), (lo, hi) -> {
                for (int o = lo; o < hi; o++) {
                    for (int k = 0; k < kk; k++) {
                        float sum = 0f;
                        for (int ch = 0; ch < chunks; ch++) sum += partial[ch * wsize + (transposed ? k * co + o : o * kk + k)];
                        dws[dwo + o * kk + k] = sum;
                    }
                }
            });
        } else {
            Buf xb = Buf.of(x), dyb = Buf.of(dy), dwb = Buf.of(dw);
            int s = geo.stride(), p = geo.padding();
            Parallel.forRange(d.co * d.ci, 1, (lo, hi) -> {
                for (int q = lo; q < hi; q++) {
                    int o = q / d.ci, c = q % d.ci;
                    for (int i = 0; i < d.kh; i++) {
                        for (int j = 0; j < d.kw; j++) {
                            double acc = 0.0;
                            for (int img = 0; img < d.n; img++) {
                                for (int oy = 0; oy < d.oh; oy++) {
                                    int sy = oy * s + i - p;
                                    if (sy < 0 || sy >= d.h) continue;
                                    for (int ox = 0; ox < d.ow; ox++) {
                                        int sx = ox * s + j - p;
                                        if (sx < 0 || sx >= d.w) continue;
                                        acc += dyb.get(((img * d.co + o) * d.oh + oy) * d.ow + ox) * xb.get(((img * d.ci + c) * d.h + sy) * d.w + sx);
                                    }
                                }
                            }
                            dwb.set(((o * d.ci + c) * d.kh + i) * d.kw + j, acc);
                        }
                    }
                }
            });
        }
    }
}
