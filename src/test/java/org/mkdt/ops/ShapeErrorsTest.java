package org.mkdt.ops;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Tensor;

/** A shape mismatch is an IllegalArgumentException whose message names both shapes. */
class ShapeErrorsTest {
    private static Tensor z(int... dims) {
        return Tensor.zeros(CpuBackend.INSTANCE, DType.F32, dims);
    }

    private static void assertNamesBoth(Executable call, String a, String b) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(a) && e.getMessage().contains(b), "message does not name " + a + " and " + b + ": " + e.getMessage());
    }

    @Test
    void elementwise() {
        assertNamesBoth(() -> Elementwise.add(z(2, 3), z(4, 3)), "(2, 3)", "(4, 3)");
        assertNamesBoth(() -> Elementwise.mul(z(5), z(6)), "(5,)", "(6,)");
    }

    @Test
    void matmul() {
        assertNamesBoth(() -> Gemm.matmul(z(2, 3), z(4, 5)), "(2, 3)", "(4, 5)");
    }

    @Test
    void conv2d() {
        assertNamesBoth(() -> Conv2d.conv2d(z(1, 3, 8, 8), z(4, 2, 3, 3), null), "(1, 3, 8, 8)", "(4, 2, 3, 3)");
    }

    @Test
    void mseAndReshape() {
        assertNamesBoth(() -> Loss.mse(z(2, 3), z(3, 2)), "(2, 3)", "(3, 2)");
        assertNamesBoth(() -> Shaping.reshape(z(2, 3), org.mkdt.tensor.Shape.of(7)), "(2, 3)", "(7,)");
    }

    @Test
    void dtypeMismatchIsNamed() {
        Tensor a = Tensor.zeros(CpuBackend.INSTANCE, DType.F64, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Elementwise.add(a, z(2)));
        assertTrue(e.getMessage().contains("float64") && e.getMessage().contains("float32"), e.getMessage());
    }
}
