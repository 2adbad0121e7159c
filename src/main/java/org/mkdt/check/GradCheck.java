package org.mkdt.check;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.simple.RandomSource;
import org.mkdt.autograd.Autograd;
import org.mkdt.ops.Elementwise;
import org.mkdt.ops.Reduce;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Tensor;

/**
 * Finite-difference gradient checks in float64, coordinate by coordinate.
 *
 * <p>First order: the autodiff gradient of a scalar f against central differences
 * (f(x + e) - f(x - e)) / 2e. Second order: for a fixed random v, h(x) = &lt;v, grad f(x)&gt;;
 * the gradient of h obtained by differentiating the recorded backward pass (createGraph)
 * against central differences of h, each h computed by a first-order backward pass. The
 * error is max |autodiff - numeric| / max(|numeric|, |autodiff|), over all coordinates of all
 * inputs: a scale-free number that central differences in float64 bring to about 1e-9.
 */
public final class GradCheck {
    /** Central-difference step: balances truncation (e^2) against rounding (1e-16 / e). */
    public static final double STEP = 1e-5;

    private GradCheck() {}

    /** A scalar function of float64 CPU tensors. */
    public interface ScalarFunction extends Function<List<Tensor>, Tensor> {}

    /** First-order error of f at the given input values. */
    public static double firstOrder(ScalarFunction f, List<Tensor> inputs) {
        List<double[]> x = values(inputs);
        List<double[]> analytic;
        try (Scope s = Scope.open()) {
            List<Tensor> in = leaves(inputs, x);
            analytic = toArrays(Autograd.grad(f.apply(in), in, false));
        }
        List<double[]> numeric = centralDifferences(x, inputs, xs -> value(f, inputs, xs));
        return relativeError(analytic, numeric);
    }

    /** Second-order error: gradient of &lt;v, grad f&gt; by double backward vs finite differences. */
    public static double secondOrder(ScalarFunction f, List<Tensor> inputs, long seed) {
        List<double[]> x = values(inputs);
        List<double[]> v = randomLike(x, seed);
        List<double[]> analytic;
        try (Scope s = Scope.open()) {
            List<Tensor> in = leaves(inputs, x);
            List<Tensor> g = Autograd.grad(f.apply(in), in, true);
            Tensor h = innerProduct(g, v, inputs);
            analytic = h.requiresGrad() ? toArrays(Autograd.grad(h, in, false)) : zerosLike(x);
        }
        List<double[]> numeric = centralDifferences(x, inputs, xs -> {
            try (Scope s = Scope.open()) {
                List<Tensor> in = leaves(inputs, xs);
                List<Tensor> g = Autograd.grad(f.apply(in), in, false);
                return innerProduct(g, v, inputs).item();
            }
        });
        return relativeError(analytic, numeric);
    }

    /**
     * First and second order along seeded random directions instead of every coordinate, for
     * models too large to perturb one coordinate at a time: returns {first, second} errors,
     * each the largest over the directions of |autodiff - numeric| / max(|autodiff|, |numeric|).
     */
    public static double[] directional(ScalarFunction f, List<Tensor> inputs, int directions, long seed) {
        List<double[]> x = values(inputs);
        List<double[]> v = randomLike(x, seed);
        double[] worst = new double[2];
        List<double[]> g1, g2;
        try (Scope s = Scope.open()) {
            List<Tensor> in = leaves(inputs, x);
            List<Tensor> g = Autograd.grad(f.apply(in), in, true);
            g1 = toArrays(g);
            Tensor h = innerProduct(g, v, inputs);
            g2 = toArrays(Autograd.grad(h, in, false));
        }
        for (int d = 0; d < directions; d++) {
            // A unit direction: a step of STEP along it moves the activations as little as a
            // single-coordinate step does, so few ReLU kinks are crossed.
            List<double[]> dir = randomLike(x, seed + 1000 + d);
            double norm = Math.sqrt(dot(dir, dir));
            for (double[] a : dir) for (int j = 0; j < a.length; j++) a[j] /= norm;
            double a1 = dot(g1, dir), a2 = dot(g2, dir);
            double n1 = (value(f, inputs, shifted(x, dir, STEP)) - value(f, inputs, shifted(x, dir, -STEP))) / (2 * STEP);
            double n2 = (innerValue(f, inputs, shifted(x, dir, STEP), v) - innerValue(f, inputs, shifted(x, dir, -STEP), v)) / (2 * STEP);
            worst[0] = Math.max(worst[0], relative(a1, n1));
            worst[1] = Math.max(worst[1], relative(a2, n2));
        }
        return worst;
    }

    private static double innerValue(ScalarFunction f, List<Tensor> like, List<double[]> xs, List<double[]> v) {
        try (Scope s = Scope.open()) {
            List<Tensor> in = leaves(like, xs);
            return innerProduct(Autograd.grad(f.apply(in), in, false), v, like).item();
        }
    }

    private static List<double[]> shifted(List<double[]> x, List<double[]> dir, double h) {
        List<double[]> out = new ArrayList<>();
        for (int i = 0; i < x.size(); i++) {
            double[] a = x.get(i).clone();
            for (int j = 0; j < a.length; j++) a[j] += h * dir.get(i)[j];
            out.add(a);
        }
        return out;
    }

    private static double dot(List<double[]> a, List<double[]> b) {
        double s = 0;
        for (int i = 0; i < a.size(); i++) for (int j = 0; j < a.get(i).length; j++) s += a.get(i)[j] * b.get(i)[j];
        return s;
    }

    private static double relative(double a, double b) {
        double scale = Math.max(Math.abs(a), Math.abs(b));
        return scale == 0 ? 0 : Math.abs(a - b) / scale;
    }

    // ---- helpers --------------------------------------------------------------------------

    private static Tensor innerProduct(List<Tensor> g, List<double[]> v, List<Tensor> like) {
        Tensor h = null;
        for (int i = 0; i < g.size(); i++) {
            Tensor vi = Tensor.of(like.get(i).backend(), DType.F64, like.get(i).shape(), v.get(i));
            Tensor term = Reduce.sumAll(Elementwise.mul(g.get(i), vi));
            h = h == null ? term : Elementwise.add(h, term);
        }
        return h;
    }

    private static double value(ScalarFunction f, List<Tensor> like, List<double[]> xs) {
        try (Scope s = Scope.open()) {
            return f.apply(leaves(like, xs)).item();
        }
    }

    private interface Eval {
        double at(List<double[]> xs);
    }

    private static List<double[]> centralDifferences(List<double[]> x, List<Tensor> like, Eval eval) {
        List<double[]> out = new ArrayList<>();
        for (double[] xi : x) {
            double[] d = new double[xi.length];
            for (int j = 0; j < xi.length; j++) {
                double keep = xi[j];
                xi[j] = keep + STEP;
                double up = eval.at(x);
                xi[j] = keep - STEP;
                double down = eval.at(x);
                xi[j] = keep;
                d[j] = (up - down) / (2 * STEP);
            }
            out.add(d);
        }
        return out;
    }

    /** max |a - b| / max(max |a|, max |b|); 0 when both are zero. */
    public static double relativeError(List<double[]> a, List<double[]> b) {
        double diff = 0, scale = 0;
        for (int i = 0; i < a.size(); i++) {
            for (int j = 0; j < a.get(i).length; j++) {
                double p = a.get(i)[j], q = b.get(i)[j];
                if (!Double.isFinite(p) || !Double.isFinite(q)) return Double.POSITIVE_INFINITY;
                diff = Math.max(diff, Math.abs(p - q));
                scale = Math.max(scale, Math.max(Math.abs(p), Math.abs(q)));
            }
        }
        return scale == 0 ? 0 : diff / scale;
    }

    private static List<double[]> values(List<Tensor> inputs) {
        List<double[]> out = new ArrayList<>();
        for (Tensor t : inputs) {
            if (t.dtype() != DType.F64) throw new IllegalArgumentException("gradient checks run in float64, got " + t);
            out.add(t.toDoubleArray());
        }
        return out;
    }

    private static List<Tensor> leaves(List<Tensor> like, List<double[]> xs) {
        List<Tensor> out = new ArrayList<>();
        for (int i = 0; i < like.size(); i++) {
            out.add(Tensor.of(like.get(i).backend(), DType.F64, like.get(i).shape(), xs.get(i)).requireGrad());
        }
        return out;
    }

    private static List<double[]> toArrays(List<Tensor> ts) {
        List<double[]> out = new ArrayList<>();
        for (Tensor t : ts) out.add(t.toDoubleArray());
        return out;
    }

    private static List<double[]> zerosLike(List<double[]> x) {
        List<double[]> out = new ArrayList<>();
        for (double[] a : x) out.add(new double[a.length]);
        return out;
    }

    private static List<double[]> randomLike(List<double[]> x, long seed) {
        UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(seed);
        List<double[]> out = new ArrayList<>();
        for (double[] a : x) {
            double[] r = new double[a.length];
            for (int i = 0; i < r.length; i++) r[i] = 2 * rng.nextDouble() - 1;
            out.add(r);
        }
        return out;
    }
}
