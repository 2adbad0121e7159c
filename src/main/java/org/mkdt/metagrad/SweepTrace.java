package org.mkdt.metagrad;

import java.util.ArrayList;
import java.util.List;

/**
 * What a learner wants to see of one meta-gradient: the forward sweep (the inner loss l_k and
 * the distance ||theta_k - theta*|| at each step) and the reverse sweep (the norm of the
 * adjoint a_k = dL/dtheta_k and step k's contribution -<a_{k+1}, g_k> to dL/dalpha).
 */
public final class SweepTrace {
    /** Forward step k: loss on its minibatch at theta_k, and ||theta_k - theta*||. */
    public record Forward(int step, double innerLoss, double distanceToTarget) {}

    /** Reverse step k: ||a_k|| after the step's update, and the step's term of dL/dalpha. */
    public record Reverse(int step, double adjointNorm, double alphaContribution) {}

    private final List<Forward> forward = new ArrayList<>();
    private final List<Reverse> reverse = new ArrayList<>();

    void forward(int step, double innerLoss, double distance) {
        forward.add(new Forward(step, innerLoss, distance));
    }

    void reverse(int step, double adjointNorm, double alphaContribution) {
        reverse.add(new Reverse(step, adjointNorm, alphaContribution));
    }

    public List<Forward> forwardSteps() {
        return forward;
    }

    public List<Reverse> reverseSteps() {
        return reverse;
    }
}
