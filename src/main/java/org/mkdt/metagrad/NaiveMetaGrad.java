package org.mkdt.metagrad;

import java.util.List;
import org.mkdt.autograd.Autograd;
import org.mkdt.autograd.GradMode;
import org.mkdt.ops.Elementwise;
import org.mkdt.tensor.MemoryStats;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Tensor;

/**
 * The oracle: unroll all N steps with createGraph, so theta_N is one big differentiable
 * expression of the images, targets and alpha, and backpropagate once. This is what the
 * reference implementation does; its memory holds every step's double-backward graph and
 * grows with N. Small configurations only.
 */
public final class NaiveMetaGrad implements MetaGrad {
    @Override
    public String name() {
        return "naive";
    }

    @Override
    public MetaGradResult compute(MatchingProblem p, SweepTrace trace) {
        MemoryStats mem = p.images().backend().memory();
        long base = mem.startPeakMeasurement();
        try (Scope s = Scope.open(); GradMode.Guard g = GradMode.set(true)) {
            Tensor images = p.images().detach().requireGrad();
            Tensor targets = p.targets().detach().requireGrad();
            Tensor alpha = Tensor.scalar(images.backend(), images.dtype(), p.alpha()).requireGrad();
            Tensor theta = p.theta0().detach().requireGrad();
            for (int k = 0; k < p.steps(); k++) {
                Tensor loss = InnerStep.innerLoss(p, theta, images, targets, k);
                if (trace != null) {
                    try (GradMode.Guard off = GradMode.noGrad()) {
                        trace.forward(k, loss.item(), Math.sqrt(InnerStep.squaredDistance(theta, p.thetaStar()).item()));
                    }
                }
                Tensor grad = Autograd.grad(loss, List.of(theta), true).get(0);
                theta = Elementwise.sub(theta, Elementwise.mul(alpha, grad));
            }
            Tensor matching = InnerStep.matchingLoss(p, theta);
            List<Tensor> grads = Autograd.grad(matching, List.of(images, targets, alpha), false);
            double loss = matching.item();
            double dAlpha = grads.get(2).item();
            long peak = mem.peakAbove(base);
            s.keep(grads.get(0), grads.get(1));
            return new MetaGradResult(loss, grads.get(0), grads.get(1), dAlpha, peak);
        }
    }
}
