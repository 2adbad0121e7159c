package org.mkdt.stages;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.data.Artefacts;
import org.mkdt.io.NdArray;
import org.mkdt.nn.ConvNet;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;
import org.mkdt.testing.Close;

/** Stage 4 on a small problem: it lowers the matching loss, resumes bit for bit, and stops cleanly on divergence. */
class DistillTest {
    static final ConvNet NET = new ConvNet(3, 8, 6, 2, 4);
    static final int M = 10;

    @TempDir
    Path dir;

    /** Two experts trained for 3 epochs on random images with random targets. */
    static Distill.Snapshots experts(Tensor images, Tensor targets) {
        List<float[]> t = new ArrayList<>();
        for (int e = 0; e < 2; e++) {
            t.add(Experts.train(NET, images, targets, new Experts.Settings(3, 4, 0.05, 0.9, 0, 11), e).toFloats());
        }
        return Distill.inMemory(t, NET.numParams(), CpuBackend.INSTANCE);
    }

    static Tensor random(long seed, int... dims) {
        Shape s = Shape.of(dims);
        double[] v = Close.uniform(seed, s.numel());
        float[] f = new float[v.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) v[i];
        return Tensor.of(CpuBackend.INSTANCE, s, f);
    }

    static Distill.Settings settings(double lrImg, double lrLr) {
        return new Distill.Settings(6, 4, 1, 2, 4, lrImg, 1.0, lrLr, 5);
    }

    static Distill.State fresh() {
        return Distill.State.initial(random(1, M, 3, 8, 8), random(2, M, 4), 0.05);
    }

    @Test
    void iterationsLowerTheMatchingLossOnAverage() {
        Distill.Snapshots ex = experts(random(3, 40, 3, 8, 8), random(4, 40, 4));
        Distill.State st = fresh();
        for (int i = 0; i < 6; i++) Distill.iterate(NET, st, ex, settings(100, 1e-4));
        assertEquals(6, st.iteration);
        assertEquals(6, st.losses.size());
        double first = (st.losses.get(0) + st.losses.get(1)) / 2, last = (st.losses.get(4) + st.losses.get(5)) / 2;
        assertTrue(st.losses.stream().allMatch(l -> l > 0 && Double.isFinite(l)), st.losses.toString());
        assertTrue(st.alpha > 0 && st.alpha != 0.05, "alpha " + st.alpha);
        assertTrue(last < first, "matching loss did not fall: " + st.losses);
    }

    @Test
    void thePanelSeesTheObjectiveFallWhereSingleIterationsAreNoisy() {
        Distill.Snapshots ex = experts(random(3, 40, 3, 8, 8), random(4, 40, 4));
        Distill.State start = fresh(), st = fresh();
        Distill.Settings s = settings(100, 1e-4);
        for (int i = 0; i < 6; i++) Distill.iterate(NET, st, ex, s);
        // 2 experts x 2 start epochs: a panel of 4 covers every pair once.
        MatchPanel.Result r = MatchPanel.of(NET, ex, s, 4, start.images, start.targets, start.alpha, st);
        assertEquals(MatchPanel.loss(NET, ex, s, 4, start.images, start.targets, start.alpha), r.initial(), 0.0, "the panel is not deterministic");
        assertTrue(r.distilled() < r.initial(), "the objective did not fall on the panel: " + r);
        assertTrue(r.imagesOnly() != r.distilled() && r.alpha() == st.alpha && r.alphaInit() == 0.05, r.toString());
        // Segment 1 is expert 1 from epoch 0: its own loss differs from segment 0's, so the panel averages distinct segments.
        double one = MatchPanel.loss(NET, ex, s, 1, start.images, start.targets, start.alpha);
        double two = MatchPanel.loss(NET, ex, s, 2, start.images, start.targets, start.alpha);
        assertTrue(two != one, "segments 0 and 1 gave the same loss " + one);
        assertThrows(IllegalArgumentException.class, () -> MatchPanel.loss(NET, ex, s, 0, start.images, start.targets, start.alpha));
    }

    @Test
    void resumingFromACheckpointEqualsAnUninterruptedRunBitForBit() throws Exception {
        Distill.Snapshots ex = experts(random(3, 40, 3, 8, 8), random(4, 40, 4));
        Distill.State straight = fresh();
        for (int i = 0; i < 4; i++) Distill.iterate(NET, straight, ex, settings(100, 1e-4));

        Distill.State first = fresh();
        for (int i = 0; i < 2; i++) Distill.iterate(NET, first, ex, settings(100, 1e-4));
        Path file = dir.resolve("checkpoint.safetensors");
        Artefacts.writeCheckpoint(file, new Artefacts.Checkpoint(NdArray.of(first.images), NdArray.of(first.targets), NdArray.of(first.vImages),
                NdArray.of(first.vTargets), first.alpha, first.vAlpha, first.iteration,
                first.losses.stream().mapToDouble(Double::doubleValue).toArray(), Map.of()), Artefacts.stamp("hash"));
        Artefacts.Checkpoint cp = Artefacts.readCheckpoint(file);
        Distill.State resumed = new Distill.State(tensor(cp.images()), tensor(cp.targets()), tensor(cp.vImages()), tensor(cp.vTargets()),
                cp.alpha(), cp.vAlpha(), cp.iteration());
        for (int i = 0; i < 2; i++) Distill.iterate(NET, resumed, ex, settings(100, 1e-4));

        assertArrayEquals(straight.images.toFloatArray(), resumed.images.toFloatArray());
        assertArrayEquals(straight.targets.toFloatArray(), resumed.targets.toFloatArray());
        assertEquals(Double.doubleToLongBits(straight.alpha), Double.doubleToLongBits(resumed.alpha));
        assertEquals(straight.losses.subList(2, 4), resumed.losses);
    }

    private static Tensor tensor(NdArray a) {
        return Tensor.of(CpuBackend.INSTANCE, Shape.of(a.shape()), a.toFloats());
    }

    @Test
    void aLearningRateDrivenNonPositiveStopsWithItsValue() {
        Distill.Snapshots ex = experts(random(3, 40, 3, 8, 8), random(4, 40, 4));
        Distill.Diverged e = assertThrows(Distill.Diverged.class, () -> {
            Distill.State st = fresh();
            for (int i = 0; i < 6; i++) Distill.iterate(NET, st, ex, settings(100, 1e6));
        });
        assertTrue(e.getMessage().contains("learned learning rate would become") && e.getMessage().contains("lower distill.lrLr"), e.getMessage());
    }

    @Test
    void anImageStepFarTooLargeStopsTheRunThoughEveryValueIsFinite() {
        Distill.Snapshots ex = experts(random(3, 40, 3, 8, 8), random(4, 40, 4));
        Distill.Diverged e = assertThrows(Distill.Diverged.class, () -> {
            Distill.State st = fresh();
            for (int i = 0; i < 6; i++) Distill.iterate(NET, st, ex, settings(1e12, 1e-8));
        });
        assertTrue(e.getMessage().contains("an updated image (distill.lrImg too high?)") && e.getMessage().contains("beyond ±1000"), e.getMessage());
    }

    @Test
    void aNaNStopsTheRunNamingTheIterationAndLeavesTheStateAsItWas() {
        Distill.Snapshots good = experts(random(3, 40, 3, 8, 8), random(4, 40, 4));
        // An expert whose target snapshot went bad (a NaN in one weight), as a diverged expert would be.
        Distill.Snapshots bad = new Distill.Snapshots() {
            @Override
            public int experts() {
                return good.experts();
            }

            @Override
            public Tensor snapshot(int expert, int epoch) {
                float[] v = good.snapshot(expert, epoch).toFloatArray();
                if (epoch > 0) v[7] = Float.NaN;
                return Tensor.of(CpuBackend.INSTANCE, Shape.of(v.length), v);
            }
        };
        Distill.State st = fresh();
        float[] before = st.images.toFloatArray();
        Distill.Diverged e = assertThrows(Distill.Diverged.class, () -> Distill.iterate(NET, st, bad, settings(100, 1e-4)));
        assertTrue(e.getMessage().startsWith("iteration 1 (expert ") && e.getMessage().contains("the matching loss is NaN"), e.getMessage());
        assertEquals(0, st.iteration);
        assertArrayEquals(before, st.images.toFloatArray());
    }
}
