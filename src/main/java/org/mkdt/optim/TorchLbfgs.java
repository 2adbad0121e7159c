package org.mkdt.optim;

import java.util.ArrayList;
import java.util.List;

/**
 * L-BFGS as PyTorch's {@code torch.optim.LBFGS} runs with its defaults (lr 1, no line search,
 * history 100, 20 iterations and 25 evaluations per {@code step()}, tolerances 1e-7 on the
 * gradient and 1e-9 on changes), called {@code steps} times: what the MKDT reference's linear
 * probe does (100 calls, {@code linear_evaluation.py}). It exists to reproduce that probe, not
 * to be a good optimiser: every step after the first is a full quasi-Newton step of length 1
 * with nothing to stop it from overshooting, so on badly scaled features the loss can grow
 * without bound and end as NaN. {@link Lbfgs} is the converging probe.
 *
 * <p>State carries over between calls as it does in PyTorch (direction, step, history, the
 * previous gradient); each call re-evaluates the objective at the current point first.
 */
public final class TorchLbfgs {
    /** The reference's settings: torch's defaults, 100 calls of step(). */
    public static final int REFERENCE_STEPS = 100;
    private static final int MAX_ITER = 20, MAX_EVAL = 25, HISTORY = 100;
    private static final double TOL_GRAD = 1e-7, TOL_CHANGE = 1e-9;

    /** The point reached, its last objective value (NaN when it diverged), the objective evaluations made. */
    public record Result(double[] x, double value, int evaluations) {}

    private TorchLbfgs() {}

    public static Result minimize(Lbfgs.Objective f, double[] start, int steps) {
        int n = start.length;
        double[] x = start.clone();
        List<double[]> oldDirs = new ArrayList<>(), oldSteps = new ArrayList<>();
        List<Double> ro = new ArrayList<>();
        double[] d = null, prevGrad = null;
        double t = 0, hDiag = 1, loss = Double.NaN;
        int totalIter = 0, evaluations = 0;
        for (int call = 0; call < steps; call++) {
            double[] grad = new double[n];
            loss = f.valueAndGradient(x, grad);
            evaluations++;
            int currentEvals = 1;
            if (Vec.maxAbs(grad) <= TOL_GRAD) continue; // already optimal: torch returns at once
            for (int iter = 1; iter <= MAX_ITER; iter++) {
                totalIter++;
                if (totalIter == 1) {
                    d = Vec.negate(grad);
                    oldDirs.clear();
                    oldSteps.clear();
                    ro.clear();
                    hDiag = 1;
                } else {
                    double[] y = new double[n], s = new double[n];
                    for (int i = 0; i < n; i++) {
                        y[i] = grad[i] - prevGrad[i];
                        s[i] = d[i] * t;
                    }
                    double ys = Vec.dot(y, s);
                    if (ys > 1e-10) { // torch's absolute curvature test
                        if (oldDirs.size() == HISTORY) {
                            oldDirs.remove(0);
                            oldSteps.remove(0);
                            ro.remove(0);
                        }
                        oldDirs.add(y);
                        oldSteps.add(s);
                        ro.add(1 / ys);
                        hDiag = ys / Vec.dot(y, y);
                    }
                    d = twoLoop(grad, oldDirs, oldSteps, ro, hDiag);
                }
                prevGrad = grad.clone();
                double prevLoss = loss;
                t = totalIter == 1 ? Math.min(1, 1 / sumAbs(grad)) : 1; // lr 1
                double gtd = Vec.dot(grad, d);
                if (gtd > -TOL_CHANGE) break; // not a descent direction (false for NaN: it goes on)
                for (int i = 0; i < n; i++) x[i] += t * d[i];
                boolean optimal = false;
                if (iter != MAX_ITER) {
                    grad = new double[n];
                    loss = f.valueAndGradient(x, grad);
                    evaluations++;
                    currentEvals++;
                    optimal = Vec.maxAbs(grad) <= TOL_GRAD;
                }
                if (iter == MAX_ITER || currentEvals >= MAX_EVAL || optimal) break;
                if (Vec.maxAbs(d) * t <= TOL_CHANGE || Math.abs(loss - prevLoss) < TOL_CHANGE) break;
            }
        }
        return new Result(x, loss, evaluations);
    }

    /** -H g by the two-loop recursion over the stored pairs, H0 = hDiag * I (torch's order of operations). */
    private static double[] twoLoop(double[] grad, List<double[]> dirs, List<double[]> steps, List<Double> ro, double hDiag) {
        int k = dirs.size();
        double[] al = new double[k], q = Vec.negate(grad);
        for (int i = k - 1; i >= 0; i--) {
            al[i] = Vec.dot(steps.get(i), q) * ro.get(i);
            Vec.axpy(-al[i], dirs.get(i), q);
        }
        for (int i = 0; i < q.length; i++) q[i] *= hDiag;
        for (int i = 0; i < k; i++) {
            double be = Vec.dot(dirs.get(i), q) * ro.get(i);
            Vec.axpy(al[i] - be, steps.get(i), q);
        }
        return q;
    }

    private static double sumAbs(double[] v) {
        double s = 0;
        for (double x : v) s += Math.abs(x);
        return s;
    }
}
