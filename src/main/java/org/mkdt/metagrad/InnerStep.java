package org.mkdt.metagrad;

import org.mkdt.ops.Elementwise;
import org.mkdt.ops.Loss;
import org.mkdt.ops.Reduce;
import org.mkdt.ops.Rows;
import org.mkdt.tensor.Tensor;

/** The pieces both meta-gradients share: one inner loss, and the matching loss. */
final class InnerStep {
    private InnerStep() {}

    /** l_k = MSE(f(images[idx]; theta), targets[idx]). */
    static Tensor innerLoss(MatchingProblem p, Tensor theta, Tensor images, Tensor targets, int[] idx) {
        return Loss.mse(p.net().forward(theta, Rows.gather(images, idx)), Rows.gather(targets, idx));
    }

    /** ||a - b||^2 as a scalar tensor. */
    static Tensor squaredDistance(Tensor a, Tensor b) {
        return Reduce.sumAll(Elementwise.square(Elementwise.sub(a, b)));
    }
}
