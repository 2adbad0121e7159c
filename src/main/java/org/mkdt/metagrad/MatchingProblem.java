package org.mkdt.metagrad;

import java.util.ArrayList;
import java.util.List;
import org.mkdt.nn.BatchedConvNet;
import org.mkdt.nn.ConvNet;
import org.mkdt.tensor.Tensor;

/**
 * One trajectory-matching evaluation (MKDT stage 4): start the student at theta0,
 * take {@code steps()} plain SGD steps with learning rate alpha on minibatches of the
 * synthetic set (MSE to the targets), and compare the end point with the expert's theta*:
 * L = ||theta_N - theta*||^2 / ||theta_0 - theta*||^2.
 *
 * <p>Segments: with S schedules, S such segments (each from its own expert snapshot) are
 * unrolled together as one batch of S students ({@link BatchedConvNet}), and L is the mean of
 * their matching losses, so its gradient is the mean of the S segments' gradients. theta0 and
 * theta* then hold the S students' parameters packed (S * P). One schedule is the usual single
 * segment (and the packed layout of one student is its plain flat vector).
 *
 * @param net       the student architecture
 * @param theta0    expert snapshots at the start epochs, (S * P)
 * @param thetaStar expert snapshots expert_epochs later, (S * P)
 * @param images    the synthetic images, (M, C, S, S)
 * @param targets   their target representations, (M, D)
 * @param alpha     the learnable learning rate
 * @param schedules the minibatch of each step, one schedule per segment
 */
public record MatchingProblem(ConvNet net, Tensor theta0, Tensor thetaStar, Tensor images, Tensor targets,
                              double alpha, List<MinibatchSchedule> schedules) {

    public MatchingProblem {
        schedules = List.copyOf(schedules);
        if (schedules.isEmpty()) throw new IllegalArgumentException("matching: needs at least one segment (schedule)");
        int steps = schedules.get(0).steps();
        for (int s = 0; s < schedules.size(); s++) {
            MinibatchSchedule sc = schedules.get(s);
            if (sc.steps() != steps) throw new IllegalArgumentException("matching: segment " + s + " has " + sc.steps() + " steps, segment 0 has " + steps);
            for (int k = 0; k < steps; k++) {
                if (sc.batch(k).length != schedules.get(0).batch(k).length) {
                    throw new IllegalArgumentException("matching: segment " + s + " step " + k + " has a minibatch of " + sc.batch(k).length
                            + ", segment 0 of " + schedules.get(0).batch(k).length + " (segments run as one batch)");
                }
            }
        }
        long p = (long) net.numParams() * schedules.size();
        if (theta0.numel() != p || thetaStar.numel() != p) {
            throw new IllegalArgumentException("matching: theta0 " + theta0.shape() + " and theta* " + thetaStar.shape()
                    + " must both have " + schedules.size() + " x the student's " + net.numParams() + " parameters");
        }
        int m = images.shape().dim(0);
        if (!images.shape().equals(net.inputShape(m))) {
            throw new IllegalArgumentException("matching: images " + images.shape() + " do not fit the student's input " + net.inputShape(m));
        }
        if (targets.shape().rank() != 2 || targets.shape().dim(0) != m || targets.shape().dim(1) != net.outDim()) {
            throw new IllegalArgumentException("matching: targets " + targets.shape() + " must be (" + m + ", " + net.outDim() + ") for images " + images.shape());
        }
        if (!(alpha > 0) || !Double.isFinite(alpha)) {
            throw new IllegalArgumentException("matching: the learning rate alpha must be positive and finite, got " + alpha);
        }
        if (theta0.dtype() != images.dtype() || targets.dtype() != images.dtype() || thetaStar.dtype() != images.dtype()) {
            throw new IllegalArgumentException("matching: theta0, theta*, images and targets must share one dtype");
        }
    }

    /** One segment. */
    public MatchingProblem(ConvNet net, Tensor theta0, Tensor thetaStar, Tensor images, Tensor targets, double alpha, MinibatchSchedule schedule) {
        this(net, theta0, thetaStar, images, targets, alpha, List.of(schedule));
    }

    /**
     * S single segments (same network, images, targets and alpha; each its own snapshots and
     * schedule) as one problem whose loss is their mean; one segment is returned as it is.
     */
    public static MatchingProblem ofSegments(List<MatchingProblem> singles) {
        if (singles.isEmpty()) throw new IllegalArgumentException("matching: needs at least one segment");
        MatchingProblem first = singles.get(0);
        if (singles.size() == 1) return first;
        List<Tensor> theta0s = new ArrayList<>(), thetaStars = new ArrayList<>();
        List<MinibatchSchedule> schedules = new ArrayList<>();
        for (MatchingProblem p : singles) {
            if (p.segments() != 1 || p.net() != first.net() || p.images() != first.images() || p.targets() != first.targets() || p.alpha() != first.alpha()) {
                throw new IllegalArgumentException("matching: segments must be single and share the network, images, targets and alpha");
            }
            theta0s.add(p.theta0());
            thetaStars.add(p.thetaStar());
            schedules.add(p.schedules().get(0));
        }
        BatchedConvNet students = new BatchedConvNet(first.net(), singles.size());
        return new MatchingProblem(first.net(), students.pack(theta0s), students.pack(thetaStars), first.images(), first.targets(), first.alpha(), schedules);
    }

    public int steps() {
        return schedules.get(0).steps();
    }

    public int segments() {
        return schedules.size();
    }

    /** The S segments' students as one batch. */
    public BatchedConvNet students() {
        return new BatchedConvNet(net, segments());
    }

    /** The same segments with other learnables (images, targets, alpha). */
    public MatchingProblem with(Tensor newImages, Tensor newTargets, double newAlpha) {
        return new MatchingProblem(net, theta0, thetaStar, newImages, newTargets, newAlpha, schedules);
    }
}
