package org.mkdt.stages;

import java.util.ArrayList;
import java.util.List;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.simple.RandomSource;
import org.mkdt.backend.Backend;
import org.mkdt.metagrad.MatchingProblem;
import org.mkdt.metagrad.MetaGradResult;
import org.mkdt.metagrad.MinibatchSchedule;
import org.mkdt.metagrad.RecomputeMetaGrad;
import org.mkdt.nn.ConvNet;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;
import org.mkdt.util.Seeds;

/**
 * MKDT stage 4: distillation by trajectory matching. Each iteration draws an
 * expert and a start epoch, unrolls {@code synSteps} student updates on the synthetic set from
 * the expert's snapshot, and moves the images, targets and learning rate down the exact
 * gradient of the matching loss ({@link RecomputeMetaGrad}), each by SGD with momentum 0.5.
 *
 * <p>Everything random about iteration i (expert, start epoch, minibatches) derives from
 * (seed, i) alone, and the {@link State} holds the rest (the learnables and their momentum
 * buffers), so a run resumed from a checkpoint ends with the same bits as one never stopped.
 */
public final class Distill {
    /** SGD momentum of the images, targets and learning rate (the reference implementation's). */
    public static final double MOMENTUM = 0.5;
    private static final long TAG = 0x44495354L; // "DIST"

    private Distill() {}

    /**
     * @param segments trajectory segments per iteration, unrolled together; their gradients are averaged
     * @param chunk    images of a step's minibatch taken at a time in the meta-gradient (0: all;
     *                 the same result up to float rounding, less activation memory)
     */
    public record Settings(int iterations, int synSteps, int expertEpochs, int maxStartEpoch, int batchSyn,
                           double lrImg, double lrY, double lrLr, long seed, int segments, int chunk) {
        public Settings {
            if (segments < 1) throw new IllegalArgumentException("distill: --segments must be at least 1, got " + segments);
            if (chunk < 0) throw new IllegalArgumentException("distill: --chunk must be 0 (whole minibatch) or positive, got " + chunk);
        }

        /** One segment per iteration, as the reference implementation does, each step taken whole. */
        public Settings(int iterations, int synSteps, int expertEpochs, int maxStartEpoch, int batchSyn, double lrImg, double lrY, double lrLr, long seed) {
            this(iterations, synSteps, expertEpochs, maxStartEpoch, batchSyn, lrImg, lrY, lrLr, seed, 1, 0);
        }
    }

    /** Where expert snapshots come from: row {@code epoch} of expert {@code expert}'s trajectory, (P). */
    public interface Snapshots {
        int experts();

        Tensor snapshot(int expert, int epoch);
    }

    /**
     * The learnables and their optimiser state: everything a checkpoint must hold. Mutated in
     * place by {@link #iterate}.
     */
    public static final class State {
        public final Tensor images;   // (M, C, S, S)
        public final Tensor targets;  // (M, D)
        public final Tensor vImages;  // momentum buffers, like the above
        public final Tensor vTargets;
        public double alpha;
        public double vAlpha;
        public int iteration;         // iterations done
        public final List<Double> losses = new ArrayList<>();

        public State(Tensor images, Tensor targets, Tensor vImages, Tensor vTargets, double alpha, double vAlpha, int iteration) {
            this.images = images;
            this.targets = targets;
            this.vImages = vImages;
            this.vTargets = vTargets;
            this.alpha = alpha;
            this.vAlpha = vAlpha;
            this.iteration = iteration;
        }

        /** A fresh state: the initial set, zero momentum, no iterations. */
        public static State initial(Tensor images, Tensor targets, double alpha) {
            Backend b = images.backend();
            return new State(images, targets, Tensor.zeros(b, DType.F32, images.shape()), Tensor.zeros(b, DType.F32, targets.shape()), alpha, 0, 0);
        }
    }

    /** What one iteration did; expert and startEpoch are the first segment's (experts and startEpochs list all). */
    public record Iteration(int index, int[] experts, int[] startEpochs, double loss, double alpha, long peakBytes) {
        public int expert() {
            return experts[0];
        }

        public int startEpoch() {
            return startEpochs[0];
        }
    }

    /** What iteration {@code index} draws for each segment: its expert, its start epoch, its minibatch order's seed. */
    public record Draw(int[] experts, int[] startEpochs, long[] scheduleSeeds) {}

    /**
     * The random choices of iteration {@code index}, a function of (seed, index) alone: segment j
     * draws what a single segment draws, in turn. The pictures use it to tell each iteration's
     * start epoch without storing it.
     */
    public static Draw draw(Settings s, int index, int experts) {
        return draw(s, index, experts, TAG);
    }

    /** The same draws from the stream that {@code tag} names (a panel's minibatch orders use their own). */
    static Draw draw(Settings s, int index, int experts, long tag) {
        UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(Seeds.of(s.seed(), index, tag));
        int segments = s.segments();
        int[] expert = new int[segments], start = new int[segments];
        long[] seeds = new long[segments];
        for (int j = 0; j < segments; j++) {
            expert[j] = rng.nextInt(experts);
            start[j] = rng.nextInt(s.maxStartEpoch());
            seeds[j] = rng.nextLong();
        }
        return new Draw(expert, start, seeds);
    }

    /** A stop the run cannot continue past: NaN or Inf, or a learning rate that is no longer positive. */
    public static final class Diverged extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Diverged(String message) {
            super(message);
        }
    }

    /**
     * Runs iteration {@code state.iteration + 1}, updating the state. Throws {@link Diverged} on
     * NaN or Inf or a non-positive learned lr; the state must then not be checkpointed (the last
     * checkpoint on disk stays the last good one).
     */
    public static Iteration iterate(ConvNet net, State state, Snapshots experts, Settings s) {
        int index = state.iteration + 1;
        int m = state.images.shape().dim(0);
        int segments = s.segments();
        Draw draw = draw(s, index, experts.experts());
        int[] expert = draw.experts(), start = draw.startEpochs();
        List<MatchingProblem> singles = new ArrayList<>(segments);
        try (Scope scope = Scope.open()) {
            for (int j = 0; j < segments; j++) {
                MinibatchSchedule schedule = MinibatchSchedule.random(m, Math.min(s.batchSyn(), m), s.synSteps(), draw.scheduleSeeds()[j]);
                singles.add(new MatchingProblem(net, experts.snapshot(expert[j], start[j]), experts.snapshot(expert[j], start[j] + s.expertEpochs()),
                        state.images, state.targets, state.alpha, schedule));
            }
            MatchingProblem p = MatchingProblem.ofSegments(singles);
            MetaGradResult r = new RecomputeMetaGrad(s.chunk()).compute(p);
            String where = "iteration " + index + " (expert " + list(expert) + ", start epoch " + list(start) + ")";
            if (!Double.isFinite(r.loss())) throw new Diverged(where + ": the matching loss is " + r.loss());
            if (!Double.isFinite(r.dAlpha())) throw new Diverged(where + ": the learning rate's gradient is " + r.dAlpha());
            requireFinite(r.dImages(), where, "the images' gradient");
            requireFinite(r.dTargets(), where, "the targets' gradient");
            double vAlpha = index == 1 ? r.dAlpha() : MOMENTUM * state.vAlpha + r.dAlpha();
            double alpha = state.alpha - s.lrLr() * vAlpha;
            if (!(alpha > 0)) {
                throw new Diverged(where + ": the learned learning rate would become " + alpha + " (not positive); lower distill.lrLr");
            }
            Backend b = state.images.backend();
            b.sgdStep(state.images, r.dImages(), state.vImages, s.lrImg(), MOMENTUM, 0, index == 1);
            b.sgdStep(state.targets, r.dTargets(), state.vTargets, s.lrY(), MOMENTUM, 0, index == 1);
            // The state is now changed: a non-finite value here ends the run without a checkpoint.
            requireWithin(state.images, IMAGE_LIMIT, where, "an updated image (distill.lrImg too high?)");
            requireFinite(state.targets, where, "an updated target (distill.lrY too high?)");
            state.alpha = alpha;
            state.vAlpha = vAlpha;
            state.iteration = index;
            state.losses.add(r.loss());
            return new Iteration(index, expert, start, r.loss(), alpha, r.peakBytes());
        }
    }

    /** "3" or "3, 0, 7". */
    private static String list(int[] v) {
        return java.util.Arrays.stream(v).mapToObj(Integer::toString).collect(java.util.stream.Collectors.joining(", "));
    }

    /**
     * The largest |pixel| a distilled image may reach, in normalised units (standard deviations
     * of the data set): real images stay within about 5, so 1000 is no image any more, however
     * finite (distill.lrImg = 1e6 otherwise "finishes" with pixels of 1e7).
     */
    static final float IMAGE_LIMIT = 1000f;

    private static void requireWithin(Tensor t, float limit, String where, String what) {
        for (float v : t.toFloatArray()) {
            if (!(Math.abs(v) <= limit)) throw new Diverged(where + ": " + what + " holds " + v + (Float.isFinite(v) ? " (beyond ±" + limit + ", in standard deviations)" : ""));
        }
    }

    private static void requireFinite(Tensor t, String where, String what) {
        requireWithin(t, Float.MAX_VALUE, where, what);
    }

    /** Snapshots held in memory: rows [0, epochs] of each expert's trajectory, as float32 device tensors. */
    public static Snapshots inMemory(List<float[]> trajectories, int params, Backend backend) {
        return new Snapshots() {
            @Override
            public int experts() {
                return trajectories.size();
            }

            @Override
            public Tensor snapshot(int expert, int epoch) {
                float[] t = trajectories.get(expert);
                return Tensor.of(backend, Shape.of(params), java.util.Arrays.copyOfRange(t, epoch * params, (epoch + 1) * params));
            }
        };
    }
}
