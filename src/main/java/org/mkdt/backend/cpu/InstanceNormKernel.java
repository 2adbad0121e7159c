package org.mkdt.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.mkdt.tensor.Tensor;

/** Fused instance norm over each (n, c) plane, planes split across threads; float64 in double throughout, float32 on vectors (below). */
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

    /** Fixed at 256 bits whatever the machine offers, so that the sums, and the bits, are the same on AVX2 and AVX-512. */
    private static final VectorSpecies<Float> V = FloatVector.SPECIES_256;
    private static final int L = V.length();

    /**
     * The float32 forward on 8-lane vectors. The mean is summed as deviations from the plane's
     * first value (so a large common offset cannot swamp float partial sums), in 16 float
     * chains of at most m / 16 terms, then finished in double in a fixed order; the variance
     * likewise around the float mean, corrected for that mean's rounding. Each plane's result
     * depends on its own values only: the same bits for any thread count.
     */
    private static void forwardF32(Buf xb, Buf hb, Buf rb, int planes, int m, double eps) {
        float[] x = xb.f, h = hb.f;
        Parallel.forRange(planes, Parallel.grain(planes, 3L * m, 1 << 15), (lo, hi) -> {
            float[] lanes = new float[2 * L];
            for (int p = lo; p < hi; p++) rb.set(p, forwardPlane(x, xb.off + p * m, h, hb.off + p * m, m, eps, lanes));
        });
    }

    /** One plane: xhat into h[out..out+m), returns 1/sqrt(var + eps). A method of its own, small enough for the JIT to keep the vectors in registers. */
    private static double forwardPlane(float[] x, int base, float[] h, int out, int m, double eps, float[] lanes) {
        float pivot = x[base];
        FloatVector pv = FloatVector.broadcast(V, pivot), a0 = FloatVector.zero(V), a1 = FloatVector.zero(V);
        int i = 0;
        for (; i + 2 * L <= m; i += 2 * L) {
            a0 = a0.add(FloatVector.fromArray(V, x, base + i).sub(pv));
            a1 = a1.add(FloatVector.fromArray(V, x, base + i + L).sub(pv));
        }
        double sum = finish(a0, a1, lanes);
        for (; i < m; i++) sum += x[base + i] - pivot;
        double mean = pivot + sum / m;
        float meanF = (float) mean;
        FloatVector mv = FloatVector.broadcast(V, meanF);
        a0 = FloatVector.zero(V);
        a1 = FloatVector.zero(V);
        i = 0;
        for (; i + 2 * L <= m; i += 2 * L) {
            FloatVector d0 = FloatVector.fromArray(V, x, base + i).sub(mv), d1 = FloatVector.fromArray(V, x, base + i + L).sub(mv);
            a0 = d0.fma(d0, a0);
            a1 = d1.fma(d1, a1);
        }
        double squares = finish(a0, a1, lanes);
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

    /** The 16 float partial sums of two vectors, added in double in lane order. */
    private static double finish(FloatVector a0, FloatVector a1, float[] lanes) {
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, L);
        double s = 0;
        for (float v : lanes) s += v;
        return s;
    }

    /** The float32 backward: dx = r (g - mean(g) - xhat mean(g xhat)), the means summed as in the forward. */
    private static void backwardF32(Buf gb, Buf hb, Buf rb, Buf db, int planes, int m) {
        float[] g = gb.f, h = hb.f, dx = db.f;
        Parallel.forRange(planes, Parallel.grain(planes, 3L * m, 1 << 15), (lo, hi) -> {
            float[] lanes = new float[2 * L];
            for (int p = lo; p < hi; p++) backwardPlane(g, gb.off + p * m, h, hb.off + p * m, dx, db.off + p * m, m, (float) rb.get(p), lanes);
        });
    }

    private static void backwardPlane(float[] g, int gBase, float[] h, int hBase, float[] dx, int dBase, int m, float rF, float[] lanes) {
        FloatVector s0 = FloatVector.zero(V), s1 = FloatVector.zero(V), t0 = FloatVector.zero(V), t1 = FloatVector.zero(V);
        int i = 0;
        for (; i + 2 * L <= m; i += 2 * L) {
            FloatVector g0 = FloatVector.fromArray(V, g, gBase + i), g1 = FloatVector.fromArray(V, g, gBase + i + L);
            s0 = s0.add(g0);
            s1 = s1.add(g1);
            t0 = g0.fma(FloatVector.fromArray(V, h, hBase + i), t0);
            t1 = g1.fma(FloatVector.fromArray(V, h, hBase + i + L), t1);
        }
        double mg = finish(s0, s1, lanes), mgh = finish(t0, t1, lanes);
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
