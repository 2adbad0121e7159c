package org.mkdt.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;
import org.mkdt.testing.Close;

class BatchedConvNetTest {
    private static final CpuBackend CPU = CpuBackend.INSTANCE;
    private static final ConvNet NET = new ConvNet(3, 8, 5, 2, 4);

    @Test
    void aBatchComputesWhatEachStudentComputesAloneBitForBit() {
        int students = 3, b = 5;
        BatchedConvNet batch = new BatchedConvNet(NET, students);
        List<Tensor> thetas = new ArrayList<>();
        for (int s = 0; s < students; s++) thetas.add(NET.initialParams(CPU, DType.F32, 10 + s));
        Tensor x = Tensor.of(CPU, DType.F32, Shape.of(students, b, 3, 8, 8), Close.uniform(3, students * b * 3 * 64));
        float[] all = batch.forward(batch.pack(thetas), x).toFloatArray();
        assertEquals(students * b * 4, all.length);
        for (int s = 0; s < students; s++) {
            Tensor xs = x.view(NET.inputShape(b), s * b * 3 * 64);
            assertArrayEquals(NET.forward(thetas.get(s), xs).toFloatArray(), Arrays.copyOfRange(all, s * b * 4, (s + 1) * b * 4), "student " + s);
        }
    }

    @Test
    void packAndUnpackAreInverseAndPackingIsParameterMajor() {
        BatchedConvNet batch = new BatchedConvNet(NET, 2);
        Tensor a = NET.initialParams(CPU, DType.F32, 1), b = NET.initialParams(CPU, DType.F32, 2);
        float[] packed = batch.pack(List.of(a, b)).toFloatArray();
        assertArrayEquals(a.toFloatArray(), batch.unpack(packed, 0));
        assertArrayEquals(b.toFloatArray(), batch.unpack(packed, 1));
        ParamLayout.Entry w = NET.layout().entry("block0.conv.w");
        assertEquals(Shape.of(2, 5, 3, 3, 3), batch.layout().entry("block0.conv.w").shape());
        // student 1's first conv weight follows student 0's whole first conv weight
        assertEquals(b.toFloatArray()[w.offset()], packed[w.numel()]);
    }

    @Test
    void squaredNormsAreEachStudentsOwn() {
        BatchedConvNet batch = new BatchedConvNet(NET, 2);
        Tensor a = NET.initialParams(CPU, DType.F64, 1), b = NET.initialParams(CPU, DType.F64, 2);
        double[] norms = batch.squaredNorms(batch.pack(List.of(a, b))).toDoubleArray();
        assertEquals(sumSquares(a.toDoubleArray()), norms[0], 1e-9);
        assertEquals(sumSquares(b.toDoubleArray()), norms[1], 1e-9);
    }

    @Test
    void rejectsWrongShapesWithAOneLineMessage() {
        BatchedConvNet batch = new BatchedConvNet(NET, 2);
        Tensor theta = Tensor.zeros(CPU, DType.F32, Shape.of(batch.layout().size()));
        var e = assertThrows(IllegalArgumentException.class, () -> batch.forward(theta, Tensor.zeros(CPU, DType.F32, Shape.of(3, 1, 3, 8, 8))));
        assertTrue(e.getMessage().contains("(2, B, 3, 8, 8)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> batch.pack(List.of(NET.initialParams(CPU, DType.F32, 1))));
        assertThrows(IllegalArgumentException.class, () -> new BatchedConvNet(NET, 0));
    }

    private static double sumSquares(double[] v) {
        double s = 0;
        for (double x : v) s += x * x;
        return s;
    }
}
