package org.mkdt.stages;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.data.Artefacts;
import org.mkdt.io.NdArray;
import org.mkdt.nn.ConvNet;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;
import org.mkdt.testing.Close;

class ExpertsTest {
    private static final ConvNet NET = new ConvNet(3, 8, 4, 2, 3);
    private static final CpuBackend CPU = CpuBackend.INSTANCE;
    private static final Tensor IMAGES = Tensor.of(CPU, DType.F32, NET.inputShape(20), Close.uniform(1, 20 * 3 * 64));
    private static final Tensor TARGETS = Tensor.of(CPU, DType.F32, Shape.of(20, 3), Close.uniform(2, 60));
    private static final Experts.Settings SETTINGS = new Experts.Settings(3, 8, 0.05, 0.9, 1e-4, 7);

    @TempDir
    Path dir;

    @Test
    void trajectoryHasInitAndEveryEpochAndTrainingLowersTheLoss() {
        NdArray t = Experts.train(NET, IMAGES, TARGETS, SETTINGS, 0);
        assertArrayEquals(new int[] {4, NET.numParams()}, t.shape());
        float[] all = t.toFloats();
        int p = NET.numParams();
        double before = mean(InitialSubset.perImageLoss(NET, row(all, 0, p), IMAGES, TARGETS, 8));
        double after = mean(InitialSubset.perImageLoss(NET, row(all, 3, p), IMAGES, TARGETS, 8));
        assertTrue(after < 0.9 * before, "KD training should lower the loss: " + before + " -> " + after);
    }

    @Test
    void anExpertDependsOnlyOnBaseSeedAndIndexBitForBit() {
        float[] a = Experts.train(NET, IMAGES, TARGETS, SETTINGS, 2).toFloats();
        Experts.train(NET, IMAGES, TARGETS, SETTINGS, 5); // other experts in between change nothing
        float[] b = Experts.train(NET, IMAGES, TARGETS, SETTINGS, 2).toFloats();
        float[] c = Experts.train(NET, IMAGES, TARGETS, SETTINGS, 3).toFloats();
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
    }

    @Test
    void expertsTrainedAsOneBatchAreBitIdenticalToEachTrainedAlone() {
        // 20 images in batches of 8: the last minibatch of every epoch is ragged (4 images).
        int[] indices = {4, 1, 6};
        List<NdArray> batched = Experts.trainBatched(NET, IMAGES, TARGETS, SETTINGS, indices, null);
        assertEquals(indices.length, batched.size());
        for (int j = 0; j < indices.length; j++) {
            assertArrayEquals(Experts.train(NET, IMAGES, TARGETS, SETTINGS, indices[j]).toFloats(), batched.get(j).toFloats(),
                    "expert " + indices[j] + " trained in a batch of " + indices.length);
        }
        assertFalse(Arrays.equals(batched.get(0).toFloats(), batched.get(1).toFloats()));
    }

    @Test
    void aDivergingExpertIsNamedWithItsEpoch() {
        Experts.Settings wild = new Experts.Settings(3, 8, 1e12, 0.9, 1e-4, 7);
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> Experts.trainBatched(NET, IMAGES, TARGETS, wild, new int[] {5, 2}, null));
        assertTrue(e.getMessage().matches("expert [52]: the loss became (NaN|Infinity) in epoch 1 \\(lr too high\\?\\)"), e.getMessage());
    }

    @Test
    void aFinishedExpertIsSkippedOnRerun() throws Exception {
        Path f = dir.resolve("expert_000.safetensors");
        String hash = Artefacts.configHash("test");
        assertTrue(Experts.trainTo(f, NET, IMAGES, TARGETS, SETTINGS, 0, Artefacts.stamp(hash)));
        long modified = Files.getLastModifiedTime(f).toMillis();
        byte[] bytes = Files.readAllBytes(f);
        assertFalse(Experts.trainTo(f, NET, IMAGES, TARGETS, SETTINGS, 0, Artefacts.stamp(hash)));
        assertEquals(modified, Files.getLastModifiedTime(f).toMillis());
        assertArrayEquals(bytes, Files.readAllBytes(f));
        Files.write(f, new byte[] {1, 2, 3}); // a damaged file is replaced
        assertTrue(Experts.trainTo(f, NET, IMAGES, TARGETS, SETTINGS, 0, Artefacts.stamp(hash)));
        assertArrayEquals(bytes, Files.readAllBytes(f), "retraining reproduces the file bit for bit");
    }

    @Test
    void highLossPicksTheImagesWhoseTargetsAreFarthest() {
        // With a zero head the student outputs 0, so an image's loss is the mean square of its target.
        double[] theta = NET.initialParams(3);
        var head = NET.layout().entry("head.w");
        Arrays.fill(theta, head.offset(), head.offset() + head.numel() + NET.outDim(), 0.0);
        Tensor zeroHead = Tensor.of(CPU, DType.F32, Shape.of(theta.length), theta);
        double[] t = new double[20 * 3];
        for (int i = 0; i < 20; i++) Arrays.fill(t, 3 * i, 3 * i + 3, (i * 7) % 20);
        Tensor targets = Tensor.of(CPU, DType.F32, Shape.of(20, 3), t);
        int[] top = InitialSubset.highLoss(NET, List.of(zeroHead, zeroHead), IMAGES, targets, 3, 6);
        // target values (i * 7) % 20: 19 at i = 17, 18 at i = 14, 17 at i = 11
        assertArrayEquals(new int[] {17, 14, 11}, top);
        int[] r = InitialSubset.random(20, 5, 9);
        assertEquals(5, Arrays.stream(r).distinct().count());
        assertArrayEquals(r, InitialSubset.random(20, 5, 9));
    }

    private static Tensor row(float[] all, int r, int p) {
        return Tensor.of(CPU, Shape.of(p), Arrays.copyOfRange(all, r * p, (r + 1) * p));
    }

    private static double mean(double[] v) {
        return Arrays.stream(v).average().orElse(Double.NaN);
    }
}
