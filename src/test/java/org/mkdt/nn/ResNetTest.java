package org.mkdt.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.check.GradCheck;
import org.mkdt.check.OpCase;
import org.mkdt.cli.CheckCommand;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;
import org.mkdt.testing.Close;

class ResNetTest {
    @Test
    void resnet18CifarHasTorchvisionsParameterCountWithoutTheClassifier() {
        // torchvision resnet18: 11,689,512; minus fc (513,000), 7x7 stem (9,408), plus a 3x3 stem (1,728).
        ResNet net = ResNet.resnet18(3);
        assertEquals(11_168_832, net.numParams());
        assertEquals(512, net.featureDim());
    }

    @Test
    void featuresShapeAndTrainEvalModes() {
        ResNet net = new ResNet(3, 4, new int[] {1, 1, 1, 1});
        Tensor theta = net.initialParams(CpuBackend.INSTANCE, DType.F32, 1);
        Tensor x = Tensor.of(CpuBackend.INSTANCE, DType.F32, Shape.of(5, 3, 16, 16), Close.uniform(2, 5 * 3 * 256));
        double[] before = net.runningStats("bn1").mean();
        Tensor train = net.features(theta, x, true);
        assertEquals(Shape.of(5, 32), train.shape());
        assertNotEquals(before[0], net.runningStats("bn1").mean()[0], "training mode updates the running statistics");
        double[] after = net.runningStats("bn1").mean();
        Tensor eval1 = net.features(theta, x, false), eval2 = net.features(theta, x, false);
        assertArrayEquals(eval1.toFloatArray(), eval2.toFloatArray(), "evaluation mode is a fixed function");
        assertArrayEquals(after, net.runningStats("bn1").mean(), "and leaves the statistics alone");
    }

    @Test
    void gradientsToSecondOrderAlongRandomDirections() {
        // Every layer type is checked coordinate by coordinate in OpCatalog; the whole network
        // (strided stages, 1x1 shortcuts, batch norm in training mode) along directions.
        ResNet net = new ResNet(3, 2, new int[] {1, 1, 1, 1});
        OpCase c = new OpCase("resnet", List.of(OpCase.in(net.numParams()), OpCase.in(4, 3, 16, 16)), x -> net.features(x.get(0), x.get(1), true));
        double[] err = GradCheck.directional(c.scalarTest(3), c.sampleInputs(2), 4, 5);
        assertTrue(err[0] <= CheckCommand.TOLERANCE, "first order " + err[0]);
        assertTrue(err[1] <= CheckCommand.TOLERANCE, "second order " + err[1]);
    }
}
