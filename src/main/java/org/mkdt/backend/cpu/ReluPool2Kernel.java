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
