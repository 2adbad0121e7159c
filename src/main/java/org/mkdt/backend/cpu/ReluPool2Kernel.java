package org.mkdt.backend.cpu;

import org.mkdt.tensor.Tensor;

/**
 * ReLU fused with 2x2 average pooling, and its adjoint, parallel over (n, c) planes. The
 * arithmetic is AvgPool2Kernel's (sum of four in double, times 0.25, rounded once), so
 * reluPool2(z, z) has the same bits as avgPool2(relu(z)), and reluPool2Grad(dy, z) the same as
 * reluGrad(avgPool2Grad(dy), z), without the full-size ReLU output in between.
 */
final class ReluPool2Kernel {
    private ReluPool2Kernel() {}

    /** out = avgPool2(u * [z > 0]). */
    static void forward(Tensor u, Tensor z, Tensor out) {
        int planes = u.shape().dim(0) * u.shape().dim(1), h = u.shape().dim(2), w = u.shape().dim(3);
        int ho = h / 2, wo = w / 2;
        Buf ub = Buf.of(u), zb = Buf.of(z), ob = Buf.of(out);
        Parallel.forRange(planes, Parallel.grain(planes, 2L * h * w, 1 << 15), (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int xi = p * h * w, yi = p * ho * wo;
                for (int r = 0; r < ho; r++) {
                    int top = xi + 2 * r * w, bot = top + w;
                    for (int c = 0; c < wo; c++) {
                        double s = masked(ub, zb, top + 2 * c) + masked(ub, zb, top + 2 * c + 1)
                                + masked(ub, zb, bot + 2 * c) + masked(ub, zb, bot + 2 * c + 1);
                        ob.set(yi + r * wo + c, 0.25 * s);
                    }
                }
            }
        });
    }

    /** dx = [z > 0] * avgPool2Grad(dy). */
    static void backward(Tensor dy, Tensor z, Tensor dx) {
        int planes = dx.shape().dim(0) * dx.shape().dim(1), h = dx.shape().dim(2), w = dx.shape().dim(3);
        int ho = h / 2, wo = w / 2;
        Buf dyb = Buf.of(dy), zb = Buf.of(z), dxb = Buf.of(dx);
        Parallel.forRange(planes, Parallel.grain(planes, 2L * h * w, 1 << 15), (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int xi = p * h * w, yi = p * ho * wo;
                for (int r = 0; r < ho; r++) {
                    int top = xi + 2 * r * w, bot = top + w;
                    for (int c = 0; c < wo; c++) {
                        double g = 0.25 * dyb.get(yi + r * wo + c);
                        dxb.set(top + 2 * c, zb.get(top + 2 * c) > 0 ? g : 0.0);
                        dxb.set(top + 2 * c + 1, zb.get(top + 2 * c + 1) > 0 ? g : 0.0);
                        dxb.set(bot + 2 * c, zb.get(bot + 2 * c) > 0 ? g : 0.0);
                        dxb.set(bot + 2 * c + 1, zb.get(bot + 2 * c + 1) > 0 ? g : 0.0);
                    }
                }
            }
        });
    }

    private static double masked(Buf u, Buf z, int i) {
        return z.get(i) > 0 ? u.get(i) : 0.0;
    }
}
