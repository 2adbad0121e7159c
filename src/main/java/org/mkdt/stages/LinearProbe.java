package org.mkdt.stages;

import java.util.List;
import org.mkdt.autograd.Autograd;
import org.mkdt.backend.Backend;
import org.mkdt.io.NdArray;
import org.mkdt.ops.Elementwise;
import org.mkdt.ops.Gemm;
import org.mkdt.ops.Loss;
import org.mkdt.ops.Reduce;
import org.mkdt.optim.Lbfgs;
import org.mkdt.optim.TorchLbfgs;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * The evaluation protocol's linear probe: multinomial logistic regression on frozen features,
 * mean cross-entropy + l2 * ||W||^2 (bias not penalised), fitted full-batch by L-BFGS with the
 * loss and gradient computed by the engine in float64; accuracy on held-out features.
 */
public final class LinearProbe {
    /** The protocol's penalty. */
    public static final double L2 = 1e-3;

    /** The converged probe's iteration limit (it usually stops earlier, on a small gradient). */
    public static final int ITERATIONS = 500;

    /**
     * How the probe is fitted. CONVERGED: from zero, by {@link Lbfgs} with a line search, to a
     * small gradient (this project's default). REFERENCE: as the MKDT reference fits it, from
     * nn.Linear's default initialisation by torch.optim.LBFGS's defaults without a line search,
     * 100 calls of step() ({@link TorchLbfgs}); it can diverge, and then predicts one class.
     */
    public enum Protocol {
        CONVERGED, REFERENCE;

        public static Protocol parse(String s) {
            return switch (s) {
                case "converged" -> CONVERGED;
                case "reference" -> REFERENCE;
                default -> throw new IllegalArgumentException("--probe must be converged or reference, got " + s);
            };
        }

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** A fitted probe: W (K, F) and b (K), the final objective and how the fit ended. */
    public record Model(double[] w, double[] b, int classes, int features, double loss, String stop) {}

    private LinearProbe() {}

    /** The converged probe (the project's default protocol). */
    public static Model fit(NdArray features, int[] labels, int classes, double l2, int maxIterations, Backend backend) {
        return fit(features, labels, classes, l2, Protocol.CONVERGED, maxIterations, 0, backend);
    }

    /** A probe fitted by {@code protocol}; {@code seed} draws the reference protocol's initialisation. */
    public static Model fit(NdArray features, int[] labels, int classes, double l2, Protocol protocol, int maxIterations, long seed, Backend backend) {
        int[] s = features.shape();
        if (s.length != 2 || s[0] != labels.length) throw new IllegalArgumentException("probe: features " + features.describe() + " for " + labels.length + " labels");
        int n = s[0], f = s[1];
        // The features are uploaded once (unscoped: they live as long as the fit), not per evaluation.
        Tensor feats = Tensor.of(backend, DType.F64, Shape.of(n, f), features.toDoubles());
        Lbfgs.Objective objective = (p, grad) -> {
            // Recording on whatever the caller's mode: the fit needs the gradient (a probe run
            // under noGrad once fitted nothing and predicted one class).
            try (Scope scope = Scope.open(); org.mkdt.autograd.GradMode.Guard on = org.mkdt.autograd.GradMode.set(true)) {
                Tensor w = Tensor.of(backend, DType.F64, Shape.of(classes, f), java.util.Arrays.copyOfRange(p, 0, classes * f)).requireGrad();
                Tensor b = Tensor.of(backend, DType.F64, Shape.of(classes), java.util.Arrays.copyOfRange(p, classes * f, p.length)).requireGrad();
                Tensor loss = Elementwise.add(Loss.crossEntropy(Gemm.linear(feats, w, b), labels),
                        Elementwise.scale(Reduce.sumAll(Elementwise.square(w)), l2));
                List<Tensor> g = Autograd.grad(loss, List.of(w, b), false);
                System.arraycopy(g.get(0).toDoubleArray(), 0, grad, 0, classes * f);
                System.arraycopy(g.get(1).toDoubleArray(), 0, grad, classes * f, classes);
                return loss.item();
            }
        };
        double[] x;
        double value;
        String stop;
        if (protocol == Protocol.CONVERGED) {
            Lbfgs.Result r = new Lbfgs(10, maxIterations, 1e-6).minimize(objective, new double[classes * f + classes]);
            x = r.x();
            value = r.value();
            stop = r.stop() + " after " + r.iterations() + " iterations";
        } else {
            TorchLbfgs.Result r = TorchLbfgs.minimize(objective, linearDefaultInit(classes, f, seed), TorchLbfgs.REFERENCE_STEPS);
            x = r.x();
            value = r.value();
            stop = (Double.isFinite(value) ? "finished" : "diverged") + " after " + r.evaluations() + " evaluations";
        }
        return new Model(java.util.Arrays.copyOfRange(x, 0, classes * f), java.util.Arrays.copyOfRange(x, classes * f, x.length), classes, f, value, stop);
    }

    /** nn.Linear(f, classes)'s default initialisation, seeded: W and b uniform in +-1/sqrt(f). */
    static double[] linearDefaultInit(int classes, int f, long seed) {
        org.apache.commons.rng.UniformRandomProvider rng = org.apache.commons.rng.simple.RandomSource.XO_RO_SHI_RO_128_PP.create(org.mkdt.util.Seeds.of(seed, 0x70726f6265L));
        double bound = 1 / Math.sqrt(f);
        double[] p = new double[classes * f + classes];
        for (int i = 0; i < p.length; i++) p[i] = bound * (2 * rng.nextDouble() - 1);
        return p;
    }

    /**
     * Fraction of rows whose highest score is their label. A NaN score wins (it compares as
     * the largest, as torch's max does), so a diverged probe predicts a fixed class, as the
     * reference's does.
     */
    public static double accuracy(Model m, NdArray features, int[] labels) {
        double[] x = features.toDoubles();
        int n = labels.length, f = m.features(), correct = 0;
        for (int i = 0; i < n; i++) {
            int best = 0;
            double bestScore = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < m.classes(); k++) {
                double score = m.b()[k];
                for (int j = 0; j < f; j++) score += m.w()[k * f + j] * x[i * f + j];
                if (score > bestScore || (Double.isNaN(score) && !Double.isNaN(bestScore))) {
                    bestScore = score;
                    best = k;
                }
            }
            if (best == labels[i]) correct++;
        }
        return n == 0 ? 0 : (double) correct / n;
    }

    /** A seeded random fraction of [0, n) (at least one index): the labelled subset. */
    public static int[] labelledSubset(int n, double fraction, long seed) {
        if (!(fraction > 0) || fraction > 1) throw new IllegalArgumentException("probe: label fraction must be in (0, 1], got " + fraction);
        return InitialSubset.random(n, Math.max(1, (int) Math.round(n * fraction)), seed);
    }
}
