package org.mkdt.optim;

import org.mkdt.tensor.Tensor;

/**
 * SGD with momentum and weight decay on one flat parameter vector, as torch.optim.SGD does it:
 * the weight decay joins the gradient, the momentum buffer starts as the first gradient, and
 * the update is lr times the buffer. One fused primitive per step.
 */
public final class Sgd {
    private final double lr;
    private final double momentum;
    private final double weightDecay;
    private final Tensor buf;
    private boolean first = true;

    /** @param theta the parameters updated in place (a leaf; its data changes each step) */
    public Sgd(Tensor theta, double lr, double momentum, double weightDecay) {
        if (!(lr > 0) || momentum < 0 || momentum >= 1 || weightDecay < 0) {
            throw new IllegalArgumentException("SGD: need lr > 0, 0 <= momentum < 1, weight decay >= 0; got " + lr + ", " + momentum + ", " + weightDecay);
        }
        this.lr = lr;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.buf = Tensor.zeros(theta.backend(), theta.dtype(), theta.shape());
    }

    /** theta <- theta - lr * buf after folding {@code grad} into the momentum buffer. */
    public void step(Tensor theta, Tensor grad) {
        step(theta, grad, lr);
    }

    /** The same step at learning rate {@code stepLr} (a schedule's value for this step). */
    public void step(Tensor theta, Tensor grad, double stepLr) {
        if (!grad.shape().equals(theta.shape()) || !buf.shape().equals(theta.shape())) {
            throw new IllegalArgumentException("SGD: gradient " + grad.shape() + " and parameters " + theta.shape() + " must match the buffer " + buf.shape());
        }
        theta.backend().sgdStep(theta, grad, buf, stepLr, momentum, weightDecay, first);
        first = false;
    }
}
