package org.mkdt.metagrad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.check.MetaGradCheck;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/** The exact meta-gradient: recompute against the naive unroll, finite differences and its memory claim. */
class MetaGradTest {

    @ParameterizedTest(name = "N={0} seed={1}")
    @CsvSource({"1,3", "6,1", "9,2"})
    void recomputeEqualsTheNaiveUnroll(int steps, long seed) {
        MetaGradCheck.Agreement a = MetaGradCheck.agreement(steps, seed);
        assertTrue(a.max() <= 1e-10, a.toString());
    }

    @ParameterizedTest(name = "seed={0}")
    @CsvSource({"1", "4"})
    void recomputeEqualsFiniteDifferencesOfTheMatchingLoss(long seed) {
        for (MetaGradCheck.Directional d : MetaGradCheck.finiteDifferences(6, seed)) {
            assertTrue(d.error() <= 1e-6, d + " error " + d.error());
            assertTrue(Math.abs(d.analytic()) > 1e-6, "a vanishing derivative proves nothing: " + d);
        }
    }

    @Test
    void recomputeMemoryGrowsOnlyByTheStoredParameterVectors() {
        MetaGradCheck.Memory m = MetaGradCheck.memory(5, 40, 1);
        assertEquals(1.0, m.recomputeGrowthRatio(), 0.10, m.toString());
        assertTrue(m.naiveGrowthRatio() > 2, "naive's graph should grow with N: " + m);
        assertTrue(m.pass());
    }

    @ParameterizedTest(name = "chunk={0}, segments={1}")
    @CsvSource({"1, 1", "3, 1", "3, 2"})
    void chunkedStepsEqualWholeStepsAtAFractionOfTheMemory(int chunk, int segments) {
        CpuBackend cpu = new CpuBackend();
        try (Scope s = Scope.open()) {
            // batch 4 in chunks of 3: a ragged last chunk of 1
            MatchingProblem p = MatchingProblem.ofSegments(ToyProblem.segments(cpu, DType.F64, 5, 4, segments));
            MetaGradResult whole = new RecomputeMetaGrad().compute(p), chunked = new RecomputeMetaGrad(chunk).compute(p);
            assertEquals(whole.loss(), chunked.loss(), 1e-13 * whole.loss());
            assertEquals(whole.dAlpha(), chunked.dAlpha(), 1e-11 * Math.abs(whole.dAlpha()));
            org.mkdt.testing.Close.assertScaled(whole.dImages().toDoubleArray(), chunked.dImages().toDoubleArray(), 1e-11, "dImages");
            org.mkdt.testing.Close.assertScaled(whole.dTargets().toDoubleArray(), chunked.dTargets().toDoubleArray(), 1e-11, "dTargets");
            if (chunk == 1) {
                assertTrue(chunked.peakBytes() < 0.75 * whole.peakBytes(), "one image at a time should need less: " + chunked.peakBytes() + " vs " + whole.peakBytes());
            }
        }
    }

    @Test
    void traceTermsAddUpToTheAlphaGradient() {
        CpuBackend cpu = new CpuBackend();
        try (Scope s = Scope.open()) {
            SweepTrace t = new SweepTrace();
            MetaGradResult r = new RecomputeMetaGrad().compute(ToyProblem.create(cpu, DType.F64, 7, 5), t);
            assertEquals(7, t.forwardSteps().size());
            assertEquals(7, t.reverseSteps().size());
            double sum = t.reverseSteps().stream().mapToDouble(SweepTrace.Reverse::alphaContribution).sum();
            assertEquals(r.dAlpha(), sum, 1e-12 * Math.abs(sum));
            assertEquals(6, t.reverseSteps().get(0).step(), "the reverse sweep runs from the last step down");
        }
    }

    @Test
    void lossAloneEqualsTheLossOfTheFullComputation() {
        CpuBackend cpu = new CpuBackend();
        try (Scope s = Scope.open()) {
            MatchingProblem p = ToyProblem.create(cpu, DType.F64, 5, 6);
            assertEquals(new RecomputeMetaGrad().compute(p).loss(), RecomputeMetaGrad.loss(p), 0.0);
        }
    }

    @Test
    void float32RunsAndStaysCloseToFloat64() {
        CpuBackend cpu = new CpuBackend();
        try (Scope s = Scope.open()) {
            MetaGradResult r64 = new RecomputeMetaGrad().compute(ToyProblem.create(cpu, DType.F64, 4, 8));
            MetaGradResult r32 = new RecomputeMetaGrad().compute(ToyProblem.create(cpu, DType.F32, 4, 8));
            assertEquals(r64.loss(), r32.loss(), 1e-4 * r64.loss());
            assertEquals(r64.dAlpha(), r32.dAlpha(), 1e-3 * Math.abs(r64.dAlpha()));
        }
    }

    @Test
    void mismatchedShapesAreRejectedWithBothShapesNamed() {
        CpuBackend cpu = new CpuBackend();
        MatchingProblem p = ToyProblem.create(cpu, DType.F64, 2, 1);
        Tensor badTargets = Tensor.zeros(cpu, DType.F64, Shape.of(ToyProblem.IMAGES, 5));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                new MatchingProblem(p.net(), p.theta0(), p.thetaStar(), p.images(), badTargets, 0.1, p.schedules()));
        assertTrue(e.getMessage().contains("(10, 5)") && e.getMessage().contains("(10, 3, 8, 8)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () ->
                new MatchingProblem(p.net(), p.theta0(), p.thetaStar(), p.images(), p.targets(), -0.1, p.schedules()));
        assertThrows(IllegalArgumentException.class, () ->
                new MatchingProblem(p.net(), p.theta0(), p.thetaStar(), p.images(), p.targets(), Double.NaN, p.schedules()));
    }
}
