package org.mkdt.backend.cpu;

import org.mkdt.tensor.Tensor;

/** 2x2 average pooling, stride 2, and its adjoint; parallel over (n, c) planes. */
final class AvgPool2Kernel {
    private AvgPool2Kernel() {}

    static void forward(Tensor x, Tensor y) {
        int planes = x.shape().dim(0) * x.shape().dim(1), h = x.shape().dim(2), w = x.shape().dim(3);
        int ho = h / 2, wo = w / 2;
        Buf xb = Buf.of(x), yb = Buf.of(y);
        Parallel.forRange(planes, Parallel.grain(planes, (long) h * w, 1 << 15), (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int xi = p * h * w, yi = p * ho * wo;
                for (int r = 0; r < ho; r++) {
                    int top = xi + 2 * r * w, bot = top + w;
                    for (int c = 0; c < wo; c++) {
                        double s = xb.get(top + 2 * c) + xb.get(top + 2 * c + 1) + xb.get(bot + 2 * c) + xb.get(bot + 2 * c + 1);
                        yb.set(yi + r * wo + c, 0.25 * s);
                    }
                }
            }
        });
    }

    static void backward(Tensor dy, Tensor dx) {
        int planes = dx.shape().dim(0) * dx.shape().dim(1), h = dx.shape().dim(2), w = dx.shape().dim(3);
        int ho = h / 2, wo = w / 2;
        Buf dyb = Buf.of(dy), dxb = Buf.of(dx);
        Parallel.forRange(planes, Parallel.grain(planes, (long) h * w, 1 << 15), (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int xi = p * h * w, yi = p * ho * wo;
                for (int r = 0; r < ho; r++) {
                    int top = xi + 2 * r * w, bot = top + w;
                    for (int c = 0; c < wo; c++) {
                        double g = 0.25 * dyb.get(yi + r * wo + c);
                        dxb.set(top + 2 * c, g);
                        dxb.set(top + 2 * c + 1, g);
                        dxb.set(bot + 2 * c, g);
                        dxb.set(bot + 2 * c + 1, g);
                    }
                }
            }
        });
    }
}
