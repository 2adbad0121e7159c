package org.mkdt.metagrad;

import java.util.List;
import org.mkdt.autograd.Autograd;
import org.mkdt.autograd.GradMode;
import org.mkdt.backend.Backend;
import org.mkdt.backend.BinaryOp;
import org.mkdt.ops.Elementwise;
import org.mkdt.ops.Reduce;
import org.mkdt.tensor.MemoryStats;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * The exact meta-gradient at the activation memory of one step (MKDT stage 4).
 *
 * <p>Forward sweep: theta_{k+1} = theta_k - alpha g_k, keeping only the N parameter vectors.
 * Reverse sweep, with the adjoint a = dL/dtheta_N (= 2 (theta_N - theta*) / ||theta_0 - theta*||^2 for one segment):
 * <pre>
 *   for k = N-1 .. 0:
 *     recompute step k at theta_k with createGraph;  s = &lt;a, g_k&gt;
 *     dAlpha  -= s                                  (theta_{k+1} depends on alpha through -alpha g_k)
 *     dX      -= alpha * ds/dX,  dY -= alpha * ds/dY   (mixed second derivatives)
 *     a        = a - alpha * ds/dtheta_k            (= (I - alpha H_k) a, a Hessian-vector product)
 * </pre>
 * One backward pass of s gives all three of ds/dtheta_k, ds/dX and ds/dY. Each step's graph is
 * released before the next, and theta_{k+1} once step k is done: memory is N parameter vectors
 * plus one step's double-backward graph, whatever N is. With S segments ({@link MatchingProblem})
 * the same sweep runs on the S students at once, theta_k packed (S * P).
 *
 * <p>The per-step update is one fused backend call per accumulator ({@code adjointStep}), and
 * dAlpha is accumulated on the device: without a trace, the sweep never waits for the host.
 */
public final class RecomputeMetaGrad implements MetaGrad {
    private final int chunk;

    /** Each step taken whole: the activation memory of one step. */
    public RecomputeMetaGrad() {
        this(0);
    }

    /**
     * Each step's minibatch taken {@code chunk} images at a time (0: whole). The chunks' parts
     * of the loss add up to the step's (see InnerStep), so the results are the same up to
     * float rounding, and only one chunk's double-backward graph is alive at a time: the
     * activation memory of {@code chunk} images instead of the minibatch, for somewhat smaller
     * kernels.
     */
    public RecomputeMetaGrad(int chunk) {
        if (chunk < 0) throw new IllegalArgumentException("meta-gradient: chunk must be 0 (whole minibatch) or positive, got " + chunk);
        this.chunk = chunk;
    }

    @Override
    public String name() {
        return "recompute";
    }

    /** [from, to) ranges covering a minibatch of b images, chunk at a time. */
    private int[][] chunks(int b) {
        int c = chunk == 0 ? b : Math.min(chunk, b);
        int[][] out = new int[(b + c - 1) / c][];
        for (int i = 0; i < out.length; i++) out[i] = new int[] {i * c, Math.min(b, (i + 1) * c)};
        return out;
    }

    @Override
    public MetaGradResult compute(MatchingProblem p, SweepTrace trace) {
        MemoryStats mem = p.images().backend().memory();
        long base = mem.startPeakMeasurement();
        int n = p.steps();
        double alpha = p.alpha();
        Tensor[] thetas = new Tensor[n + 1];
        thetas[0] = p.theta0();
        try (Scope outer = Scope.open(); GradMode.Guard mode = GradMode.set(true)) {
            // ---- forward sweep: store theta_k only --------------------------------------------
            for (int k = 0; k < n; k++) thetas[k + 1] = step(p, thetas[k], k, trace);
            double loss;
            Tensor a;
            try (Scope s = Scope.open()) {
                Tensor thetaN = thetas[n].detach().requireGrad();
                Tensor matching = InnerStep.matchingLoss(p, thetaN);
                Tensor adjoint = Autograd.grad(matching, List.of(thetaN), false).get(0);
                loss = matching.item();
                a = Tensor.zeros(adjoint.backend(), adjoint.dtype(), adjoint.shape()); // our own buffer: updated in place below
                a.backend().copy(adjoint, a);
                s.keep(a);
            }
            // ---- reverse sweep: recompute step k, backpropagate <a, g_k> -----------------------
            Tensor dImages = Tensor.zeros(p.images().backend(), p.images().dtype(), p.images().shape());
            Tensor dTargets = Tensor.zeros(p.targets().backend(), p.targets().dtype(), p.targets().shape());
            Tensor dAlpha = Tensor.zeros(p.images().backend(), p.images().dtype(), Shape.of());
            Backend b = a.backend();
            for (int k = n - 1; k >= 0; k--) {
                try (Scope step = Scope.open()) {
                    // H_k a and s_k = <a, g_k> summed over the chunks (a stays a_{k+1} throughout);
                    // the mixed terms go straight into dX and dY, each chunk touching its own rows.
                    Tensor hv = null, sk = null;
                    for (int[] c : chunks(p.schedules().get(0).batch(k).length)) {
                        try (Scope s = Scope.open()) {
                            Tensor theta = thetas[k].detach().requireGrad();
                            Tensor images = p.images().detach().requireGrad();
                            Tensor targets = p.targets().detach().requireGrad();
                            Tensor inner = InnerStep.innerLoss(p, theta, images, targets, k, c[0], c[1]);
                            Tensor g = Autograd.grad(inner, List.of(theta), true).get(0);
                            Tensor sTensor = Reduce.sumAll(Elementwise.mul(g, a));
                            List<Tensor> ds = Autograd.grad(sTensor, List.of(theta, images, targets), false);
                            // Fused, in place, no host round trip: dX -= alpha ds/dX, dY -= alpha ds/dY.
                            b.adjointStep(dImages, ds.get(1), alpha, null, null);
                            b.adjointStep(dTargets, ds.get(2), alpha, null, null);
                            if (hv == null) {
                                hv = s.keep(ds.get(0).detach());
                                sk = s.keep(sTensor.detach());
                            } else {
                                b.binary(BinaryOp.ADD, hv, ds.get(0), hv);
                                b.binary(BinaryOp.ADD, sk, sTensor, sk);
                            }
                        }
                    }
                    double skValue = trace != null ? sk.item() : Double.NaN; // a host round trip: only when traced
                    // a -= alpha H_k a (= (I - alpha H_k) a), with dAlpha -= s_k in the same pass.
                    b.adjointStep(a, hv, alpha, sk, dAlpha);
                    if (trace != null) trace.reverse(k, Math.sqrt(Reduce.sumAll(Elementwise.square(a)).item()), -skValue);
                }
                thetas[k + 1].storage().release(); // no longer needed (theta_0 is the caller's and stays)
            }
            long peak = mem.peakAbove(base);
            outer.keep(dImages, dTargets);
            return new MetaGradResult(loss, dImages, dTargets, dAlpha.item(), peak);
        }
    }

    /**
     * One plain SGD step of the inner loop (all segments at once, the minibatch in chunks):
     * theta_k - alpha * grad l_k(theta_k), outside the graph; the result belongs to the caller's
     * scope, everything else is released.
     */
    Tensor step(MatchingProblem p, Tensor thetaK, int k, SweepTrace trace) {
        try (Scope s = Scope.open(); GradMode.Guard on = GradMode.set(true)) {
            Tensor g = null;
            double loss = 0;
            for (int[] c : chunks(p.schedules().get(0).batch(k).length)) {
                try (Scope part = Scope.open()) {
                    Tensor theta = thetaK.detach().requireGrad();
                    Tensor l = InnerStep.innerLoss(p, theta, p.images(), p.targets(), k, c[0], c[1]);
                    Tensor gc = Autograd.grad(l, List.of(theta), false).get(0);
                    if (trace != null) loss += l.item();
                    if (g == null) g = part.keep(gc.detach());
                    else g.backend().binary(BinaryOp.ADD, g, gc, g);
                }
            }
            if (trace != null) trace.forward(k, loss, Math.sqrt(InnerStep.squaredDistance(thetaK, p.thetaStar()).item()));
            try (GradMode.Guard off = GradMode.noGrad()) {
                return s.keep(Elementwise.sub(thetaK, Elementwise.scale(g, p.alpha())));
            }
        }
    }

    /** The matching loss alone (a forward sweep that keeps one parameter vector at a time). */
    public static double loss(MatchingProblem p) {
        return new RecomputeMetaGrad().lossOf(p);
    }

    private double lossOf(MatchingProblem p) {
        try (Scope s = Scope.open(); GradMode.Guard off = GradMode.noGrad()) {
            Tensor theta = p.theta0();
            for (int k = 0; k < p.steps(); k++) {
                Tensor next = step(p, theta, k, null);
                if (theta != p.theta0()) theta.storage().release();
                theta = next;
            }
            return InnerStep.matchingLoss(p, theta).item();
        }
    }
}
