package org.mkdt.metagrad;

import org.mkdt.nn.BatchedConvNet;
import org.mkdt.ops.Elementwise;
import org.mkdt.ops.Loss;
import org.mkdt.ops.Reduce;
import org.mkdt.ops.Rows;
import org.mkdt.ops.Shaping;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/** The pieces both meta-gradients share: one inner loss, and the matching loss. */
final class InnerStep {
    private InnerStep() {}

    /**
     * Step k's inner loss of every segment, summed: sum over s of MSE(f(images[idx_s]; theta_s),
     * targets[idx_s]). The segments are independent, so its gradient in the packed theta is each
     * segment's own gradient side by side.
     */
    static Tensor innerLoss(MatchingProblem p, Tensor theta, Tensor images, Tensor targets, int k) {
        return innerLoss(p, theta, images, targets, k, 0, p.schedules().get(0).batch(k).length);
    }

    /**
     * The part of step k's inner loss that images [from, to) of each segment's minibatch
     * contribute: each segment's MSE over those rows, weighted by their share of the minibatch
     * (to - from) / b. The student treats every image on its own (instance norm, no batch
     * statistics), so these parts add up to the whole loss, and their gradients, Hessian-vector
     * products and mixed terms to the whole step's: a step can be taken in chunks whose graphs
     * are alive one at a time.
     */
    static Tensor innerLoss(MatchingProblem p, Tensor theta, Tensor images, Tensor targets, int k, int from, int to) {
        int segments = p.segments();
        int b = p.schedules().get(0).batch(k).length, c = to - from;
        int[] idx = new int[segments * c];
        for (int s = 0; s < segments; s++) System.arraycopy(p.schedules().get(s).batch(k), from, idx, s * c, c);
        Shape in = p.net().inputShape(c);
        Tensor x = Shaping.reshape(Rows.gather(images, idx), Shape.of(segments, c, in.dim(1), in.dim(2), in.dim(3)));
        Tensor y = Shaping.reshape(Rows.gather(targets, idx), Shape.of(segments, c, p.net().outDim()));
        Tensor loss = Reduce.sumAll(Loss.mseEach(p.students().forward(theta, x), y));
        return c == b ? loss : Elementwise.scale(loss, (double) c / b);
    }

    /**
     * The matching loss of theta_N, differentiable: the mean over segments of
     * ||theta_N,s - theta*_s||^2 / ||theta_0,s - theta*_s||^2 (the denominators are constants).
     */
    static Tensor matchingLoss(MatchingProblem p, Tensor thetaN) {
        BatchedConvNet students = p.students();
        Tensor denominators = students.squaredNorms(Elementwise.sub(p.theta0().detach(), p.thetaStar().detach())).detach();
        Tensor each = Elementwise.div(students.squaredNorms(Elementwise.sub(thetaN, p.thetaStar())), denominators);
        return Elementwise.scale(Reduce.sumAll(each), 1.0 / p.segments());
    }

    /** ||a - b||^2 as a scalar tensor. */
    static Tensor squaredDistance(Tensor a, Tensor b) {
        return Reduce.sumAll(Elementwise.square(Elementwise.sub(a, b)));
    }
}
