package org.mkdt.optim;

import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * Limited-memory BFGS for smooth, full-batch objectives (the linear probe): the two-loop
 * recursion over the last {@code memory} steps, a backtracking line search on the Armijo
 * condition; it stops on a small gradient (max |g_i|), when no step decreases the objective
 * any more (the limit of float64), or at the iteration limit. Vectors are double[];
 * the objective is whatever computes a value and its gradient (the engine, for the probe).
 */
public final class Lbfgs {
    /** f(x) and its gradient, written into {@code grad}. */
    @FunctionalInterface
    public interface Objective {
        double valueAndGradient(double[] x, double[] grad);
    }

    /** Where it stopped and why. */
    public record Result(double[] x, double value, int iterations, String stop) {}

    private final int memory;
    private final int maxIterations;
    private final double gradientTolerance;

    public Lbfgs(int memory, int maxIterations, double gradientTolerance) {
        if (memory < 1 || maxIterations < 1 || !(gradientTolerance > 0)) {
            throw new IllegalArgumentException("L-BFGS: memory and iterations must be positive and the tolerance > 0");
        }
        this.memory = memory;
        this.maxIterations = maxIterations;
        this.gradientTolerance = gradientTolerance;
    }

    public Result minimize(Objective f, double[] start) {
        int n = start.length;
        double[] x = start.clone(), g = new double[n];
        double fx = f.valueAndGradient(x, g);
        ArrayDeque<double[][]> pairs = new ArrayDeque<>(); // {s, y, {1 / (y.s)}}
        for (int it = 0; it < maxIterations; it++) {
            if (Vec.maxAbs(g) <= gradientTolerance) return new Result(x, fx, it, "gradient below tolerance");
            double[] d = direction(g, pairs);
            double slope = Vec.dot(g, d);
            if (slope >= 0) { // not a descent direction (numerical trouble): restart from steepest descent
                pairs.clear();
                d = Vec.negate(g);
                slope = Vec.dot(g, d);
            }
            double step = it == 0 && pairs.isEmpty() ? Math.min(1.0, 1.0 / Math.max(1e-12, Math.sqrt(-slope))) : 1.0;
            double[] xNew = new double[n], gNew = new double[n];
            double fNew = Double.NaN;
            boolean accepted = false;
            for (int tries = 0; tries < 40; tries++) {
                for (int i = 0; i < n; i++) xNew[i] = x[i] + step * d[i];
                fNew = f.valueAndGradient(xNew, gNew);
                if (Double.isFinite(fNew) && fNew <= fx + 1e-4 * step * slope) {
                    accepted = true;
                    break;
                }
                step *= 0.5;
            }
            if (!accepted) return new Result(x, fx, it, "line search found no decrease");
            double[] s = new double[n], y = new double[n];
            for (int i = 0; i < n; i++) {
                s[i] = xNew[i] - x[i];
                y[i] = gNew[i] - g[i];
            }
            double ys = Vec.dot(y, s);
            // Keep the pair when the curvature is clearly positive, judged relative to the step
            // (an absolute threshold starves the memory near the optimum, where steps are tiny).
            if (ys > 1e-10 * Math.sqrt(Vec.dot(s, s) * Vec.dot(y, y))) {
                pairs.addLast(new double[][] {s, y, {1.0 / ys}});
                if (pairs.size() > memory) pairs.removeFirst();
            }
            x = xNew;
            g = gNew;
            fx = fNew;
        }
        return new Result(x, fx, maxIterations, "iteration limit");
    }

    /** -H g by the two-loop recursion, H the implicit inverse-Hessian estimate. */
    private static double[] direction(double[] g, ArrayDeque<double[][]> pairs) {
        double[] q = g.clone();
        double[] alpha = new double[pairs.size()];
        int k = pairs.size() - 1;
        for (Iterator<double[][]> it = pairs.descendingIterator(); it.hasNext(); k--) {
            double[][] p = it.next();
            alpha[k] = p[2][0] * Vec.dot(p[0], q);
            Vec.axpy(-alpha[k], p[1], q);
        }
        if (!pairs.isEmpty()) {
            double[][] last = pairs.peekLast();
            double gamma = Vec.dot(last[0], last[1]) / Vec.dot(last[1], last[1]);
            for (int i = 0; i < q.length; i++) q[i] *= gamma;
        }
        k = 0;
        for (double[][] p : pairs) {
            double beta = p[2][0] * Vec.dot(p[1], q);
            Vec.axpy(alpha[k] - beta, p[0], q);
            k++;
        }
        return Vec.negate(q);
    }
}
