package org.mkdt.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.mkdt.testing.Close.assertClose;
import static org.mkdt.testing.Close.uniform;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.mkdt.autograd.Autograd;
import org.mkdt.autograd.GradMode;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

class InstanceNormTest {
    private static final CpuBackend CPU = CpuBackend.INSTANCE;

    @Test
    void knownAnswerWithAffine() {
        // One image, two channels of 2x2: plane 0 = 1,2,3,4 (mean 2.5, biased var 1.25), plane 1 constant 7.
        Tensor x = Tensor.of(CPU, DType.F64, Shape.of(1, 2, 2, 2), new double[] {1, 2, 3, 4, 7, 7, 7, 7});
        Tensor gamma = Tensor.of(CPU, DType.F64, Shape.of(2), new double[] {2, 3});
        Tensor beta = Tensor.of(CPU, DType.F64, Shape.of(2), new double[] {0.5, -1});
        double s = 1 / Math.sqrt(1.25 + 1e-5);
        double[] expected = {2 * -1.5 * s + 0.5, 2 * -0.5 * s + 0.5, 2 * 0.5 * s + 0.5, 2 * 1.5 * s + 0.5, -1, -1, -1, -1};
        assertArrayEquals(expected, InstanceNorm.instanceNorm(x, gamma, beta, InstanceNorm.EPS).toDoubleArray(), 1e-12);
    }

    @Test
    void fusedBackwardEqualsTheDifferentiableFormula() {
        Tensor x = Tensor.of(CPU, DType.F64, Shape.of(3, 4, 5, 7), uniform(11, 3 * 4 * 5 * 7)).requireGrad();
        Tensor g = Tensor.of(CPU, DType.F64, Shape.of(3, 4, 5, 7), uniform(12, 3 * 4 * 5 * 7));
        Tensor y = InstanceNorm.normalize(x, InstanceNorm.EPS);
        Tensor fused = Autograd.grad(List.of(y), List.of(g), List.of(x), false).get(0);
        Tensor composite;
        try (GradMode.Guard guard = GradMode.noGrad()) {
            composite = InstanceNorm.differentiableGrad(x, g, InstanceNorm.EPS);
        }
        assertClose(composite.toDoubleArray(), fused.toDoubleArray(), 1e-12, 1e-10, "instanceNorm backward");
    }

    @Test
    void fusedSecondDerivativeEqualsTheCompositeFormulas() {
        Tensor x = Tensor.of(CPU, DType.F64, Shape.of(2, 3, 4, 5), uniform(14, 120)).requireGrad();
        Tensor g = Tensor.of(CPU, DType.F64, Shape.of(2, 3, 4, 5), uniform(15, 120)).requireGrad();
        Tensor u = Tensor.of(CPU, DType.F64, Shape.of(2, 3, 4, 5), uniform(16, 120));
        // Fused: the recorded gradient of normalize, then the gradient of <u, it>.
        Tensor fusedDx = Autograd.grad(List.of(InstanceNorm.normalize(x, InstanceNorm.EPS)), List.of(g), List.of(x), true).get(0);
        List<Tensor> fused = Autograd.grad(Reduce.sumAll(Elementwise.mul(u, fusedDx)), List.of(x, g), false);
        // Composite: the same gradient written with elementwise ops, differentiated by their rules.
        Tensor compositeDx = InstanceNorm.differentiableGrad(x, g, InstanceNorm.EPS);
        List<Tensor> composite = Autograd.grad(Reduce.sumAll(Elementwise.mul(u, compositeDx)), List.of(x, g), false);
        assertClose(composite.get(0).toDoubleArray(), fused.get(0).toDoubleArray(), 1e-12, 1e-9, "d/dx");
        assertClose(composite.get(1).toDoubleArray(), fused.get(1).toDoubleArray(), 1e-12, 1e-9, "d/dg");
    }

    @Test
    void float32MatchesFloat64() {
        double[] v = uniform(13, 2 * 3 * 8 * 8);
        Tensor y64 = InstanceNorm.normalize(Tensor.of(CPU, DType.F64, Shape.of(2, 3, 8, 8), v), InstanceNorm.EPS);
        Tensor y32 = InstanceNorm.normalize(Tensor.of(CPU, DType.F32, Shape.of(2, 3, 8, 8), v), InstanceNorm.EPS);
        assertClose(y64.toDoubleArray(), y32.toFloatArray(), 1e-5, 1e-5, "instanceNorm float32");
    }
}
