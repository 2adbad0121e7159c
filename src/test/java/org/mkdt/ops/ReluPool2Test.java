package org.mkdt.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.mkdt.autograd.Autograd;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;
import org.mkdt.testing.Close;

/** The fused affine + ReLU + pooling against the unfused ops it replaces: the same bits. */
class ReluPool2Test {
    private static final CpuBackend CPU = CpuBackend.INSTANCE;

    /** A plane narrower than a vector chunk with a tail (6 x 10), and the student's 16 x 16 (whole 16-element chunks). */
    private static final Shape[] SHAPES = {Shape.of(2, 3, 6, 10), Shape.of(2, 3, 16, 16)};

    @Test
    void fusedEqualsAvgPoolOfReluBitForBit() {
        for (Shape shape : SHAPES) for (DType dtype : DType.values()) {
            Tensor z = Tensor.of(CPU, dtype, shape, Close.uniform(5, shape.numel())).requireGrad();
            Tensor fused = ReluPool2.reluPool2(z);
            Tensor unfused = AvgPool2.avgPool2(Elementwise.relu(z));
            assertArrayEquals(unfused.toDoubleArray(), fused.toDoubleArray(), dtype + " forward");
            Tensor w = Tensor.of(CPU, dtype, fused.shape(), Close.uniform(6, fused.numel()));
            Tensor gf = Autograd.grad(Reduce.sumAll(Elementwise.mul(fused, w)), List.of(z), false).get(0);
            Tensor gu = Autograd.grad(Reduce.sumAll(Elementwise.mul(unfused, w)), List.of(z), false).get(0);
            assertArrayEquals(gu.toDoubleArray(), gf.toDoubleArray(), dtype + " backward");
        }
    }

    @Test
    void fusedAffineEqualsTheSeparateMulAddReluAndPool() {
        for (Shape shape : SHAPES) for (DType dtype : DType.values()) {
            Shape planes = Shape.of(2, 3);
            Tensor x = Tensor.of(CPU, dtype, shape, Close.uniform(7, shape.numel()));
            Tensor scale = Tensor.of(CPU, dtype, planes, Close.uniform(8, 6)), shift = Tensor.of(CPU, dtype, planes, Close.uniform(9, 6));
            Shape perPlane = Shape.of(2, 3, 1, 1);
            Tensor fused = ReluPool2.reluPool2(x, scale, shift);
            Tensor unfused = AvgPool2.avgPool2(Elementwise.relu(Elementwise.add(Elementwise.mul(x, Shaping.reshape(scale, perPlane)), Shaping.reshape(shift, perPlane))));
            assertArrayEquals(unfused.toDoubleArray(), fused.toDoubleArray(), dtype + " forward");
        }
    }

    /**
     * Without createGraph the affine form's backward is one fused backend call; with it, the
     * differentiable ops. Both give the same gradients: dx to the bit (one product each way),
     * dscale and dshift to the float rounding of the sums' order.
     */
    @Test
    void fusedFirstOrderBackwardEqualsTheComposedOne() {
        for (Shape shape : SHAPES) for (DType dtype : DType.values()) {
            Shape planes = Shape.of(2, 3);
            Tensor x = Tensor.of(CPU, dtype, shape, Close.uniform(17, shape.numel())).requireGrad();
            Tensor scale = Tensor.of(CPU, dtype, planes, Close.uniform(18, 6)).requireGrad();
            Tensor shift = Tensor.of(CPU, dtype, planes, Close.uniform(19, 6)).requireGrad();
            Shape pooled = Shape.of(2, 3, shape.dim(2) / 2, shape.dim(3) / 2);
            Tensor g = Tensor.of(CPU, dtype, pooled, Close.uniform(20, pooled.numel()));
            List<Tensor> fused = Autograd.grad(List.of(ReluPool2.reluPool2(x, scale, shift)), List.of(g), List.of(x, scale, shift), false);
            List<Tensor> composed = Autograd.grad(List.of(ReluPool2.reluPool2(x, scale, shift)), List.of(g), List.of(x, scale, shift), true);
            assertArrayEquals(composed.get(0).toDoubleArray(), fused.get(0).toDoubleArray(), dtype + " dx");
            double tol = dtype == DType.F32 ? 1e-5 : 1e-13;
            assertArrayEquals(composed.get(1).toDoubleArray(), fused.get(1).toDoubleArray(), tol, dtype + " dscale");
            assertArrayEquals(composed.get(2).toDoubleArray(), fused.get(2).toDoubleArray(), tol, dtype + " dshift");
        }
    }

    @Test
    void rejectsOddSizesAndMismatchedScales() {
        Tensor odd = Tensor.zeros(CPU, DType.F32, Shape.of(1, 2, 5, 4));
        assertThrows(IllegalArgumentException.class, () -> ReluPool2.reluPool2(odd));
        Tensor x = Tensor.zeros(CPU, DType.F32, Shape.of(1, 2, 4, 4));
        assertThrows(IllegalArgumentException.class, () -> ReluPool2.reluPool2(x, Tensor.zeros(CPU, DType.F32, Shape.of(2)), Tensor.zeros(CPU, DType.F32, Shape.of(2))));
        assertThrows(IllegalArgumentException.class, () -> ReluPool2.reluPool2(x, Tensor.zeros(CPU, DType.F32, Shape.of(1, 2)), null));
    }
}
