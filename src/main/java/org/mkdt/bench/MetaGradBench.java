package org.mkdt.bench;

import java.util.ArrayList;
import java.util.List;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.simple.RandomSource;
import org.mkdt.backend.Backend;
import org.mkdt.metagrad.MatchingProblem;
import org.mkdt.metagrad.MetaGrad;
import org.mkdt.metagrad.MetaGradResult;
import org.mkdt.metagrad.MinibatchSchedule;
import org.mkdt.nn.ConvNet;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * One distillation iteration's meta-gradient at a given shape (the MKDT CIFAR shape by
 * default: N = 40 steps of batch 256 over 1000 synthetic 3x32x32 images, D = 512, ConvNet-3
 * width 128), float32, random data: the work is the same whatever the values.
 */
public final class MetaGradBench {
    private final MatchingProblem problem;

    public MetaGradBench(Backend backend, int steps, int batch, int images, int width, int outDim, long seed) {
        this(backend, steps, batch, images, width, outDim, seed, 1);
    }

    /** With {@code segments} trajectory segments per iteration (each its own start, end and minibatches), unrolled as one batch. */
    public MetaGradBench(Backend backend, int steps, int batch, int images, int width, int outDim, long seed, int segments) {
        ConvNet net = new ConvNet(3, 32, width, 3, outDim);
        UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(seed);
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.of(backend, DType.F32, net.inputShape(images), GemmBench.uniform(rng, net.inputShape(images).numel()));
            Tensor y = Tensor.of(backend, DType.F32, Shape.of(images, outDim), GemmBench.uniform(rng, images * outDim));
            List<MatchingProblem> singles = new ArrayList<>();
            for (int j = 0; j < segments; j++) {
                double[] theta0 = net.initialParams(seed + j);
                double[] star = theta0.clone();
                for (int i = 0; i < star.length; i++) star[i] += 0.01 * (2 * rng.nextDouble() - 1);
                Tensor t0 = Tensor.of(backend, DType.F32, Shape.of(theta0.length), theta0);
                Tensor ts = Tensor.of(backend, DType.F32, Shape.of(star.length), star);
                singles.add(new MatchingProblem(net, t0, ts, x, y, 0.1, MinibatchSchedule.random(images, batch, steps, seed + j)));
            }
            problem = MatchingProblem.ofSegments(singles);
            s.keep(x, y, problem.theta0(), problem.thetaStar());
        }
    }

    public MatchingProblem problem() {
        return problem;
    }

    /** Runs one meta-gradient; returns its result with gradients released (only the figures are kept). */
    public MetaGradResult run(MetaGrad impl) {
        try (Scope s = Scope.open()) {
            MetaGradResult r = impl.compute(problem);
            return new MetaGradResult(r.loss(), null, null, r.dAlpha(), r.peakBytes());
        }
    }

    /** Bytes of the problem's own tensors (images, targets, theta0, theta*): live before the call. */
    public long inputBytes() {
        return problem.images().storage().bytes() + problem.targets().storage().bytes()
                + problem.theta0().storage().bytes() + problem.thetaStar().storage().bytes();
    }
}
