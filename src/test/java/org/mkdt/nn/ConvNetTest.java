package org.mkdt.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;
import org.mkdt.testing.Close;

class ConvNetTest {
    @Test
    void mkdtStudentHasExactlyTheSpecifiedParameterCount() {
        ConvNet net = ConvNet.mkdtStudent(3, 512);
        assertEquals(1_348_608, net.numParams());
        assertEquals(2048, net.featureDim());
        ParamLayout.Entry head = net.layout().entry("head.w");
        assertEquals(Shape.of(512, 2048), head.shape());
        assertEquals(List.of("block0.conv.w", "block0.conv.b", "block0.norm.gamma", "block0.norm.beta",
                "block1.conv.w", "block1.conv.b", "block1.norm.gamma", "block1.norm.beta",
                "block2.conv.w", "block2.conv.b", "block2.norm.gamma", "block2.norm.beta", "head.w", "head.b"), net.layout().names());
    }

    @Test
    void pooledRepresentationIsTheChannelMeanOfTheFlatOne() {
        ConvNet net = new ConvNet(1, 16, 8, 2, 1);
        Pooled pooled = new Pooled(net);
        assertEquals(8, pooled.featureDim());
        Tensor theta = net.initialParams(CpuBackend.INSTANCE, DType.F64, 2);
        Tensor x = Tensor.of(CpuBackend.INSTANCE, DType.F64, net.inputShape(3), Close.uniform(3, 3 * 16 * 16));
        double[] flat = net.features(theta, x).toDoubleArray(), p = pooled.features(theta, x, false).toDoubleArray();
        assertEquals(3 * 8, p.length);
        for (int b = 0; b < 3; b++) {
            for (int c = 0; c < 8; c++) {
                double mean = 0;
                for (int k = 0; k < 16; k++) mean += flat[b * 128 + c * 16 + k] / 16;
                assertEquals(mean, p[b * 8 + c], 1e-12);
            }
        }
    }

    @Test
    void withoutHeadTheOutputIsTheFlattenedMapAndOnlyTheConvBlocksAreParameters() {
        ConvNet headless = ConvNet.withoutHead(3, 32, 128, 3);
        assertFalse(headless.hasHead());
        assertEquals(2048, headless.outDim());
        assertEquals(ConvNet.mkdtStudent(3, 512).layout().entry("head.w").offset(), headless.numParams()); // the conv blocks, nothing after
        assertFalse(headless.layout().names().contains("head.w"));
        ConvNet small = ConvNet.withoutHead(1, 16, 8, 2);
        Tensor theta = small.initialParams(CpuBackend.INSTANCE, DType.F64, 4);
        Tensor x = Tensor.of(CpuBackend.INSTANCE, DType.F64, small.inputShape(3), Close.uniform(5, 3 * 16 * 16));
        assertArrayEquals(small.features(theta, x).toDoubleArray(), small.forward(theta, x).toDoubleArray());
        // The same conv blocks as a network with a head: same initialisation draw for the blocks, same features.
        ConvNet withHead = new ConvNet(1, 16, 8, 2, 7);
        Tensor full = withHead.initialParams(CpuBackend.INSTANCE, DType.F64, 4);
        Tensor blocks = full.view(Shape.of(small.numParams()), 0);
        assertArrayEquals(withHead.features(full, x).toDoubleArray(), small.features(blocks, x).toDoubleArray());
        // Batched students run the headless network too: S = 2 gives each student's own output.
        BatchedConvNet batch = new BatchedConvNet(small, 2);
        Tensor other = small.initialParams(CpuBackend.INSTANCE, DType.F64, 9);
        Tensor xs = Tensor.of(CpuBackend.INSTANCE, DType.F64, Shape.of(2, 3, 1, 16, 16), Close.uniform(6, 2 * 3 * 16 * 16));
        double[] both = batch.forward(batch.pack(List.of(theta, other)), xs).toDoubleArray();
        double[] second = small.forward(other, xs.view(Shape.of(3, 1, 16, 16), 3 * 16 * 16)).toDoubleArray();
        assertArrayEquals(second, Arrays.copyOfRange(both, both.length / 2, both.length), 1e-12);
    }

    @Test
    void headOutputIsTheForwardPass() {
        ConvNet net = new ConvNet(1, 16, 8, 2, 5);
        HeadOutput head = new HeadOutput(net);
        assertEquals(5, head.featureDim());
        assertEquals(net.layout(), head.layout());
        Tensor theta = net.initialParams(CpuBackend.INSTANCE, DType.F64, 2);
        Tensor x = Tensor.of(CpuBackend.INSTANCE, DType.F64, net.inputShape(3), Close.uniform(3, 3 * 16 * 16));
        assertArrayEquals(net.forward(theta, x).toDoubleArray(), head.features(theta, x, false).toDoubleArray());
    }

    @Test
    void forwardGivesOneTargetVectorPerImage() {
        ConvNet net = ConvNet.mkdtStudent(3, 512);
        Tensor theta = net.initialParams(CpuBackend.INSTANCE, DType.F32, 1);
        Tensor x = Tensor.of(CpuBackend.INSTANCE, DType.F32, net.inputShape(2), Close.uniform(2, 2 * 3 * 32 * 32));
        Tensor y = net.forward(theta, x);
        assertEquals(Shape.of(2, 512), y.shape());
        for (float v : y.toFloatArray()) assertTrue(Float.isFinite(v));
        assertEquals(Shape.of(2, 2048), net.features(theta, x).shape());
    }

    @Test
    void initialisationFollowsPytorchDefaultsAndIsSeeded() {
        ConvNet net = ConvNet.mkdtStudent(3, 512);
        double[] a = net.initialParams(5), b = net.initialParams(5), c = net.initialParams(6);
        assertArrayEquals(a, b, 0.0);
        assertFalse(Arrays.equals(a, c));
        for (ParamLayout.Entry e : net.layout().entries()) {
            double[] p = Arrays.copyOfRange(a, e.offset(), e.offset() + e.numel());
            if (e.name().endsWith("gamma")) {
                for (double v : p) assertEquals(1.0, v);
            } else if (e.name().endsWith("beta")) {
                for (double v : p) assertEquals(0.0, v);
            } else {
                int fanIn = e.name().startsWith("head") ? 2048 : e.name().startsWith("block0") ? 27 : 1152;
                double bound = 1 / Math.sqrt(fanIn), max = 0;
                for (double v : p) max = Math.max(max, Math.abs(v));
                assertTrue(max <= bound, e.name() + " exceeds its bound");
                assertTrue(max > 0.9 * bound, e.name() + " does not fill its range");
            }
        }
    }

    @Test
    void rejectsAnInputOfTheWrongShape() {
        ConvNet net = ConvNet.mkdtStudent(3, 512);
        Tensor theta = net.initialParams(CpuBackend.INSTANCE, DType.F32, 1);
        Tensor x = Tensor.zeros(CpuBackend.INSTANCE, DType.F32, 2, 1, 32, 32);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> net.forward(theta, x));
        assertTrue(e.getMessage().contains("(2, 1, 32, 32)") && e.getMessage().contains("(2, 3, 32, 32)"), e.getMessage());
    }
}
