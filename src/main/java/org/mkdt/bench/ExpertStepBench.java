package org.mkdt.bench;

import java.util.List;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.simple.RandomSource;
import org.mkdt.autograd.Autograd;
import org.mkdt.backend.Backend;
import org.mkdt.nn.BatchedConvNet;
import org.mkdt.nn.ConvNet;
import org.mkdt.ops.Loss;
import org.mkdt.ops.Reduce;
import org.mkdt.optim.Sgd;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * Expert training throughput: S students (a batch, as {@code experts --batch-students S}
 * trains them) taking full SGD steps (forward, MSE, backward, momentum update with weight
 * decay) on fixed random minibatches of B images each. The work of torch_reference.py expert,
 * S times over; one host round trip per run, as the trainer has one per epoch.
 */
public final class ExpertStepBench {
    private final BatchedConvNet students;
    private final Tensor theta;
    private final Sgd sgd;
    private final Tensor x;
    private final Tensor y;

    public ExpertStepBench(Backend backend, int studentCount, int batch, int width, int outDim) {
        ConvNet net = new ConvNet(3, 32, width, 3, outDim);
        students = new BatchedConvNet(net, studentCount);
        long[] seeds = new long[studentCount];
        for (int s = 0; s < studentCount; s++) seeds[s] = s;
        theta = students.initialParams(backend, DType.F32, seeds).requireGrad();
        sgd = new Sgd(theta, 0.1, 0.9, 1e-4);
        UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(1);
        Shape xs = Shape.of(studentCount, batch, 3, 32, 32), ys = Shape.of(studentCount, batch, outDim);
        x = Tensor.of(backend, DType.F32, xs, GemmBench.uniform(rng, xs.numel()));
        y = Tensor.of(backend, DType.F32, ys, GemmBench.uniform(rng, ys.numel()));
    }

    /** Images one call of {@link #run} trains on: S * B * steps. */
    public long images(int steps) {
        return (long) x.shape().dim(0) * x.shape().dim(1) * steps;
    }

    /** Takes {@code steps} SGD steps of all S students; returns the last loss sum (one host round trip). */
    public double run(int steps) {
        Tensor last = null;
        try (Scope s = Scope.open()) {
            for (int k = 0; k < steps; k++) {
                try (Scope step = Scope.open()) {
                    Tensor loss = Reduce.sumAll(Loss.mseEach(students.forward(theta, x), y));
                    sgd.step(theta, Autograd.grad(loss, List.of(theta), false).get(0));
                    if (k == steps - 1) last = step.keep(loss.detach());
                }
            }
            return last.item();
        }
    }
}
