package org.mkdt.backend.cpu;

import org.mkdt.tensor.DType;
import org.mkdt.tensor.Tensor;

/**
 * Convolution 3x3, stride 1, padding 1, and its two gradients.
 *
 * <p>float32: images are taken in groups of G (G * H * W about 512 columns, fixed by the
 * shape alone); a group's im2col panels sit side by side in one (Ci*9, G*H*W) matrix, so each
 * of the three products is one large GEMM: forward W . cols, data gradient W^T . dY, weight
 * gradient dY . cols^T. Groups run in parallel; the weight gradient keeps one partial sum per
 * group and adds them in group order, so results do not depend on the thread count.
 * float64: direct loops, the reference the float32 path is tested against.
 */
final class Conv2dKernel {
    /** Target GEMM width (columns of the grouped im2col matrix): 512 measured best of 1, 512, 2048 (panels stay in L2). */
    private static final int GROUP_COLUMNS = 512;
    /** Images per weight-gradient partial sum: fixed, so the sum order is thread-count independent. */
    private static final int WGRAD_IMAGES = 32;
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[3][0]);

    private Conv2dKernel() {}

    /** Images per group for planes of hw pixels. */
    static int group(int hw, int n) {
        return Math.max(1, Math.min(n, GROUP_COLUMNS / Math.max(1, hw)));
    }

    /** Thread-local scratch buffer {@code which} of at least {@code size} floats. */
    private static float[] scratch(int which, int size) {
        float[][] s = SCRATCH.get();
        if (s[which].length < size) s[which] = new float[size];
        return s[which];
    }

    private static float[] floats(Tensor t) {
        return ((CpuStorage) t.storage()).floats();
    }

    // ---- im2col / col2im (float32) -----------------------------------------------------

    /**
     * Writes image x[xo ..] of shape (Ci, H, W) as columns [co, co + H*W) of the (Ci*9, ld)
     * matrix cols: row (c*9 + kh*3 + kw), column y*W + x holds x[c, y+kh-1, x+kw-1] (0 outside).
     */
    static void im2col(float[] x, int xo, int ci, int h, int w, float[] cols, int co, int ld) {
        for (int c = 0; c < ci; c++) {
            for (int kh = 0; kh < 3; kh++) {
                for (int kw = 0; kw < 3; kw++) {
                    int row = (c * 9 + kh * 3 + kw) * ld + co;
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

    /** dx[xo ..] (Ci, H, W) += the adjoint of im2col applied to columns [co, co + H*W) of dcols (Ci*9, ld). */
    static void col2imAdd(float[] dcols, int co, int ld, int ci, int h, int w, float[] dx, int xo) {
        for (int c = 0; c < ci; c++) {
            for (int kh = 0; kh < 3; kh++) {
                for (int kw = 0; kw < 3; kw++) {
                    int row = (c * 9 + kh * 3 + kw) * ld + co;
                    for (int y = 0; y < h; y++) {
                        int sy = y + kh - 1;
                        if (sy < 0 || sy >= h) continue;
                        int src = row + y * w, dst = xo + (c * h + sy) * w + kw - 1;
                        int x0 = Math.max(0, 1 - kw), x1 = Math.min(w, w + 1 - kw);
                        for (int xx = x0; xx < x1; xx++) dx[dst + xx] += dcols[src + xx];
                    }
                }
            }
        }
    }

    /** The im2col panels of images [img0, img0 + g) side by side: a (Ci*9, g*H*W) matrix. */
    private static void im2colGroup(float[] x, int xo, int img0, int g, int ci, int h, int w, float[] cols) {
        int hw = h * w;
        for (int i = 0; i < g; i++) im2col(x, xo + (img0 + i) * ci * hw, ci, h, w, cols, i * hw, g * hw);
    }

    /** Copies the (rows, hw) planes of g images starting at image img0 side by side into (rows, g*hw). */
    private static void gatherPlanes(float[] src, int off, int img0, int g, int rows, int hw, float[] dst) {
        int ld = g * hw;
        for (int i = 0; i < g; i++) {
            int base = off + (img0 + i) * rows * hw;
            for (int r = 0; r < rows; r++) System.arraycopy(src, base + r * hw, dst, r * ld + i * hw, hw);
        }
    }

    // ---- forward ----------------------------------------------------------------------------

    static void forward(Tensor x, Tensor wt, Tensor bias, Tensor y) {
        int n = x.shape().dim(0), ci = x.shape().dim(1), h = x.shape().dim(2), w = x.shape().dim(3);
        int co = wt.shape().dim(0);
        if (x.dtype() == DType.F32) {
            float[] xs = floats(x), ws = floats(wt), ys = floats(y);
            float[] bs = bias == null ? null : floats(bias);
            int xo = x.offset(), wo = wt.offset(), yo = y.offset(), bo = bias == null ? 0 : bias.offset();
            int hw = h * w, kk = ci * 9, g = group(hw, n), groups = (n + g - 1) / g;
            Parallel.forRange(groups, 1, (lo, hi) -> {
                for (int grp = lo; grp < hi; grp++) {
                    int img0 = grp * g, gn = Math.min(g, n - img0), ld = gn * hw;
                    float[] cols = scratch(0, kk * ld), out = scratch(1, co * ld);
                    im2colGroup(xs, xo, img0, gn, ci, h, w, cols);
                    GemmKernel.sgemmSerial(co, ld, kk, ws, wo, kk, false, cols, 0, ld, false, out, 0, ld, false);
                    for (int i = 0; i < gn; i++) {
                        for (int o = 0; o < co; o++) {
                            int src = o * ld + i * hw, dst = yo + ((img0 + i) * co + o) * hw;
                            float b = bs == null ? 0f : bs[bo + o];
                            for (int j = 0; j < hw; j++) ys[dst + j] = out[src + j] + b;
                        }
                    }
                }
            });
        } else {
            Buf xb = Buf.of(x), wb = Buf.of(wt), yb = Buf.of(y), bb = bias == null ? null : Buf.of(bias);
            Parallel.forRange(n * co, 1, (lo, hi) -> {
                for (int p = lo; p < hi; p++) {
                    int img = p / co, o = p % co;
                    for (int yy = 0; yy < h; yy++) {
                        for (int xx = 0; xx < w; xx++) {
                            double s = bb == null ? 0.0 : bb.get(o);
                            for (int c = 0; c < ci; c++) {
                                for (int kh = 0; kh < 3; kh++) {
                                    int sy = yy + kh - 1;
                                    if (sy < 0 || sy >= h) continue;
                                    for (int kw = 0; kw < 3; kw++) {
                                        int sx = xx + kw - 1;
                                        if (sx < 0 || sx >= w) continue;
                                        s += wb.get(((o * ci + c) * 3 + kh) * 3 + kw) * xb.get(((img * ci + c) * h + sy) * w + sx);
                                    }
                                }
                            }
                            yb.set(((img * co + o) * h + yy) * w + xx, s);
                        }
                    }
                }
            });
        }
    }

    // ---- data gradient -----------------------------------------------------------------------

    static void dataGrad(Tensor dy, Tensor wt, Tensor dx) {
        int n = dx.shape().dim(0), ci = dx.shape().dim(1), h = dx.shape().dim(2), w = dx.shape().dim(3);
        int co = wt.shape().dim(0);
        if (dy.dtype() == DType.F32) {
            float[] dys = floats(dy), ws = floats(wt), dxs = floats(dx);
            int dyo = dy.offset(), wo = wt.offset(), dxo = dx.offset();
            int hw = h * w, kk = ci * 9, g = group(hw, n), groups = (n + g - 1) / g;
            Parallel.forRange(groups, 1, (lo, hi) -> {
                for (int grp = lo; grp < hi; grp++) {
                    int img0 = grp * g, gn = Math.min(g, n - img0), ld = gn * hw;
                    float[] dyg = scratch(1, co * ld), dcols = scratch(0, kk * ld);
                    gatherPlanes(dys, dyo, img0, gn, co, hw, dyg);
                    GemmKernel.sgemmSerial(kk, ld, co, ws, wo, kk, true, dyg, 0, ld, false, dcols, 0, ld, false);
                    for (int i = 0; i < gn; i++) {
                        int out = dxo + (img0 + i) * ci * hw;
                        java.util.Arrays.fill(dxs, out, out + ci * hw, 0f);
                        col2imAdd(dcols, i * hw, ld, ci, h, w, dxs, out);
                    }
                }
            });
        } else {
            Buf dyb = Buf.of(dy), wb = Buf.of(wt), dxb = Buf.of(dx);
            Parallel.forRange(n * ci, 1, (lo, hi) -> {
                for (int p = lo; p < hi; p++) {
                    int img = p / ci, c = p % ci;
                    for (int yy = 0; yy < h; yy++) {
                        for (int xx = 0; xx < w; xx++) {
                            double s = 0.0;
                            for (int o = 0; o < co; o++) {
                                for (int kh = 0; kh < 3; kh++) {
                                    int ty = yy - kh + 1;
                                    if (ty < 0 || ty >= h) continue;
                                    for (int kw = 0; kw < 3; kw++) {
                                        int tx = xx - kw + 1;
                                        if (tx < 0 || tx >= w) continue;
                                        s += wb.get(((o * ci + c) * 3 + kh) * 3 + kw) * dyb.get(((img * co + o) * h + ty) * w + tx);
                                    }
                                }
                            }
                            dxb.set(((img * ci + c) * h + yy) * w + xx, s);
                        }
                    }
                }
            });
        }
    }

    // ---- weight gradient ---------------------------------------------------------------------

    static void weightGrad(Tensor x, Tensor dy, Tensor dw) {
        int n = x.shape().dim(0), ci = x.shape().dim(1), h = x.shape().dim(2), w = x.shape().dim(3);
        int co = dw.shape().dim(0);
        if (x.dtype() == DType.F32) {
            float[] xs = floats(x), dys = floats(dy), dws = floats(dw);
            int xo = x.offset(), dyo = dy.offset(), dwo = dw.offset();
            int hw = h * w, kk = ci * 9, wsize = co * kk, g = group(hw, n), groups = (n + g - 1) / g;
            // The transposed operand is packed strided, so let it be the smaller one: with more
            // patch rows than output channels compute dW^T = cols . dY^T (layers 2-3 of the
            // student: 1.15x), else dW = dY . cols^T (the 3-channel first layer: 1.5x).
            boolean transposed = kk >= co;
            int chunks = (n + WGRAD_IMAGES - 1) / WGRAD_IMAGES;
            float[] partial = new float[chunks * wsize];
            Parallel.forRange(chunks, 1, (lo, hi) -> {
                for (int ch = lo; ch < hi; ch++) {
                    int end = Math.min(n, (ch + 1) * WGRAD_IMAGES);
                    for (int img0 = ch * WGRAD_IMAGES; img0 < end; img0 += g) {
                        int gn = Math.min(g, end - img0), ld = gn * hw;
                        float[] cols = scratch(0, kk * ld), dyg = scratch(1, co * ld);
                        im2colGroup(xs, xo, img0, gn, ci, h, w, cols);
                        gatherPlanes(dys, dyo, img0, gn, co, hw, dyg);
                        if (transposed) GemmKernel.sgemmSerial(kk, co, ld, cols, 0, ld, false, dyg, 0, ld, true, partial, ch * wsize, co, true);
                        else GemmKernel.sgemmSerial(co, kk, ld, dyg, 0, ld, false, cols, 0, ld, true, partial, ch * wsize, kk, true);
                    }
                }
            });
            Parallel.forRange(co, Parallel.grain(co, (long) chunks * kk, 1 << 14), (lo, hi) -> {
                for (int o = lo; o < hi; o++) {
                    for (int k = 0; k < kk; k++) {
                        float s = 0f;
                        for (int ch = 0; ch < chunks; ch++) s += partial[ch * wsize + (transposed ? k * co + o : o * kk + k)];
                        dws[dwo + o * kk + k] = s;
                    }
                }
            });
        } else {
            Buf xb = Buf.of(x), dyb = Buf.of(dy), dwb = Buf.of(dw);
            Parallel.forRange(co * ci, 1, (lo, hi) -> {
                for (int p = lo; p < hi; p++) {
                    int o = p / ci, c = p % ci;
                    for (int kh = 0; kh < 3; kh++) {
                        for (int kw = 0; kw < 3; kw++) {
                            double s = 0.0;
                            for (int img = 0; img < n; img++) {
                                for (int yy = 0; yy < h; yy++) {
                                    int sy = yy + kh - 1;
                                    if (sy < 0 || sy >= h) continue;
                                    for (int xx = 0; xx < w; xx++) {
                                        int sx = xx + kw - 1;
                                        if (sx < 0 || sx >= w) continue;
                                        s += dyb.get(((img * co + o) * h + yy) * w + xx) * xb.get(((img * ci + c) * h + sy) * w + sx);
                                    }
                                }
                            }
                            dwb.set(((o * ci + c) * 3 + kh) * 3 + kw, s);
                        }
                    }
                }
            });
        }
    }
}
