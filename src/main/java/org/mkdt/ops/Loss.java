package org.mkdt.ops;

import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/** Losses, composed from differentiable ops. */
public final class Loss {
    private Loss() {}

    /** Mean squared error over every element: mean((a - b)^2). */
    public static Tensor mse(Tensor a, Tensor b) {
        Checks.sameShape("mse", a, b);
        return Reduce.meanAll(Elementwise.square(Elementwise.sub(a, b)));
    }

    /**
     * Mean cross-entropy of logits (B, K) against integer labels: log-softmax with the row max
     * subtracted for stability (a constant shift that leaves the value and gradient unchanged).
     */
    public static Tensor crossEntropy(Tensor logits, int[] labels) {
        Checks.rank("crossEntropy", "logits", logits, 2);
        int b = logits.shape().dim(0), k = logits.shape().dim(1);
        Checks.argument(labels.length == b, "crossEntropy: " + labels.length + " labels for logits " + logits.shape());
        double[] onehot = new double[b * k];
        for (int i = 0; i < b; i++) {
            Checks.argument(labels[i] >= 0 && labels[i] < k,
                    "crossEntropy: label " + labels[i] + " at row " + i + " is out of range for " + k + " classes");
            onehot[i * k + labels[i]] = 1.0;
        }
        Tensor z = Elementwise.sub(logits, Reduce.maxConstant(logits, 1));
        Tensor lse = Elementwise.log(Reduce.sum(Elementwise.exp(z), true, 1));
        Tensor logp = Elementwise.sub(z, lse);
        Tensor target = Tensor.of(logits.backend(), logits.dtype(), Shape.of(b, k), onehot);
        return Elementwise.scale(Reduce.sumAll(Elementwise.mul(target, logp)), -1.0 / b);
    }

}
