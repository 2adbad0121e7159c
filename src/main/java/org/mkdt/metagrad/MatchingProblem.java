package org.mkdt.metagrad;

import org.mkdt.nn.ConvNet;
import org.mkdt.tensor.Tensor;

/**
 * One trajectory-matching evaluation (mkdt-spec.md, stage 4): start the student at theta0,
 * take {@code schedule.steps()} plain SGD steps with learning rate alpha on minibatches of the
 * synthetic set (MSE to the targets), and compare the end point with the expert's theta*:
 * L = ||theta_N - theta*||^2 / ||theta_0 - theta*||^2.
 *
 * @param net       the student architecture
 * @param theta0    expert snapshot at the start epoch, (P)
 * @param thetaStar expert snapshot expert_epochs later, (P)
 * @param images    the synthetic images, (M, C, S, S)
 * @param targets   their target representations, (M, D)
 * @param alpha     the learnable learning rate
 * @param schedule  the minibatch of each step
 */
public record MatchingProblem(ConvNet net, Tensor theta0, Tensor thetaStar, Tensor images, Tensor targets,
                              double alpha, MinibatchSchedule schedule) {

    public MatchingProblem {
        int p = net.numParams();
        if (theta0.numel() != p || thetaStar.numel() != p) {
            throw new IllegalArgumentException("matching: theta0 " + theta0.shape() + " and theta* " + thetaStar.shape()
                    + " must both have the student's " + p + " parameters");
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

    public int steps() {
        return schedule.steps();
    }
}
