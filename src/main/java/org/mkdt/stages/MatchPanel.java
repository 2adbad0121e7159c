package org.mkdt.stages;

import org.mkdt.metagrad.MatchingProblem;
import org.mkdt.metagrad.MinibatchSchedule;
import org.mkdt.metagrad.RecomputeMetaGrad;
import org.mkdt.nn.ConvNet;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Tensor;

/**
 * The matching loss on a fixed panel of trajectory segments: the figure that says whether
 * distillation lowered its own objective. An iteration's logged loss is measured on the segment
 * that iteration drew (another expert, start epoch and minibatch order each time), so its curve
 * is mostly the spread between segments; the panel holds the segments fixed, so the initial and
 * the distilled set are compared on the same ones.
 *
 * <p>Segment k starts from expert k mod E at epoch (k div E) mod maxStartEpoch, so a panel of
 * E x maxStartEpoch segments covers every (expert, start epoch) pair once; its minibatch orders
 * come from a seed stream of their own. The experts are the ones distillation matched: the panel
 * measures the objective, not how it generalises to unseen experts.
 */
public final class MatchPanel {
    private static final long TAG = 0x50414E4CL; // "PANL"

    private MatchPanel() {}

    /**
     * The panel's three readings. {@code imagesOnly} is the distilled images and targets with the
     * initial learning rate: what the images learned, apart from the lr (a longer student step
     * alone moves the student further along the expert's path).
     */
    public record Result(int segments, double initial, double imagesOnly, double distilled, double alphaInit, double alpha) {
        /** (after - before) / before, in percent. */
        public static double change(double before, double after) {
            return 100 * (after - before) / before;
        }
    }

    /** The three readings for an initial and a distilled set. */
    public static Result of(ConvNet net, Distill.Snapshots experts, Distill.Settings s, int segments,
                            Tensor initImages, Tensor initTargets, double alphaInit, Distill.State distilled) {
        return new Result(segments,
                loss(net, experts, s, segments, initImages, initTargets, alphaInit),
                loss(net, experts, s, segments, distilled.images, distilled.targets, alphaInit),
                loss(net, experts, s, segments, distilled.images, distilled.targets, distilled.alpha),
                alphaInit, distilled.alpha);
    }

    /** The mean matching loss of (images, targets, alpha) over the panel's first {@code segments} segments. */
    public static double loss(ConvNet net, Distill.Snapshots experts, Distill.Settings s, int segments, Tensor images, Tensor targets, double alpha) {
        if (segments < 1) throw new IllegalArgumentException("the matching panel needs at least 1 segment, got " + segments);
        int m = images.shape().dim(0), e = experts.experts();
        double sum = 0;
        for (int k = 0; k < segments; k++) {
            int expert = k % e, start = (k / e) % s.maxStartEpoch();
            long order = Distill.draw(s, k + 1, e, TAG).scheduleSeeds()[0];
            try (Scope scope = Scope.open()) {
                MinibatchSchedule schedule = MinibatchSchedule.random(m, Math.min(s.batchSyn(), m), s.synSteps(), order);
                sum += RecomputeMetaGrad.loss(new MatchingProblem(net, experts.snapshot(expert, start), experts.snapshot(expert, start + s.expertEpochs()),
                        images, targets, alpha, schedule));
            }
        }
        return sum / segments;
    }
}
