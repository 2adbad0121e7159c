package org.mkdt.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.mkdt.check.DeviceCheck;
import org.mkdt.check.OpCase;
import org.mkdt.check.OpCatalog;
import org.mkdt.metagrad.MetaGradResult;
import org.mkdt.metagrad.RecomputeMetaGrad;
import org.mkdt.metagrad.ToyProblem;
import org.mkdt.nn.ConvNet;
import org.mkdt.stages.Experts;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;
import org.mkdt.testing.Close;

/**
 * Ops allocate their outputs uninitialised where the primitive writes every element
 * (Tensor.empty). On {@link CpuBackend#poisoning()} those outputs start as NaN, so an element
 * left unwritten would turn a result into NaN: every op's value, gradient and second-order term,
 * an expert's training and a meta-gradient must come out with the plain backend's bits.
 */
class UninitialisedOutputsTest {
    @Test
    void everyOpOfTheCatalogeWritesEveryElementOfItsOutputs() {
        CpuBackend poisoned = CpuBackend.poisoning();
        for (OpCase c : OpCatalog.all()) {
            DeviceCheck.Result r = DeviceCheck.check(c, poisoned, DType.F64, 5);
            assertEquals(0.0, r.valueError(), c.name() + " value");
            assertEquals(0.0, r.firstOrderError(), c.name() + " first order");
            assertEquals(0.0, r.secondOrderError(), c.name() + " second order");
        }
    }

    @Test
    void anExpertAndAMetaGradientHaveThePlainBackendsBits() {
        ConvNet net = new ConvNet(3, 8, 6, 2, 5);
        double[] x = Close.uniform(3, 12 * 3 * 64), y = Close.uniform(4, 12 * 5);
        float[][] trajectories = new float[2][];
        CpuBackend[] backends = {new CpuBackend(), CpuBackend.poisoning()};
        for (int i = 0; i < 2; i++) {
            try (Scope s = Scope.open()) {
                Tensor images = Tensor.of(backends[i], DType.F32, net.inputShape(12), x);
                Tensor targets = Tensor.of(backends[i], DType.F32, Shape.of(12, 5), y);
                trajectories[i] = Experts.train(net, images, targets, new Experts.Settings(2, 5, 0.05, 0.9, 1e-4, 7), 0).toFloats();
            }
        }
        assertArrayEquals(trajectories[0], trajectories[1]);
        for (DType dtype : DType.values()) {
            double[][] dImages = new double[2][];
            double[] dAlpha = new double[2];
            for (int i = 0; i < 2; i++) {
                try (Scope s = Scope.open()) {
                    MetaGradResult r = new RecomputeMetaGrad().compute(ToyProblem.create(backends[i], dtype, 4, 9));
                    dImages[i] = r.dImages().toDoubleArray();
                    dAlpha[i] = r.dAlpha();
                }
            }
            assertArrayEquals(dImages[0], dImages[1], dtype + " dImages");
            assertEquals(dAlpha[0], dAlpha[1], dtype + " dAlpha");
        }
    }
}
