package org.mkdt.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.mkdt.backend.BinaryOp;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;
import org.mkdt.testing.Close;

/**
 * The float32 binary kernels in each of their loop forms (both operands contiguous, b or a
 * broadcast, both strided) and with rows long enough to be cut into pieces across threads,
 * element by element against the scalar float arithmetic they must reproduce.
 */
class ElementwiseKernelTest {
    private static final CpuBackend CPU = CpuBackend.INSTANCE;

    /** a (2, 3, 40000) against b in the shapes that give each loop form; 40000 > one piece of a row. */
    @Test
    void everyLoopFormAndPieceGivesTheScalarResult() {
        Shape out = Shape.of(2, 3, 40000);
        Shape[] bShapes = {out, Shape.of(2, 3, 1), Shape.of(1, 1, 40000), Shape.of(2, 1, 40000)};
        Tensor a = Tensor.of(CPU, DType.F32, out, Close.uniform(1, out.numel()));
        for (Shape bs : bShapes) {
            Tensor b = Tensor.of(CPU, DType.F32, bs, offset(Close.uniform(2, bs.numel())));
            for (BinaryOp op : BinaryOp.values()) {
                Tensor ab = Tensor.empty(CPU, DType.F32, out), ba = Tensor.empty(CPU, DType.F32, out);
                ElementwiseKernel.binary(op, a, b, ab);
                ElementwiseKernel.binary(op, b, a, ba);
                float[] x = a.toFloatArray(), y = b.toFloatArray(), r = ab.toFloatArray(), s = ba.toFloatArray();
                for (int i = 0; i < out.numel(); i++) {
                    float yi = y[index(i, out, bs)];
                    assertEquals(Float.floatToIntBits(scalar(op, x[i], yi)), Float.floatToIntBits(r[i]), op + " a (" + out + ") with b " + bs + " at " + i);
                    assertEquals(Float.floatToIntBits(scalar(op, yi, x[i])), Float.floatToIntBits(s[i]), op + " b " + bs + " with a (" + out + ") at " + i);
                }
            }
        }
    }

    /** Values in [0.5, 1.5) and [-1.5, -0.5): no division by zero, both signs for the ReLU mask. */
    private static double[] offset(double[] v) {
        for (int i = 0; i < v.length; i++) v[i] = v[i] + Math.copySign(0.5, v[i]);
        return v;
    }

    private static float scalar(BinaryOp op, float a, float b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case RELU_GRAD -> b > 0 ? a : 0f;
        };
    }

    /** The element of a broadcast operand of shape bs that element i of out reads. */
    private static int index(int i, Shape out, Shape bs) {
        int idx = 0, stride = 1;
        for (int d = out.rank() - 1; d >= 0; d--) {
            int coord = i % out.dim(d);
            i /= out.dim(d);
            if (bs.dim(d) != 1) idx += coord * stride;
            stride *= bs.dim(d);
        }
        return idx;
    }
}
