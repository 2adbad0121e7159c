package org.mkdt.backend.cpu;

import org.mkdt.tensor.Tensor;

/** Fused instance norm over each (n, c) plane: statistics in double, one thread per plane. */
final class InstanceNormKernel {
    private InstanceNormKernel() {}

    static void forward(Tensor x, double eps, Tensor xhat, Tensor rstd) {
        int planes = x.shape().dim(0) * x.shape().dim(1);
        int m = x.numel() / Math.max(1, planes);
        Buf xb = Buf.of(x), hb = Buf.of(xhat), rb = Buf.of(rstd);
        if (xb.f != null) {
            forwardF32(xb, hb, rb, planes, m, eps);
            return;
        }
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

    /**
     * The float32 forward: the same two-pass statistics in double, read straight from the float
     * arrays and summed in four independent chains (a dependent chain of double adds was the
     * bottleneck of feature extraction).
     */
    private static void forwardF32(Buf xb, Buf hb, Buf rb, int planes, int m, double eps) {
        float[] x = xb.f, h = hb.f;
        Parallel.forRange(planes, Parallel.grain(planes, 3L * m, 1 << 15), (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int base = xb.off + p * m;
                double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                int i = 0;
                for (; i + 3 < m; i += 4) {
                    s0 += x[base + i];
                    s1 += x[base + i + 1];
                    s2 += x[base + i + 2];
                    s3 += x[base + i + 3];
                }
                for (; i < m; i++) s0 += x[base + i];
                double mean = ((s0 + s1) + (s2 + s3)) / m;
                double v0 = 0, v1 = 0, v2 = 0, v3 = 0;
                i = 0;
                for (; i + 3 < m; i += 4) {
                    double d0 = x[base + i] - mean, d1 = x[base + i + 1] - mean, d2 = x[base + i + 2] - mean, d3 = x[base + i + 3] - mean;
                    v0 += d0 * d0;
                    v1 += d1 * d1;
                    v2 += d2 * d2;
                    v3 += d3 * d3;
                }
                for (; i < m; i++) {
                    double d = x[base + i] - mean;
                    v0 += d * d;
                }
                double r = 1.0 / Math.sqrt(((v0 + v1) + (v2 + v3)) / m + eps);
                rb.set(p, r);
                int out = hb.off + p * m;
                for (int j = 0; j < m; j++) h[out + j] = (float) ((x[base + j] - mean) * r);
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
