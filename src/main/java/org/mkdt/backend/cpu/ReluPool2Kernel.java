package org.mkdt.backend.cpu;

import org.mkdt.tensor.Tensor;

/**
 * Per-plane affine + ReLU fused with 2x2 average pooling, and its adjoint, parallel over (n, c)
 * planes. z = x * scale + shift is formed element by element with the product and the sum each
 * rounded to the tensor's precision, exactly as the separate mul and add ops round them, and
 * the pooling arithmetic is AvgPool2Kernel's (sum of four in double, times 0.25, rounded once).
 * So the fused forward has the same bits as avgPool2(relu(x * scale + shift)) computed op by
 * op, and the backward the same as reluGrad(avgPool2Grad(dy), z), without the full-size
 * intermediates in between.
 */
final class ReluPool2Kernel {
    private ReluPool2Kernel() {}

    /** out = avgPool2(v * [z > 0]), v = u, or z when u is null. */
    static void forward(Tensor u, Tensor x, Tensor scale, Tensor shift, Tensor out) {
        if (x.dtype() == org.mkdt.tensor.DType.F32) {
            forwardF32(u, x, scale, shift, out);
            return;
        }
        int planes = x.shape().dim(0) * x.shape().dim(1), h = x.shape().dim(2), w = x.shape().dim(3);
        int ho = h / 2, wo = w / 2;
        Buf ub = u == null ? null : Buf.of(u), ob = Buf.of(out);
        Affine z = new Affine(x, scale, shift);
        Parallel.forRange(planes, Parallel.grain(planes, 2L * h * w, 1 << 15), (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int xi = p * h * w, yi = p * ho * wo;
                for (int r = 0; r < ho; r++) {
                    int top = xi + 2 * r * w, bot = top + w;
                    for (int c = 0; c < wo; c++) {
                        double s = masked(ub, z, top + 2 * c, p) + masked(ub, z, top + 2 * c + 1, p)
                                + masked(ub, z, bot + 2 * c, p) + masked(ub, z, bot + 2 * c + 1, p);
                        ob.set(yi + r * wo + c, 0.25 * s);
                    }
                }
            }
        });
    }

    /** dx = [z > 0] * avgPool2Grad(dy). */
    static void backward(Tensor dy, Tensor x, Tensor scale, Tensor shift, Tensor dx) {
        if (x.dtype() == org.mkdt.tensor.DType.F32) {
            backwardF32(dy, x, scale, shift, dx);
            return;
        }
        int planes = dx.shape().dim(0) * dx.shape().dim(1), h = dx.shape().dim(2), w = dx.shape().dim(3);
        int ho = h / 2, wo = w / 2;
        Buf dyb = Buf.of(dy), dxb = Buf.of(dx);
        Affine z = new Affine(x, scale, shift);
        Parallel.forRange(planes, Parallel.grain(planes, 2L * h * w, 1 << 15), (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int xi = p * h * w, yi = p * ho * wo;
                for (int r = 0; r < ho; r++) {
                    int top = xi + 2 * r * w, bot = top + w;
                    for (int c = 0; c < wo; c++) {
                        double g = 0.25 * dyb.get(yi + r * wo + c);
                        dxb.set(top + 2 * c, z.at(top + 2 * c, p) > 0 ? g : 0.0);
                        dxb.set(top + 2 * c + 1, z.at(top + 2 * c + 1, p) > 0 ? g : 0.0);
                        dxb.set(bot + 2 * c, z.at(bot + 2 * c, p) > 0 ? g : 0.0);
                        dxb.set(bot + 2 * c + 1, z.at(bot + 2 * c + 1, p) > 0 ? g : 0.0);
                    }
                }
            }
        });
    }

    // ---- float32: the same arithmetic on the arrays directly (the generic path above reads
    // through Buf, whose per-element dtype branch and widening cost 3x here). Java's float
    // operations round each product and sum separately (no FMA contraction), as required.

    private static void forwardF32(Tensor u, Tensor x, Tensor scale, Tensor shift, Tensor out) {
        int planes = x.shape().dim(0) * x.shape().dim(1), h = x.shape().dim(2), w = x.shape().dim(3);
        int ho = h / 2, wo = w / 2;
        Buf xb = Buf.of(x), ob = Buf.of(out), ub = u == null ? null : Buf.of(u);
        Buf sb = scale == null ? null : Buf.of(scale), tb = shift == null ? null : Buf.of(shift);
        float[] xf = xb.f, of = ob.f;
        Parallel.forRange(planes, Parallel.grain(planes, 2L * h * w, 1 << 15), (lo, hi) -> {
            float[] v = new float[2 * w]; // the masked values of one row pair
            for (int p = lo; p < hi; p++) {
                int xi = xb.off + p * h * w, yi = ob.off + p * ho * wo;
                for (int r = 0; r < ho; r++) {
                    int at = xi + 2 * r * w;
                    if (sb == null) relu(xf, at, v, 2 * w);
                    else affineRelu(xf, at, sb.f[sb.off + p], tb.f[tb.off + p], v, 2 * w);
                    if (ub != null) { // v = u where z > 0 (v holds z's ReLU: positive exactly there)
                        int ui = ub.off + p * h * w + 2 * r * w;
                        for (int j = 0; j < 2 * w; j++) v[j] = select(v[j], ub.f[ui + j]);
                    }
                    int o = yi + r * wo;
                    for (int c = 0; c < wo; c++) {
                        double sum = (((double) v[2 * c] + v[2 * c + 1]) + v[w + 2 * c]) + v[w + 2 * c + 1];
                        of[o + c] = (float) (0.25 * sum);
                    }
                }
            }
        });
    }

    /** v = relu(x[at ..]) over n elements, +0 where masked. */
    private static void relu(float[] x, int at, float[] v, int n) {
        for (int j = 0; j < n; j++) {
            float z = x[at + j];
            v[j] = select(z, z);
        }
    }

    /** v = relu(x * sc + sh): the product and the sum rounded separately, as the unfused ops do. */
    private static void affineRelu(float[] x, int at, float sc, float sh, float[] v, int n) {
        for (int j = 0; j < n; j++) {
            float z = x[at + j] * sc + sh;
            v[j] = select(z, z);
        }
    }

    /**
     * value where z > 0, else +0 (NaN is not > 0), without a branch: ReLU's mask is a coin flip
     * on real activations, and a mispredicted branch per element costs more than the memory
     * traffic this kernel saves. z > 0 exactly when its bits, as a signed int, lie in
     * [1, 0x7f800000] (positive, up to +Inf); both differences below are then non-negative.
     */
    private static float select(float z, float value) {
        long bits = Float.floatToRawIntBits(z);
        int keep = ~(int) (((bits - 1) | (0x7f800000L - bits)) >> 63);
        return Float.intBitsToFloat(Float.floatToRawIntBits(value) & keep);
    }

    private static void backwardF32(Tensor dy, Tensor x, Tensor scale, Tensor shift, Tensor dx) {
        int planes = dx.shape().dim(0) * dx.shape().dim(1), h = dx.shape().dim(2), w = dx.shape().dim(3);
        int ho = h / 2, wo = w / 2;
        Buf xb = Buf.of(x), dyb = Buf.of(dy), dxb = Buf.of(dx);
        Buf sb = scale == null ? null : Buf.of(scale), tb = shift == null ? null : Buf.of(shift);
        float[] xf = xb.f, dyf = dyb.f, dxf = dxb.f;
        Parallel.forRange(planes, Parallel.grain(planes, 2L * h * w, 1 << 15), (lo, hi) -> {
            float[] g = new float[w]; // one row of dy / 4, each value twice (the window's two columns)
            for (int p = lo; p < hi; p++) {
                float sc = sb == null ? 1f : sb.f[sb.off + p], sh = tb == null ? 0f : tb.f[tb.off + p];
                boolean affine = sb != null;
                int xi = xb.off + p * h * w, oi = dxb.off + p * h * w, yi = dyb.off + p * ho * wo;
                for (int r = 0; r < ho; r++) {
                    for (int c = 0; c < wo; c++) {
                        float q = 0.25f * dyf[yi + r * wo + c]; // one rounding, as the double product rounded to float
                        g[2 * c] = q;
                        g[2 * c + 1] = q;
                    }
                    for (int half = 0; half < 2; half++) {
                        int row = (2 * r + half) * w;
                        if (affine) {
                            for (int j = 0; j < w; j++) dxf[oi + row + j] = select(xf[xi + row + j] * sc + sh, g[j]);
                        } else {
                            for (int j = 0; j < w; j++) dxf[oi + row + j] = select(xf[xi + row + j], g[j]);
                        }
                    }
                }
            }
        });
    }

    /**
     * The whole first-order backward of the affine form in one pass over x: with
     * r = [z > 0] * avgPool2Grad(dy), dx = r * scale (rounded like the mul op), and per plane
     * dscale = sum of r * x (each product rounded like the mul op) and dshift = sum of r, both
     * summed in double. Unfused that is r written, read three times, r * x written and read, and
     * two reductions.
     */
    static void backwardAffine(Tensor dy, Tensor x, Tensor scale, Tensor shift, Tensor dx, Tensor dscale, Tensor dshift) {
        int planes = dx.shape().dim(0) * dx.shape().dim(1), h = dx.shape().dim(2), w = dx.shape().dim(3);
        int ho = h / 2, wo = w / 2;
        Buf xb = Buf.of(x), dyb = Buf.of(dy), dxb = Buf.of(dx), sb = Buf.of(scale), tb = Buf.of(shift), dsb = Buf.of(dscale), dtb = Buf.of(dshift);
        if (xb.f != null && dyb.f != null && dxb.f != null && sb.f != null && tb.f != null) {
            float[] xf = xb.f, dyf = dyb.f, dxf = dxb.f;
            Parallel.forRange(planes, Parallel.grain(planes, 2L * h * w, 1 << 15), (lo, hi) -> {
                float[] g = new float[w];
                for (int p = lo; p < hi; p++) {
                    float sc = sb.f[sb.off + p], sh = tb.f[tb.off + p];
                    int xi = xb.off + p * h * w, oi = dxb.off + p * h * w, yi = dyb.off + p * ho * wo;
                    double r0 = 0, r1 = 0, rx0 = 0, rx1 = 0;
                    for (int r = 0; r < ho; r++) {
                        for (int c = 0; c < wo; c++) {
                            float q = 0.25f * dyf[yi + r * wo + c];
                            g[2 * c] = q;
                            g[2 * c + 1] = q;
                        }
                        for (int half = 0; half < 2; half++) {
                            int row = (2 * r + half) * w;
                            for (int j = 0; j + 1 < w; j += 2) {
                                float xa = xf[xi + row + j], xc = xf[xi + row + j + 1];
                                float ra = select(xa * sc + sh, g[j]), rc = select(xc * sc + sh, g[j + 1]);
                                dxf[oi + row + j] = ra * sc;
                                dxf[oi + row + j + 1] = rc * sc;
                                r0 += ra;
                                r1 += rc;
                                rx0 += ra * xa;
                                rx1 += rc * xc;
                            }
                        }
                    }
                    dsb.set(p, rx0 + rx1);
                    dtb.set(p, r0 + r1);
                }
            });
            return;
        }
        Affine z = new Affine(x, scale, shift);
        Parallel.forRange(planes, Parallel.grain(planes, 2L * h * w, 1 << 15), (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int xi = p * h * w, yi = p * ho * wo;
                double sc = sb.get(p), sumR = 0, sumRX = 0;
                for (int r = 0; r < ho; r++) {
                    for (int c = 0; c < wo; c++) {
                        double g = 0.25 * dyb.get(yi + r * wo + c);
                        for (int k = 0; k < 4; k++) {
                            int i = xi + (2 * r + k / 2) * w + 2 * c + k % 2;
                            double ri = z.at(i, p) > 0 ? g : 0.0;
                            dxb.set(i, ri * sc);
                            sumR += ri;
                            sumRX += xb.round(ri * xb.get(i));
                        }
                    }
                }
                dsb.set(p, sumRX);
                dtb.set(p, sumR);
            }
        });
    }

    private static double masked(Buf u, Affine z, int i, int plane) {
        double zi = z.at(i, plane);
        return zi > 0 ? (u == null ? zi : u.get(i)) : 0.0;
    }

    /** z = x * scale[plane] + shift[plane], rounded like the two separate ops; z = x without them. */
    private static final class Affine {
        final Buf x, scale, shift;

        Affine(Tensor x, Tensor scale, Tensor shift) {
            this.x = Buf.of(x);
            this.scale = scale == null ? null : Buf.of(scale);
            this.shift = shift == null ? null : Buf.of(shift);
        }

        double at(int i, int plane) {
            if (scale == null) return x.get(i);
            return x.round(x.round(x.get(i) * scale.get(plane)) + shift.get(plane));
        }
    }
}
