package org.mkdt.backend.cpu;

import org.mkdt.tensor.Tensor;

/** Fused instance norm over each (n, c) plane: statistics in double, one thread per plane. */
final class InstanceNormKernel {
    private InstanceNormKernel() {}

    static void forward(Tensor x, double eps, Tensor xhat, Tensor rstd) {
        int planes = x.shape().dim(0) * x.shape().dim(1);
        int m = x.numel() / Math.max(1, planes);
        Buf xb = Buf.of(x), hb = Buf.of(xhat), rb = Buf.of(rstd);
        Parallel.forRange(planes, Parallel.grain(planes, 3L * m, 1 << 15), (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int base = p * m;
                double mean = 0.0;
                for (int i = 0; i < m; i++) mean += xb.get(base + i);
                mean /= m;
                double var = 0.0;
                for (int i = 0; i < m; i++) {
                    double d = xb.get(base + i) - mean;
                    var += d * d;
                }
                var /= m;
                double r = 1.0 / Math.sqrt(var + eps);
                rb.set(p, r);
                for (int i = 0; i < m; i++) hb.set(base + i, (xb.get(base + i) - mean) * r);
            }
        });
    }

    static void backward(Tensor g, Tensor xhat, Tensor rstd, Tensor dx) {
        int planes = g.shape().dim(0) * g.shape().dim(1);
        int m = g.numel() / Math.max(1, planes);
        Buf gb = Buf.of(g), hb = Buf.of(xhat), rb = Buf.of(rstd), db = Buf.of(dx);
        Parallel.forRange(planes, Parallel.grain(planes, 3L * m, 1 << 15), (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int base = p * m;
                double mg = 0.0, mgh = 0.0;
                for (int i = 0; i < m; i++) {
                    double gv = gb.get(base + i);
                    mg += gv;
                    mgh += gv * hb.get(base + i);
                }
                mg /= m;
                mgh /= m;
                double r = rb.get(p);
                for (int i = 0; i < m; i++) {
                    db.set(base + i, r * (gb.get(base + i) - mg - hb.get(base + i) * mgh));
                }
            }
        });
    }

    static void secondOrder(Tensor u, Tensor g, Tensor xhat, Tensor rstd, Tensor out) {
        int planes = g.shape().dim(0) * g.shape().dim(1);
        int m = g.numel() / Math.max(1, planes);
        Buf ub = Buf.of(u), gb = Buf.of(g), hb = Buf.of(xhat), rb = Buf.of(rstd), ob = Buf.of(out);
        Parallel.forRange(planes, Parallel.grain(planes, 4L * m, 1 << 15), (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int base = p * m;
                double mu = 0, mg = 0, muh = 0, mgh = 0, mug = 0;
                for (int i = 0; i < m; i++) {
                    double uv = ub.get(base + i), gv = gb.get(base + i), hv = hb.get(base + i);
                    mu += uv;
                    mg += gv;
                    muh += uv * hv;
                    mgh += gv * hv;
                    mug += uv * gv;
                }
                mu /= m;
                mg /= m;
                muh /= m;
                mgh /= m;
                mug /= m;
                double a = mgh, b = muh, c = mug - mu * mg, r = rb.get(p), r2 = r * r;
                double k = 3 * a * b - c;
                for (int i = 0; i < m; i++) {
                    double v = k * hb.get(base + i) - b * (gb.get(base + i) - mg) - a * (ub.get(base + i) - mu);
                    ob.set(base + i, r2 * v);
                }
            }
        });
    }
}
