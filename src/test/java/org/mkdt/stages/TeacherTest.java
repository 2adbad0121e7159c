package org.mkdt.stages;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.mkdt.backend.cpu.CpuBackend;
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
        Teacher.Settings s = new Teacher.Settings(6, 0, 8, 0.05, 0.9, 1e-4, 16, 0.05, 3);
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
        Teacher.Settings s = new Teacher.Settings(2, 0, 8, 0.05, 0.9, 1e-4, 16, 0.05, 3);
        Teacher.Result r = Teacher.train(encoder, imgs, Normalization.of(imgs), s, CpuBackend.INSTANCE, null);
        NdArray reps = Teacher.representations(encoder, r.encoderTheta(), imgs, Normalization.of(imgs), 10, CpuBackend.INSTANCE);
        assertArrayEquals(new int[] {24, 32}, reps.shape());
        assertTrue(reps.firstNonFinite() < 0);
    }
}
