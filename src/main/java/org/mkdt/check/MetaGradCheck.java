package org.mkdt.check;

import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.simple.RandomSource;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.metagrad.MatchingProblem;
import org.mkdt.metagrad.MetaGradResult;
import org.mkdt.metagrad.NaiveMetaGrad;
import org.mkdt.metagrad.RecomputeMetaGrad;
import org.mkdt.metagrad.SweepTrace;
import org.mkdt.metagrad.ToyProblem;
import org.mkdt.ops.Elementwise;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Tensor;

/**
 * The three claims about the exact meta-gradient, checked in float64 on {@link ToyProblem}:
 * <ol>
 *   <li>recompute equals the naive unroll (the oracle) to 1e-10 relative;</li>
 *   <li>recompute equals central finite differences of the matching loss along seeded random
 *       directions in the images, the targets and alpha, to 1e-6 relative;</li>
 *   <li>recompute's peak memory grows by exactly the stored parameter vectors between two
 *       values of N (within 10% of (N2 - N1) |theta| bytes), while naive's grows with its graph.</li>
 * </ol>
 */
public final class MetaGradCheck {
    public static final double AGREEMENT_TOLERANCE = 1e-10;
    public static final double FINITE_DIFFERENCE_TOLERANCE = 1e-6;
    public static final double MEMORY_TOLERANCE = 0.10;
    /** Relative step for central differences of the matching loss. */
    public static final double STEP = 1e-6;

    public record Agreement(int steps, double imagesError, double targetsError, double alphaError) {
        public double max() {
            return Math.max(imagesError, Math.max(targetsError, alphaError));
        }

        public boolean pass() {
            return max() <= AGREEMENT_TOLERANCE;
        }
    }

    public record Directional(String what, double analytic, double numeric) {
        public double error() {
            double scale = Math.max(Math.abs(analytic), Math.abs(numeric));
            return scale == 0 ? 0 : Math.abs(analytic - numeric) / scale;
        }

        public boolean pass() {
            return error() <= FINITE_DIFFERENCE_TOLERANCE;
        }
    }

    public record Memory(int smallN, int largeN, long paramBytes, long recomputeSmall, long recomputeLarge, long naiveSmall, long naiveLarge) {
        /** (N2 - N1) |theta| bytes: what storing the extra parameter vectors must cost. */
        public long expectedGrowth() {
            return (largeN - smallN) * paramBytes;
        }

        public double recomputeGrowthRatio() {
            return (double) (recomputeLarge - recomputeSmall) / expectedGrowth();
        }

        public double naiveGrowthRatio() {
            return (double) (naiveLarge - naiveSmall) / expectedGrowth();
        }

        /** Recompute grows by the stored vectors only; naive grows by far more (its graph). */
        public boolean pass() {
            return Math.abs(recomputeGrowthRatio() - 1) <= MEMORY_TOLERANCE && naiveGrowthRatio() > 2;
        }
    }

    private MetaGradCheck() {}

    public static Agreement agreement(int steps, long seed) {
        CpuBackend cpu = new CpuBackend();
        try (Scope s = Scope.open()) {
            MatchingProblem p = ToyProblem.create(cpu, DType.F64, steps, seed);
            MetaGradResult naive = new NaiveMetaGrad().compute(p);
            MetaGradResult fast = new RecomputeMetaGrad().compute(p);
            return new Agreement(steps,
                    GradCheck.relativeError(java.util.List.of(naive.dImages().toDoubleArray()), java.util.List.of(fast.dImages().toDoubleArray())),
                    GradCheck.relativeError(java.util.List.of(naive.dTargets().toDoubleArray()), java.util.List.of(fast.dTargets().toDoubleArray())),
                    GradCheck.relativeError(java.util.List.of(new double[] {naive.dAlpha()}), java.util.List.of(new double[] {fast.dAlpha()})));
        }
    }

    /**
     * Segments: S trajectory segments unrolled together as one batch of students against the
     * mean of the S segments' own meta-gradients (each unrolled alone); float64, so the two
     * should agree to rounding.
     */
    public static Agreement segments(int count, int steps, long seed) {
        CpuBackend cpu = new CpuBackend();
        try (Scope s = Scope.open()) {
            java.util.List<MatchingProblem> singles = ToyProblem.segments(cpu, DType.F64, steps, seed, count);
            MetaGradResult batched = new RecomputeMetaGrad().compute(MatchingProblem.ofSegments(singles));
            double[] images = new double[batched.dImages().numel()], targets = new double[batched.dTargets().numel()];
            double alpha = 0;
            for (MatchingProblem p : singles) {
                MetaGradResult r = new RecomputeMetaGrad().compute(p);
                double[] di = r.dImages().toDoubleArray(), dt = r.dTargets().toDoubleArray();
                for (int i = 0; i < images.length; i++) images[i] += di[i] / count;
                for (int i = 0; i < targets.length; i++) targets[i] += dt[i] / count;
                alpha += r.dAlpha() / count;
            }
            return new Agreement(steps,
                    GradCheck.relativeError(java.util.List.of(images), java.util.List.of(batched.dImages().toDoubleArray())),
                    GradCheck.relativeError(java.util.List.of(targets), java.util.List.of(batched.dTargets().toDoubleArray())),
                    GradCheck.relativeError(java.util.List.of(new double[] {alpha}), java.util.List.of(new double[] {batched.dAlpha()})));
        }
    }

    /** Directional derivatives along seeded random directions: images, targets, alpha. */
    public static Directional[] finiteDifferences(int steps, long seed) {
        CpuBackend cpu = new CpuBackend();
        try (Scope s = Scope.open()) {
            MatchingProblem p = ToyProblem.create(cpu, DType.F64, steps, seed);
            MetaGradResult r = new RecomputeMetaGrad().compute(p);
            UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(seed + 100);
            Tensor dirImages = random(rng, p.images());
            Tensor dirTargets = random(rng, p.targets());
            double hImages = STEP * maxAbs(p.images()), hTargets = STEP * maxAbs(p.targets()), hAlpha = STEP * p.alpha();
            double numImages = (RecomputeMetaGrad.loss(with(p, Elementwise.add(p.images(), Elementwise.scale(dirImages, hImages)), p.targets(), p.alpha()))
                    - RecomputeMetaGrad.loss(with(p, Elementwise.sub(p.images(), Elementwise.scale(dirImages, hImages)), p.targets(), p.alpha()))) / (2 * hImages);
            double numTargets = (RecomputeMetaGrad.loss(with(p, p.images(), Elementwise.add(p.targets(), Elementwise.scale(dirTargets, hTargets)), p.alpha()))
                    - RecomputeMetaGrad.loss(with(p, p.images(), Elementwise.sub(p.targets(), Elementwise.scale(dirTargets, hTargets)), p.alpha()))) / (2 * hTargets);
            double numAlpha = (RecomputeMetaGrad.loss(with(p, p.images(), p.targets(), p.alpha() + hAlpha))
                    - RecomputeMetaGrad.loss(with(p, p.images(), p.targets(), p.alpha() - hAlpha))) / (2 * hAlpha);
            return new Directional[] {
                new Directional("images", dot(r.dImages(), dirImages), numImages),
                new Directional("targets", dot(r.dTargets(), dirTargets), numTargets),
                new Directional("alpha", r.dAlpha(), numAlpha)};
        }
    }

    /** Peak bytes of both implementations at two values of N, each on its own backend instance. */
    public static Memory memory(int smallN, int largeN, long seed) {
        long paramBytes = (long) ToyProblem.net().numParams() * DType.F64.bytes();
        return new Memory(smallN, largeN, paramBytes,
                peak(new RecomputeMetaGrad(), smallN, seed), peak(new RecomputeMetaGrad(), largeN, seed),
                peak(new NaiveMetaGrad(), smallN, seed), peak(new NaiveMetaGrad(), largeN, seed));
    }

    /** The toy problem's sweeps, for {@code check metagrad --trace}. */
    public static SweepTrace trace(int steps, long seed) {
        CpuBackend cpu = new CpuBackend();
        try (Scope s = Scope.open()) {
            SweepTrace t = new SweepTrace();
            new RecomputeMetaGrad().compute(ToyProblem.create(cpu, DType.F64, steps, seed), t);
            return t;
        }
    }

    private static long peak(org.mkdt.metagrad.MetaGrad impl, int steps, long seed) {
        CpuBackend cpu = new CpuBackend();
        try (Scope s = Scope.open()) {
            return impl.compute(ToyProblem.create(cpu, DType.F64, steps, seed)).peakBytes();
        }
    }

    private static MatchingProblem with(MatchingProblem p, Tensor images, Tensor targets, double alpha) {
        return p.with(images, targets, alpha);
    }

    private static Tensor random(UniformRandomProvider rng, Tensor like) {
        double[] v = new double[like.numel()];
        for (int i = 0; i < v.length; i++) v[i] = 2 * rng.nextDouble() - 1;
        return Tensor.of(like.backend(), like.dtype(), like.shape(), v);
    }

    private static double maxAbs(Tensor t) {
        double m = 0;
        for (double v : t.toDoubleArray()) m = Math.max(m, Math.abs(v));
        return m;
    }

    private static double dot(Tensor a, Tensor b) {
        double[] x = a.toDoubleArray(), y = b.toDoubleArray();
        double s = 0;
        for (int i = 0; i < x.length; i++) s += x[i] * y[i];
        return s;
    }
}
