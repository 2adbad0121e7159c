package org.mkdt.bench;

import java.util.List;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.simple.RandomSource;
import org.mkdt.autograd.Autograd;
import org.mkdt.backend.Backend;
import org.mkdt.nn.ConvNet;
import org.mkdt.ops.Loss;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * One student training step without the update: forward, MSE to random targets, backward to
 * the flat parameters. The same work as numpy_reference.py student-step, so the two compare.
 */
public final class StudentStep {
    private final ConvNet net;
    private final Tensor theta;
    private final Tensor x;
    private final Tensor y;

    public StudentStep(Backend backend, int batch, int channels, int width, int outDim) {
        this.net = new ConvNet(channels, 32, width, 3, outDim);
        this.theta = net.initialParams(backend, DType.F32, 0).requireGrad();
        UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(1);
        this.x = Tensor.of(backend, DType.F32, net.inputShape(batch), GemmBench.uniform(rng, net.inputShape(batch).numel()));
        this.y = Tensor.of(backend, DType.F32, Shape.of(batch, outDim), GemmBench.uniform(rng, batch * outDim));
    }

    public int batch() {
        return x.shape().dim(0);
    }

    /** Runs one step; returns the loss (so the work cannot be dropped). */
    public double run() {
        try (Scope s = Scope.open()) {
            Tensor loss = Loss.mse(net.forward(theta, x), y);
            List<Tensor> g = Autograd.grad(loss, List.of(theta), false);
            return loss.item() + g.get(0).toFloatArray()[0] * 0.0;
        }
    }
}
