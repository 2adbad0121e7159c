package org.mkdt.stages;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.data.Augment;
import org.mkdt.data.ImageSet;
import org.mkdt.data.Normalization;
import org.mkdt.io.NdArray;
import org.mkdt.nn.ConvNet;
import org.mkdt.nn.ResNet;

class TeacherTest {
    private static ImageSet images() {
        int n = 24;
        byte[] px = new byte[n * 3 * 8 * 8];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 2;
            for (int j = 0; j < 192; j++) px[i * 192 + j] = (byte) (labels[i] == 0 ? (j * 5 + i) % 256 : 255 - (j / 64) * 80 - i);
        }
        return new ImageSet("synthetic", px, n, 3, 8, 8, labels, List.of("a", "b"));
    }

    @Test
    void barlowTwinsTrainingLowersItsLossAndRepresentationsAreReproducible() {
        ImageSet imgs = images();
        ConvNet encoder = new ConvNet(3, 8, 6, 2, 1);
        Teacher.Settings s = new Teacher.Settings(6, 0, 8, 0.05, 0.9, 1e-4, 16, 0.05, Augment.DEFAULT_CROP_MIN, 3);
        Teacher.Result r = Teacher.train(encoder, imgs, Normalization.of(imgs), s, CpuBackend.INSTANCE, null);
        double[] l = r.epochLoss();
        assertTrue(l[l.length - 1] < l[0], "Barlow Twins loss should fall: " + java.util.Arrays.toString(l));
        NdArray reps = Teacher.representations(encoder, r.encoderTheta(), imgs, Normalization.of(imgs), 10, CpuBackend.INSTANCE);
        assertArrayEquals(new int[] {24, encoder.featureDim()}, reps.shape());
        Teacher.Result again = Teacher.train(encoder, imgs, Normalization.of(imgs), s, CpuBackend.INSTANCE, null);
        assertArrayEquals(r.encoderTheta().toFloatArray(), again.encoderTheta().toFloatArray(), "same seed, same bits");
    }

    @Test
    void aResNetTeacherTrainsAndGivesEvalModeRepresentations() {
        ImageSet imgs = images();
        ResNet encoder = new ResNet(3, 4, new int[] {1, 1, 1, 1});
        Teacher.Settings s = new Teacher.Settings(2, 0, 8, 0.05, 0.9, 1e-4, 16, 0.05, Augment.DEFAULT_CROP_MIN, 3);
        Teacher.Result r = Teacher.train(encoder, imgs, Normalization.of(imgs), s, CpuBackend.INSTANCE, null);
        NdArray reps = Teacher.representations(encoder, r.encoderTheta(), imgs, Normalization.of(imgs), 10, CpuBackend.INSTANCE);
        assertArrayEquals(new int[] {24, 32}, reps.shape());
        assertTrue(reps.firstNonFinite() < 0);
    }

    @Test
    void randomInitCalibratesBatchNormSoRandomFeaturesDoNotVanish() {
        org.mkdt.nn.ResNet fresh = new org.mkdt.nn.ResNet(3, 4, new int[] {1, 1, 1, 1});
        org.mkdt.data.ImageSet images = images();
        org.mkdt.data.Normalization norm = org.mkdt.data.Normalization.of(images);
        double[] before = fresh.buffers().get("bn1.running_var");
        org.mkdt.tensor.Tensor theta = Teacher.randomInit(fresh, images, norm, 3, CpuBackend.INSTANCE);
        double[] after = fresh.buffers().get("bn1.running_var");
        assertTrue(after[0] != before[0], "running variance still at its start " + before[0]);
        // The same seed gives the same parameters and statistics; a ConvNet (no buffers) just gets its initialisation.
        org.mkdt.nn.ResNet again = new org.mkdt.nn.ResNet(3, 4, new int[] {1, 1, 1, 1});
        assertArrayEquals(theta.toFloatArray(), Teacher.randomInit(again, images, norm, 3, CpuBackend.INSTANCE).toFloatArray());
        assertArrayEquals(after, again.buffers().get("bn1.running_var"));
        org.mkdt.nn.ConvNet conv = new org.mkdt.nn.ConvNet(3, 8, 4, 1, 1);
        assertArrayEquals(conv.initialParams(CpuBackend.INSTANCE, org.mkdt.tensor.DType.F32, 3).toFloatArray(),
                Teacher.randomInit(conv, images, norm, 3, CpuBackend.INSTANCE).toFloatArray());
    }
}
