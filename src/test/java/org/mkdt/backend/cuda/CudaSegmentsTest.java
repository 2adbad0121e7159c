package org.mkdt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mkdt.check.OpCase.in;

import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.check.DeviceCheck;
import org.mkdt.check.OpCase;
import org.mkdt.io.NdArray;
import org.mkdt.metagrad.MatchingProblem;
import org.mkdt.metagrad.MetaGradResult;
import org.mkdt.metagrad.RecomputeMetaGrad;
import org.mkdt.metagrad.ToyProblem;
import org.mkdt.nn.BatchedConvNet;
import org.mkdt.nn.ConvNet;
import org.mkdt.stages.Experts;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;
import org.mkdt.testing.Close;
import org.mkdt.testing.Cuda;

/**
 * Batched students on CUDA: the S-segment meta-gradient against S separate segments (float32
 * tolerance) and against the CPU in float64, S experts trained as one batch against each
 * trained alone, and the real-size batched student's first and second derivatives.
 */
@Tag("cuda")
class CudaSegmentsTest {
    private static CudaBackend cuda;

    @BeforeEach
    void device() {
        cuda = Cuda.backendOrSkip();
    }

    @Test
    void segmentsEqualTheMeanOfSeparateSegmentsAndTheCpu() {
        try (Scope s = Scope.open()) {
            int count = 3;
            List<MatchingProblem> singles = ToyProblem.segments(cuda, DType.F32, 4, 11, count);
            MetaGradResult batched = new RecomputeMetaGrad().compute(MatchingProblem.ofSegments(singles));
            double dAlpha = 0;
            double[] dImages = new double[batched.dImages().numel()];
            for (MatchingProblem p : singles) {
                MetaGradResult r = new RecomputeMetaGrad().compute(p);
                dAlpha += r.dAlpha() / count;
                double[] d = r.dImages().toDoubleArray();
                for (int i = 0; i < d.length; i++) dImages[i] += d[i] / count;
            }
            assertEquals(dAlpha, batched.dAlpha(), 2e-4 * Math.abs(dAlpha), "dAlpha, batched vs separate on CUDA");
            Close.assertScaled(dImages, batched.dImages().toDoubleArray(), 2e-4, "dImages, batched vs separate on CUDA");
            MetaGradResult cpu = new RecomputeMetaGrad().compute(MatchingProblem.ofSegments(ToyProblem.segments(new CpuBackend(), DType.F64, 4, 11, count)));
            assertEquals(cpu.dAlpha(), batched.dAlpha(), 1e-3 * Math.abs(cpu.dAlpha()), "dAlpha, CUDA float32 vs CPU float64");
            Close.assertScaled(cpu.dImages().toDoubleArray(), batched.dImages().toDoubleArray(), 1e-3, "dImages, CUDA float32 vs CPU float64");
        }
    }

    @Test
    void expertsTrainedAsOneBatchMatchEachTrainedAlone() {
        ConvNet net = new ConvNet(3, 8, 4, 2, 3);
        Experts.Settings settings = new Experts.Settings(2, 8, 0.05, 0.9, 1e-4, 7);
        try (Scope s = Scope.open()) {
            Tensor images = Tensor.of(cuda, DType.F32, net.inputShape(20), Close.uniform(1, 20 * 3 * 64));
            Tensor targets = Tensor.of(cuda, DType.F32, Shape.of(20, 3), Close.uniform(2, 60));
            int[] indices = {4, 1, 6};
            List<NdArray> batched = Experts.trainBatched(net, images, targets, settings, indices, null);
            for (int j = 0; j < indices.length; j++) {
                float[] alone = Experts.train(net, images, targets, settings, indices[j]).toFloats();
                Close.assertScaled(toDoubles(alone), toDoubles(batched.get(j).toFloats()), 1e-4, "expert " + indices[j]);
            }
        }
    }

    @Test
    void mkdtSizeBatchedStudentGradientsAndSecondOrderTermAgree() {
        BatchedConvNet batch = new BatchedConvNet(ConvNet.mkdtStudent(3, 512), 2);
        OpCase students = new OpCase("2 MKDT students as one batch (theta, x)", List.of(in(batch.layout().size()), in(2, 3, 3, 32, 32)),
                x -> batch.forward(x.get(0), x.get(1)));
        DeviceCheck.Result r = DeviceCheck.check(students, cuda, DType.F32, 7);
        assertTrue(r.passed(), String.format("batched MKDT students on CUDA: value %.2e, first order %.2e, second order %.2e (tolerance %.0e)",
                r.valueError(), r.firstOrderError(), r.secondOrderError(), DeviceCheck.TOLERANCE));
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }
}
