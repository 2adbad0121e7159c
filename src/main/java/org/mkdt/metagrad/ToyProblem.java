package org.mkdt.metagrad;

import java.util.List;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.simple.RandomSource;
import org.mkdt.autograd.Autograd;
import org.mkdt.autograd.GradMode;
import org.mkdt.backend.Backend;
import org.mkdt.nn.ConvNet;
import org.mkdt.ops.Elementwise;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * A small seeded matching problem for checks and tests: a depth-2, width-6 ConvNet on 8x8
 * images with 4 outputs, 10 synthetic images, minibatches of 4. theta* is a short "expert":
 * theta0 after 8 SGD steps at learning rate 0.05 on the same images (its own minibatch order),
 * so the student's alpha = 0.02 has a real target to chase.
 */
public final class ToyProblem {
    public static final int IMAGES = 10;
    public static final int BATCH = 4;

    private ToyProblem() {}

    public static ConvNet net() {
        return new ConvNet(3, 8, 6, 2, 4);
    }

    public static MatchingProblem create(Backend backend, DType dtype, int steps, long seed) {
        ConvNet net = net();
        UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(seed);
        Tensor images = Tensor.of(backend, dtype, net.inputShape(IMAGES), uniform(rng, net.inputShape(IMAGES).numel()));
        Tensor targets = Tensor.of(backend, dtype, Shape.of(IMAGES, net.outDim()), uniform(rng, IMAGES * net.outDim()));
        Tensor theta0 = net.initialParams(backend, dtype, seed);
        Tensor thetaStar = expert(net, theta0, images, targets, seed + 1);
        return new MatchingProblem(net, theta0, thetaStar, images, targets, 0.02, MinibatchSchedule.random(IMAGES, BATCH, steps, seed + 2));
    }

    /**
     * {@code count} single segments on one shared synthetic set (the images and targets of
     * {@code create(.., seed)}), each with its own start, expert end point and minibatch order:
     * what {@link MatchingProblem#ofSegments} batches.
     */
    public static List<MatchingProblem> segments(Backend backend, DType dtype, int steps, long seed, int count) {
        MatchingProblem base = create(backend, dtype, steps, seed);
        java.util.ArrayList<MatchingProblem> out = new java.util.ArrayList<>(count);
        for (int j = 0; j < count; j++) {
            Tensor theta0 = base.net().initialParams(backend, dtype, seed + 100 + j);
            Tensor thetaStar = expert(base.net(), theta0, base.images(), base.targets(), seed + 200 + j);
            out.add(new MatchingProblem(base.net(), theta0, thetaStar, base.images(), base.targets(), base.alpha(),
                    MinibatchSchedule.random(IMAGES, BATCH, steps, seed + 300 + j)));
        }
        return out;
    }

    private static Tensor expert(ConvNet net, Tensor theta0, Tensor images, Tensor targets, long seed) {
        MinibatchSchedule schedule = MinibatchSchedule.random(IMAGES, BATCH, 8, seed);
        MatchingProblem shape = new MatchingProblem(net, theta0, theta0, images, targets, 0.05, schedule);
        try (Scope s = Scope.open()) {
            Tensor theta = theta0;
            for (int k = 0; k < schedule.steps(); k++) {
                Tensor leaf = theta.detach().requireGrad();
                Tensor g = Autograd.grad(InnerStep.innerLoss(shape, leaf, images, targets, k), List.of(leaf), false).get(0);
                try (GradMode.Guard off = GradMode.noGrad()) {
                    theta = Elementwise.sub(theta, Elementwise.scale(g, 0.05));
                }
            }
            return s.keep(theta);
        }
    }

    private static double[] uniform(UniformRandomProvider rng, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = 2 * rng.nextDouble() - 1;
        return v;
    }
}
