package org.mkdt.backend.cpu;

import static org.mkdt.backend.cpu.FloatChains.CHAINS;
import static org.mkdt.backend.cpu.FloatChains.K;
import static org.mkdt.backend.cpu.FloatChains.L;
import static org.mkdt.backend.cpu.FloatChains.V;
import static org.mkdt.backend.cpu.FloatChains.finish;

import jdk.incubator.vector.FloatVector;
import org.mkdt.tensor.Tensor;

/** Fused instance norm over each (n, c) plane, planes split across threads; float64 in double throughout, float32 on {@link FloatChains} vectors, its sums in 16 float chains. */
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
     * The float32 forward. The mean is summed as deviations from the plane's first value (so a
     * large common offset cannot swamp float partial sums), in 16 float chains of at most
     * m / 16 terms, then finished in double in a fixed order; the variance likewise around the
     * float mean, corrected for that mean's rounding. Each plane's result depends on its own
     * values only: the same bits for any thread count.
     */
    private static void forwardF32(Buf xb, Buf hb, Buf rb, int planes, int m, double eps) {
        float[] x = xb.f, h = hb.f;
        Parallel.forRange(planes, Parallel.grain(planes, 3L * m, 1 << 15), (lo, hi) -> {
            float[] lanes = new float[CHAINS];
            for (int p = lo; p < hi; p++) rb.set(p, forwardPlane(x, xb.off + p * m, h, hb.off + p * m, m, eps, lanes));
        });
    }

    /** One plane: xhat into h[out..out+m), returns 1/sqrt(var + eps). A method of its own, small enough for the JIT to keep the vectors in registers. */
    private static double forwardPlane(float[] x, int base, float[] h, int out, int m, double eps, float[] lanes) {
        float pivot = x[base];
        FloatVector pv = FloatVector.broadcast(V, pivot), zero = FloatVector.zero(V), a0 = zero, a1 = zero, a2 = zero, a3 = zero;
        int i = 0;
        for (; i + CHAINS <= m; i += CHAINS) {
            a0 = a0.add(FloatVector.fromArray(V, x, base + i).sub(pv));
            if (K > 1) a1 = a1.add(FloatVector.fromArray(V, x, base + i + L).sub(pv));
            if (K > 2) {
                a2 = a2.add(FloatVector.fromArray(V, x, base + i + 2 * L).sub(pv));
                a3 = a3.add(FloatVector.fromArray(V, x, base + i + 3 * L).sub(pv));
            }
        }
        double sum = finish(a0, a1, a2, a3, lanes);
        for (; i < m; i++) sum += x[base + i] - pivot;
        double mean = pivot + sum / m;
        float meanF = (float) mean;
        FloatVector mv = FloatVector.broadcast(V, meanF);
        a0 = zero;
        a1 = zero;
        a2 = zero;
        a3 = zero;
        i = 0;
        for (; i + CHAINS <= m; i += CHAINS) {
            FloatVector d0 = FloatVector.fromArray(V, x, base + i).sub(mv);
            a0 = d0.fma(d0, a0);
            if (K > 1) {
                FloatVector d1 = FloatVector.fromArray(V, x, base + i + L).sub(mv);
                a1 = d1.fma(d1, a1);
            }
            if (K > 2) {
                FloatVector d2 = FloatVector.fromArray(V, x, base + i + 2 * L).sub(mv), d3 = FloatVector.fromArray(V, x, base + i + 3 * L).sub(mv);
                a2 = d2.fma(d2, a2);
                a3 = d3.fma(d3, a3);
            }
        }
        double squares = finish(a0, a1, a2, a3, lanes);
        for (; i < m; i++) {
            double d = x[base + i] - meanF;
            squares += d * d;
        }
        double shift = mean - meanF;
        double r = 1.0 / Math.sqrt(Math.max(0.0, squares / m - shift * shift) + eps);
        normalise(x, base, h, out, m, meanF, (float) r);
        return r;
    }

    private static void normalise(float[] x, int base, float[] h, int out, int m, float meanF, float rF) {
        FloatVector mv = FloatVector.broadcast(V, meanF), rv = FloatVector.broadcast(V, rF);
        int j = 0;
        for (; j + L <= m; j += L) FloatVector.fromArray(V, x, base + j).sub(mv).mul(rv).intoArray(h, out + j);
        for (; j < m; j++) h[out + j] = (x[base + j] - meanF) * rF;
    }

    /** The float32 backward: dx = r (g - mean(g) - xhat mean(g xhat)), the means summed as in the forward. */
    private static void backwardF32(Buf gb, Buf hb, Buf rb, Buf db, int planes, int m) {
        float[] g = gb.f, h = hb.f, dx = db.f;
        Parallel.forRange(planes, Parallel.grain(planes, 3L * m, 1 << 15), (lo, hi) -> {
            float[] lanes = new float[CHAINS];
            for (int p = lo; p < hi; p++) backwardPlane(g, gb.off + p * m, h, hb.off + p * m, dx, db.off + p * m, m, (float) rb.get(p), lanes);
        });
    }

    private static void backwardPlane(float[] g, int gBase, float[] h, int hBase, float[] dx, int dBase, int m, float rF, float[] lanes) {
        FloatVector zero = FloatVector.zero(V), s0 = zero, s1 = zero, s2 = zero, s3 = zero, t0 = zero, t1 = zero, t2 = zero, t3 = zero;
        int i = 0;
        for (; i + CHAINS <= m; i += CHAINS) {
            FloatVector g0 = FloatVector.fromArray(V, g, gBase + i);
            s0 = s0.add(g0);
            t0 = g0.fma(FloatVector.fromArray(V, h, hBase + i), t0);
            if (K > 1) {
                FloatVector g1 = FloatVector.fromArray(V, g, gBase + i + L);
                s1 = s1.add(g1);
                t1 = g1.fma(FloatVector.fromArray(V, h, hBase + i + L), t1);
            }
            if (K > 2) {
                FloatVector g2 = FloatVector.fromArray(V, g, gBase + i + 2 * L), g3 = FloatVector.fromArray(V, g, gBase + i + 3 * L);
                s2 = s2.add(g2);
                s3 = s3.add(g3);
                t2 = g2.fma(FloatVector.fromArray(V, h, hBase + i + 2 * L), t2);
                t3 = g3.fma(FloatVector.fromArray(V, h, hBase + i + 3 * L), t3);
            }
        }
        double mg = finish(s0, s1, s2, s3, lanes), mgh = finish(t0, t1, t2, t3, lanes);
        for (; i < m; i++) {
            mg += g[gBase + i];
            mgh += (double) g[gBase + i] * h[hBase + i];
        }
        backwardOutput(g, gBase, h, hBase, dx, dBase, m, (float) (mg / m), (float) (mgh / m), rF);
    }

    private static void backwardOutput(float[] g, int gBase, float[] h, int hBase, float[] dx, int dBase, int m, float mgF, float mghF, float rF) {
        FloatVector mgv = FloatVector.broadcast(V, mgF), mghv = FloatVector.broadcast(V, mghF), rv = FloatVector.broadcast(V, rF);
        int j = 0;
        for (; j + L <= m; j += L) {
            FloatVector hv = FloatVector.fromArray(V, h, hBase + j);
            FloatVector.fromArray(V, g, gBase + j).sub(mgv).sub(hv.mul(mghv)).mul(rv).intoArray(dx, dBase + j);
        }
        for (; j < m; j++) dx[dBase + j] = rF * (g[gBase + j] - mgF - h[hBase + j] * mghF);
    }

    static void backward(Tensor g, Tensor xhat, Tensor rstd, Tensor dx) {
        int planes = g.shape().dim(0) * g.shape().dim(1);
        int m = g.numel() / Math.max(1, planes);
        Buf gb = Buf.of(g), hb = Buf.of(xhat), rb = Buf.of(rstd), db = Buf.of(dx);
        if (gb.f != null && hb.f != null && db.f != null) {
            backwardF32(gb, hb, rb, db, planes, m);
            return;
        }
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
        if (ub.f != null && gb.f != null && hb.f != null && ob.f != null) {
            secondOrderF32(ub, gb, hb, rb, ob, planes, m);
            return;
        }
        Parallel.forRange(planes, Parallel.grain(planes, 4L * m, 1 << 15), (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int base = p * m;
                double su = 0, sg = 0, suh = 0, sgh = 0, sug = 0;
                for (int i = 0; i < m; i++) {
                    double uv = ub.get(base + i), gv = gb.get(base + i), hv = hb.get(base + i);
                    su += uv;
                    sg += gv;
                    suh += uv * hv;
                    sgh += gv * hv;
                    sug += uv * gv;
                }
                SecondOrder so = new SecondOrder(su, sg, suh, sgh, sug, m, rb.get(p));
                for (int i = 0; i < m; i++) ob.set(base + i, so.at(ub.get(base + i), gb.get(base + i), hb.get(base + i)));
            }
        });
    }

    /** {@link #secondOrder} on float arrays: the same double arithmetic in the same order, without Buf's per-element dtype branch. */
    private static void secondOrderF32(Buf ub, Buf gb, Buf hb, Buf rb, Buf ob, int planes, int m) {
        float[] uf = ub.f, gf = gb.f, hf = hb.f, of = ob.f;
        Parallel.forRange(planes, Parallel.grain(planes, 4L * m, 1 << 15), (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int ui = ub.off + p * m, gi = gb.off + p * m, hi0 = hb.off + p * m, oi = ob.off + p * m;
                double su = 0, sg = 0, suh = 0, sgh = 0, sug = 0;
                for (int i = 0; i < m; i++) {
                    double uv = uf[ui + i], gv = gf[gi + i], hv = hf[hi0 + i];
                    su += uv;
                    sg += gv;
                    suh += uv * hv;
                    sgh += gv * hv;
                    sug += uv * gv;
                }
                SecondOrder so = new SecondOrder(su, sg, suh, sgh, sug, m, rb.get(p));
                for (int i = 0; i < m; i++) of[oi + i] = (float) so.at(uf[ui + i], gf[gi + i], hf[hi0 + i]);
            }
        });
    }

    /**
     * One plane's second-order term from the sums over it of u, g, u xhat, g xhat and u g:
     * out = rstd^2 (k xhat - b (g - mean g) - a (u - mean u)) with a = mean(g xhat),
     * b = mean(u xhat), k = 3 a b - (mean(u g) - mean u mean g).
     */
    private record SecondOrder(double mu, double mg, double a, double b, double k, double r2) {
        SecondOrder(double su, double sg, double suh, double sgh, double sug, int m, double r) {
            this(su / m, sg / m, sgh / m, suh / m, 3 * (sgh / m) * (suh / m) - (sug / m - (su / m) * (sg / m)), r * r);
        }

        double at(double u, double g, double xhat) {
            return r2 * (k * xhat - b * (g - mg) - a * (u - mu));
        }
    }
}
