package org.mkdt.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.mkdt.autograd.Autograd;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;
import org.mkdt.testing.Close;

/** The fused ReLU + pooling against the unfused pair it replaces: same bits, forward and backward. */
class ReluPool2Test {
    private static final CpuBackend CPU = CpuBackend.INSTANCE;

    @Test
    void fusedEqualsAvgPoolOfReluBitForBit() {
        for (DType dtype : DType.values()) {
            Tensor z = Tensor.of(CPU, dtype, Shape.of(2, 3, 6, 10), Close.uniform(5, 360)).requireGrad();
            Tensor fused = ReluPool2.reluPool2(z);
            Tensor unfused = AvgPool2.avgPool2(Elementwise.relu(z));
            assertArrayEquals(unfused.toDoubleArray(), fused.toDoubleArray(), dtype + " forward");
            Tensor w = Tensor.of(CPU, dtype, fused.shape(), Close.uniform(6, fused.numel()));
            Tensor gf = Autograd.grad(Reduce.sumAll(Elementwise.mul(fused, w)), List.of(z), false).get(0);
            Tensor gu = Autograd.grad(Reduce.sumAll(Elementwise.mul(unfused, w)), List.of(z), false).get(0);
            assertArrayEquals(gu.toDoubleArray(), gf.toDoubleArray(), dtype + " backward");
        }
    }
}
