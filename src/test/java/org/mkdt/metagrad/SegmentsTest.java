package org.mkdt.metagrad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Scope;
import org.mkdt.testing.Close;

/**
 * S trajectory segments unrolled together as one batch of students: the meta-gradient equals
 * the mean of the S segments' own meta-gradients (float64 to 1e-10, float32 within its
 * rounding), and equals the naive unroll of the batched problem (the fast against the naive).
 */
class SegmentsTest {
    @ParameterizedTest(name = "{0}, S={1}")
    @CsvSource({"F64, 3, 1e-10", "F32, 3, 2e-4", "F32, 2, 2e-4"})
    void segmentsEqualTheMeanOfSeparateSegments(DType dtype, int count, double tolerance) {
        CpuBackend cpu = new CpuBackend();
        try (Scope s = Scope.open()) {
            List<MatchingProblem> singles = ToyProblem.segments(cpu, dtype, 4, 11, count);
            MetaGradResult batched = new RecomputeMetaGrad().compute(MatchingProblem.ofSegments(singles));
            double loss = 0, dAlpha = 0;
            double[] dImages = new double[batched.dImages().numel()], dTargets = new double[batched.dTargets().numel()];
            for (MatchingProblem p : singles) {
                MetaGradResult r = new RecomputeMetaGrad().compute(p);
                loss += r.loss() / count;
                dAlpha += r.dAlpha() / count;
                add(dImages, r.dImages().toDoubleArray(), 1.0 / count);
                add(dTargets, r.dTargets().toDoubleArray(), 1.0 / count);
            }
            assertEquals(loss, batched.loss(), tolerance * Math.abs(loss), "matching loss");
            assertEquals(dAlpha, batched.dAlpha(), tolerance * Math.abs(dAlpha), "dAlpha");
            Close.assertScaled(dImages, batched.dImages().toDoubleArray(), tolerance, "dImages");
            Close.assertScaled(dTargets, batched.dTargets().toDoubleArray(), tolerance, "dTargets");
        }
    }

    @Test
    void batchedRecomputeEqualsTheNaiveUnrollOfTheBatch() {
        CpuBackend cpu = new CpuBackend();
        try (Scope s = Scope.open()) {
            MatchingProblem p = MatchingProblem.ofSegments(ToyProblem.segments(cpu, DType.F64, 5, 3, 3));
            MetaGradResult fast = new RecomputeMetaGrad().compute(p), naive = new NaiveMetaGrad().compute(p);
            assertEquals(naive.loss(), fast.loss(), 1e-12 * naive.loss());
            assertEquals(naive.dAlpha(), fast.dAlpha(), 1e-10 * Math.abs(naive.dAlpha()));
            Close.assertScaled(naive.dImages().toDoubleArray(), fast.dImages().toDoubleArray(), 1e-10, "dImages");
            Close.assertScaled(naive.dTargets().toDoubleArray(), fast.dTargets().toDoubleArray(), 1e-10, "dTargets");
        }
    }

    @Test
    void segmentsMustShareTheSetAndHaveEqualMinibatchSizes() {
        CpuBackend cpu = new CpuBackend();
        try (Scope s = Scope.open()) {
            List<MatchingProblem> a = ToyProblem.segments(cpu, DType.F64, 3, 1, 1), b = ToyProblem.segments(cpu, DType.F64, 3, 2, 1);
            var e = assertThrows(IllegalArgumentException.class, () -> MatchingProblem.ofSegments(List.of(a.get(0), b.get(0))));
            assertTrue(e.getMessage().contains("share"), e.getMessage());
            MatchingProblem p = a.get(0);
            MinibatchSchedule shorter = MinibatchSchedule.random(ToyProblem.IMAGES, ToyProblem.BATCH - 1, 3, 9);
            e = assertThrows(IllegalArgumentException.class, () -> new MatchingProblem(p.net(), MatchingProblem.ofSegments(List.of(p, p)).theta0(),
                    MatchingProblem.ofSegments(List.of(p, p)).thetaStar(), p.images(), p.targets(), p.alpha(), List.of(p.schedules().get(0), shorter)));
            assertTrue(e.getMessage().contains("minibatch"), e.getMessage());
        }
    }

    private static void add(double[] acc, double[] v, double scale) {
        for (int i = 0; i < acc.length; i++) acc[i] += scale * v[i];
    }
}
