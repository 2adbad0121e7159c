package org.mkdt.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

class SgdTest {
    private static Tensor vec(double... v) {
        return Tensor.of(CpuBackend.INSTANCE, DType.F64, Shape.of(v.length), v);
    }

    @Test
    void followsTorchOptimSgd() {
        // torch.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01), p = [1, -2], grads g1, g2, g3:
        // d = g + 0.01 p; buf = d (first), else 0.9 buf + d; p -= 0.1 buf. Worked by hand:
        Tensor p = vec(1, -2);
        Sgd sgd = new Sgd(p, 0.1, 0.9, 0.01);
        sgd.step(p, vec(0.5, 0.25));   // d = (0.51, 0.23); buf = d; p = (0.949, -2.023)
        assertArrayEquals(new double[] {0.949, -2.023}, p.toDoubleArray(), 1e-12);
        sgd.step(p, vec(-1, 0));       // d = (-0.99051, -0.02023); buf = (-0.53151, 0.18677); p = (1.002151, -2.041677)
        assertArrayEquals(new double[] {1.002151, -2.041677}, p.toDoubleArray(), 1e-12);
    }

    @Test
    void rejectsBadSettingsAndShapes() {
        Tensor p = vec(1, 2);
        assertThrows(IllegalArgumentException.class, () -> new Sgd(p, 0, 0.9, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sgd(p, 0.1, 1.0, 0));
        Sgd sgd = new Sgd(p, 0.1, 0.9, 0);
        assertThrows(IllegalArgumentException.class, () -> sgd.step(p, vec(1, 2, 3)));
    }
}
