package org.mkdt.backend.cpu;

import static org.mkdt.backend.cpu.FloatChains.CHAINS;
import static org.mkdt.backend.cpu.FloatChains.K;
import static org.mkdt.backend.cpu.FloatChains.L;
import static org.mkdt.backend.cpu.FloatChains.V;
import static org.mkdt.backend.cpu.FloatChains.finish;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
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
    // through Buf, whose per-element dtype branch and widening cost 3x here). Each plane's
    // element-wise part (affine, mask) runs on FloatChains vectors: their lane-wise mul and add
    // round each product and sum separately (no FMA contraction), exactly as the scalar ops
    // and the separate mul and add kernels do, so the vectors change no bit.

    private static void forwardF32(Tensor u, Tensor x, Tensor scale, Tensor shift, Tensor out) {
        int planes = x.shape().dim(0) * x.shape().dim(1), h = x.shape().dim(2), w = x.shape().dim(3);
        int ho = h / 2, wo = w / 2, m = h * w;
        Buf xb = Buf.of(x), ob = Buf.of(out), ub = u == null ? null : Buf.of(u);
        Buf sb = scale == null ? null : Buf.of(scale), tb = shift == null ? null : Buf.of(shift);
        float[] xf = xb.f, of = ob.f;
        Parallel.forRange(planes, Parallel.grain(planes, 2L * m, 1 << 15), (lo, hi) -> {
            float[] v = new float[m]; // the masked values of one plane, in L1
            for (int p = lo; p < hi; p++) {
                int xi = xb.off + p * m, yi = ob.off + p * ho * wo;
                float sc = sb == null ? 1f : sb.f[sb.off + p], sh = tb == null ? 0f : tb.f[tb.off + p];
                maskPlane(xf, xi, sb != null, sc, sh, ub == null ? null : ub.f, ub == null ? 0 : ub.off + p * m, v, 0, m);
                for (int r = 0; r < ho; r++) {
                    int top = 2 * r * w, o = yi + r * wo;
                    for (int c = 0; c < wo; c++) { // AvgPool2Kernel's sum: four floats left to right in double
                        double sum = (((double) v[top + 2 * c] + v[top + 2 * c + 1]) + v[top + w + 2 * c]) + v[top + w + 2 * c + 1];
                        of[o + c] = (float) (0.25 * sum);
                    }
                }
            }
        });
    }

    /**
     * v[vo + j] = value where z > 0, else +0, for z = x[at + j] (times sc plus sh when affine) and
     * value = z, or u[ui + j] when u is given. NaN is not > 0, so it is masked, as in the scalar
     * {@link #select}.
     */
    private static void maskPlane(float[] x, int at, boolean affine, float sc, float sh, float[] u, int ui, float[] v, int vo, int n) {
        FloatVector scv = FloatVector.broadcast(V, sc), shv = FloatVector.broadcast(V, sh), zero = FloatVector.zero(V);
        int j = 0;
        for (; j + L <= n; j += L) {
            FloatVector z = FloatVector.fromArray(V, x, at + j);
            if (affine) z = z.mul(scv).add(shv);
            FloatVector value = u == null ? z : FloatVector.fromArray(V, u, ui + j);
            zero.blend(value, z.compare(VectorOperators.GT, zero)).intoArray(v, vo + j);
        }
        for (; j < n; j++) {
            float z = affine ? x[at + j] * sc + sh : x[at + j];
            v[vo + j] = select(z, u == null ? z : u[ui + j]);
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

    /**
     * g[0 .. h*w) = avgPool2Grad(dy) of one plane: dy / 4 (one rounding, as the double product
     * rounded to float) spread over each 2x2 window.
     */
    private static void spread(float[] dy, int yi, int h, int w, float[] g) {
        int ho = h / 2, wo = w / 2;
        for (int r = 0; r < ho; r++) {
            int top = 2 * r * w;
            for (int c = 0; c < wo; c++) {
                float q = 0.25f * dy[yi + r * wo + c];
                g[top + 2 * c] = q;
                g[top + 2 * c + 1] = q;
            }
            System.arraycopy(g, top, g, top + w, w);
        }
    }

    private static void backwardF32(Tensor dy, Tensor x, Tensor scale, Tensor shift, Tensor dx) {
        int planes = dx.shape().dim(0) * dx.shape().dim(1), h = dx.shape().dim(2), w = dx.shape().dim(3);
        int m = h * w;
        Buf xb = Buf.of(x), dyb = Buf.of(dy), dxb = Buf.of(dx);
        Buf sb = scale == null ? null : Buf.of(scale), tb = shift == null ? null : Buf.of(shift);
        float[] xf = xb.f, dyf = dyb.f, dxf = dxb.f;
        Parallel.forRange(planes, Parallel.grain(planes, 2L * m, 1 << 15), (lo, hi) -> {
            float[] g = new float[m];
            for (int p = lo; p < hi; p++) {
                float sc = sb == null ? 1f : sb.f[sb.off + p], sh = tb == null ? 0f : tb.f[tb.off + p];
                spread(dyf, dyb.off + p * (m / 4), h, w, g);
                // dx = g where z > 0: maskPlane with g as the value, written straight into dx
                maskPlane(xf, xb.off + p * m, sb != null, sc, sh, g, 0, dxf, dxb.off + p * m, m);
            }
        });
    }

    /**
     * The whole first-order backward of the affine form in one pass over x: with
     * r = [z > 0] * avgPool2Grad(dy), dx = r * scale (rounded like the mul op), and per plane
     * dscale = sum of r * x (each product rounded like the mul op) and dshift = sum of r, summed
     * in double (float64) or in FloatChains' 16 float chains finished in double (float32, on
     * vectors, after one scalar pass that spreads dy / 4 over the plane). Unfused that is r written, read three times, r * x written and read, and
     * two reductions.
     */
    static void backwardAffine(Tensor dy, Tensor x, Tensor scale, Tensor shift, Tensor dx, Tensor dscale, Tensor dshift) {
        int planes = dx.shape().dim(0) * dx.shape().dim(1), h = dx.shape().dim(2), w = dx.shape().dim(3);
        int ho = h / 2, wo = w / 2;
        Buf xb = Buf.of(x), dyb = Buf.of(dy), dxb = Buf.of(dx), sb = Buf.of(scale), tb = Buf.of(shift), dsb = Buf.of(dscale), dtb = Buf.of(dshift);
        if (xb.f != null && dyb.f != null && dxb.f != null && sb.f != null && tb.f != null) {
            float[] xf = xb.f, dyf = dyb.f, dxf = dxb.f;
            int m = h * w;
            Parallel.forRange(planes, Parallel.grain(planes, 2L * m, 1 << 15), (lo, hi) -> {
                float[] g = new float[m], lanes = new float[CHAINS];
                double[] sums = new double[2];
                for (int p = lo; p < hi; p++) {
                    spread(dyf, dyb.off + p * ho * wo, h, w, g);
                    backwardAffinePlane(xf, xb.off + p * m, g, sb.f[sb.off + p], tb.f[tb.off + p], dxf, dxb.off + p * m, m, lanes, sums);
                    dsb.set(p, sums[0]);
                    dtb.set(p, sums[1]);
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

    /**
     * One plane of the fused affine backward: r = g where z = x * sc + sh > 0, dx = r * sc, and
     * sums[0] = sum of r * x (each product rounded like the mul op), sums[1] = sum of r, in the
     * 16 float chains of {@link FloatChains} (a plane of 32 x 32 puts 64 terms in each), the last
     * m mod 16 terms added in double.
     */
    private static void backwardAffinePlane(float[] x, int xi, float[] g, float sc, float sh, float[] dx, int oi, int m, float[] lanes, double[] sums) {
        FloatVector scv = FloatVector.broadcast(V, sc), shv = FloatVector.broadcast(V, sh), zero = FloatVector.zero(V);
        FloatVector r0 = zero, r1 = zero, r2 = zero, r3 = zero, q0 = zero, q1 = zero, q2 = zero, q3 = zero;
        int j = 0;
        for (; j + CHAINS <= m; j += CHAINS) {
            FloatVector x0 = FloatVector.fromArray(V, x, xi + j);
            FloatVector a0 = zero.blend(FloatVector.fromArray(V, g, j), x0.mul(scv).add(shv).compare(VectorOperators.GT, zero));
            a0.mul(scv).intoArray(dx, oi + j);
            r0 = r0.add(a0);
            q0 = q0.add(a0.mul(x0));
            if (K > 1) {
                FloatVector x1 = FloatVector.fromArray(V, x, xi + j + L);
                FloatVector a1 = zero.blend(FloatVector.fromArray(V, g, j + L), x1.mul(scv).add(shv).compare(VectorOperators.GT, zero));
                a1.mul(scv).intoArray(dx, oi + j + L);
                r1 = r1.add(a1);
                q1 = q1.add(a1.mul(x1));
            }
            if (K > 2) {
                FloatVector x2 = FloatVector.fromArray(V, x, xi + j + 2 * L), x3 = FloatVector.fromArray(V, x, xi + j + 3 * L);
                FloatVector a2 = zero.blend(FloatVector.fromArray(V, g, j + 2 * L), x2.mul(scv).add(shv).compare(VectorOperators.GT, zero));
                FloatVector a3 = zero.blend(FloatVector.fromArray(V, g, j + 3 * L), x3.mul(scv).add(shv).compare(VectorOperators.GT, zero));
                a2.mul(scv).intoArray(dx, oi + j + 2 * L);
                a3.mul(scv).intoArray(dx, oi + j + 3 * L);
                r2 = r2.add(a2);
                r3 = r3.add(a3);
                q2 = q2.add(a2.mul(x2));
                q3 = q3.add(a3.mul(x3));
            }
        }
        double sumRX = finish(q0, q1, q2, q3, lanes), sumR = finish(r0, r1, r2, r3, lanes);
        for (; j < m; j++) {
            float xa = x[xi + j], ra = select(xa * sc + sh, g[j]);
            dx[oi + j] = ra * sc;
            sumR += ra;
            sumRX += ra * xa;
        }
        sums[0] = sumRX;
        sums[1] = sumR;
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
