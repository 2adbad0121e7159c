package org.mkdt.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.ops.Elementwise;
import org.mkdt.ops.Reduce;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

class AutogradTest {
    private static Tensor vec(double... v) {
        return Tensor.of(CpuBackend.INSTANCE, DType.F64, Shape.of(v.length), v);
    }

    @Test
    void gradientOfAGradient() {
        // f = sum(x^3): f' = 3x^2, f'' = 6x (through the recorded backward pass).
        Tensor x = vec(1, -2, 0.5).requireGrad();
        Tensor f = Reduce.sumAll(Elementwise.mul(x, Elementwise.mul(x, x)));
        Tensor g = Autograd.grad(f, List.of(x), true).get(0);
        assertArrayEquals(new double[] {3, 12, 0.75}, g.toDoubleArray(), 1e-12);
        assertTrue(g.requiresGrad(), "createGraph must give a differentiable gradient");
        Tensor h = Autograd.grad(Reduce.sumAll(g), List.of(x), false).get(0);
        assertArrayEquals(new double[] {6, -12, 3}, h.toDoubleArray(), 1e-12);
    }

    @Test
    void withoutCreateGraphTheGradientIsAConstant() {
        Tensor x = vec(1, 2).requireGrad();
        Tensor g = Autograd.grad(Reduce.sumAll(Elementwise.mul(x, x)), List.of(x), false).get(0);
        assertFalse(g.requiresGrad());
        assertEquals(null, g.node());
    }

    @Test
    void usesOfOneTensorAccumulate() {
        Tensor x = vec(2, 3).requireGrad();
        Tensor f = Reduce.sumAll(Elementwise.add(Elementwise.mul(x, x), Elementwise.scale(x, 5)));
        assertArrayEquals(new double[] {9, 11}, Autograd.grad(f, List.of(x), false).get(0).toDoubleArray(), 0.0);
    }

    @Test
    void anInputTheOutputDoesNotUseGetsZeros() {
        Tensor x = vec(1, 2).requireGrad(), unused = vec(7, 7, 7).requireGrad();
        List<Tensor> g = Autograd.grad(Reduce.sumAll(x), List.of(x, unused), false);
        assertArrayEquals(new double[] {0, 0, 0}, g.get(1).toDoubleArray(), 0.0);
    }

    @Test
    void anOutputComputedWithoutRecordingIsRejected() {
        // Under noGrad nothing is recorded: a gradient would be a silent zero (a linear probe
        // fitted that way once predicted one class), so it is an error, as in PyTorch.
        Tensor x = vec(1, 2).requireGrad();
        Tensor f;
        try (GradMode.Guard off = GradMode.noGrad()) {
            f = Reduce.sumAll(Elementwise.mul(x, x));
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Autograd.grad(f, List.of(x), false));
        assertTrue(e.getMessage().contains("no output requires grad"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> Autograd.grad(Reduce.sumAll(vec(3, 4)), List.of(x), false), "a constant output");
    }

    @Test
    void anInputThatDoesNotRequireGradIsRejected() {
        Tensor x = vec(1, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Autograd.grad(Reduce.sumAll(x), List.of(x), false));
        assertTrue(e.getMessage().contains("requireGrad"), e.getMessage());
    }

    @Test
    void nonScalarOutputNeedsASeed() {
        Tensor x = vec(1, 2).requireGrad();
        assertThrows(IllegalArgumentException.class, () -> Autograd.grad(Elementwise.mul(x, x), List.of(x), false));
        Tensor g = Autograd.grad(List.of(Elementwise.mul(x, x)), List.of(vec(1, 10)), List.of(x), false).get(0);
        assertArrayEquals(new double[] {2, 40}, g.toDoubleArray(), 0.0);
    }

    @Test
    void deepChainsDoNotOverflowTheStack() {
        Tensor x = vec(1.0).requireGrad();
        Tensor y = x;
        for (int i = 0; i < 20_000; i++) y = Elementwise.affine(y, 1.0, 1e-3);
        assertArrayEquals(new double[] {1.0}, Autograd.grad(Reduce.sumAll(y), List.of(x), false).get(0).toDoubleArray(), 0.0);
    }
}
