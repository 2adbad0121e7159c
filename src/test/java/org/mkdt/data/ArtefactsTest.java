package org.mkdt.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mkdt.io.BadFileException;
import org.mkdt.io.NdArray;
import org.mkdt.io.Npy;
import org.mkdt.io.SafeTensors;
import org.mkdt.nn.ConvNet;
import org.mkdt.testing.Python;

class ArtefactsTest {
    @TempDir
    Path dir;

    private final String hash = Artefacts.configHash("{\"preset\":\"test\"}");

    @Test
    void teacherEncoderRoundTripsWithItsBatchNormStatisticsAndChecksItsLayout() throws IOException {
        org.mkdt.nn.ResNet net = new org.mkdt.nn.ResNet(1, 2, new int[] {1, 1, 1, 1});
        float[] theta = new float[net.numParams()];
        for (int i = 0; i < theta.length; i++) theta[i] = i * 0.001f;
        java.util.Map<String, double[]> buffers = new java.util.TreeMap<>(net.buffers());
        buffers.replaceAll((k, v) -> { double[] w = v.clone(); w[0] = k.length(); return w; });
        Path f = dir.resolve("teacher_encoder.safetensors");
        Artefacts.writeTeacherEncoder(f, NdArray.of(theta, theta.length), net.layout(), buffers, "resnet18 width 2, pooled", Artefacts.stamp(hash));
        assertArrayEquals(theta, Artefacts.readTeacherEncoder(f, net.layout()).toFloats());
        java.util.Map<String, double[]> read = Artefacts.readTeacherBuffers(f);
        assertEquals(buffers.keySet(), read.keySet());
        for (String k : buffers.keySet()) assertArrayEquals(buffers.get(k), read.get(k));
        net.loadBuffers(read);
        assertEquals("bn1.running_mean".length(), net.buffers().get("bn1.running_mean")[0]);
        BadFileException e = assertThrows(BadFileException.class, () -> Artefacts.readTeacherEncoder(f, new org.mkdt.nn.ConvNet(1, 8, 4, 1, 1).layout()));
        assertTrue(e.getMessage().contains("different teacher network") && e.getMessage().contains("resnet18 width 2, pooled"), e.getMessage());
    }

    @Test
    void representationsRoundTripAndCountIsChecked() throws IOException {
        Path f = dir.resolve("teacher.safetensors");
        Artefacts.writeRepresentations(f, NdArray.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2), Artefacts.stamp(hash));
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, Artefacts.readRepresentations(f, 3).toFloats());
        BadFileException e = assertThrows(BadFileException.class, () -> Artefacts.readRepresentations(f, 4));
        assertTrue(e.getMessage().contains("3 representations for a data set of 4 training images"), e.getMessage());
        // Imported from numpy's np.save:
        Path npy = dir.resolve("reps.npy");
        Npy.write(npy, NdArray.of(new double[] {1, 2}, 1, 2));
        assertEquals(2, Artefacts.readRepresentations(npy, 1).numel());
        Npy.write(npy, NdArray.of(new double[] {1, Double.NaN}, 1, 2));
        assertTrue(assertThrows(BadFileException.class, () -> Artefacts.readRepresentations(npy, 1)).getMessage().contains("NaN"));
    }

    @Test
    void trajectoryKeepsTheLayoutAPyTorchUserNeeds() throws IOException {
        ConvNet net = new ConvNet(3, 8, 4, 2, 5);
        int p = net.numParams();
        float[] snaps = new float[3 * p];
        for (int i = 0; i < snaps.length; i++) snaps[i] = i * 1e-3f;
        Path f = dir.resolve("expert_0.safetensors");
        Artefacts.writeTrajectory(f, NdArray.of(snaps, 3, p), net.layout(), Artefacts.stamp(hash));
        Artefacts.Trajectory t = Artefacts.readTrajectory(f, net.layout());
        assertEquals(net.layout().entries(), t.layout());
        assertEquals(hash, t.metadata().get("config_sha256"));
        assertArrayEquals(snaps, t.snapshots().toFloats());
        BadFileException e = assertThrows(BadFileException.class, () -> Artefacts.readTrajectory(f, new ConvNet(3, 8, 5, 2, 5).layout()));
        assertTrue(e.getMessage().contains("different student"), e.getMessage());
    }

    @Test
    void distilledSetRejectsNonFiniteValuesAndABadLearningRate() throws IOException {
        Path f = dir.resolve("distilled.safetensors");
        NdArray images = NdArray.of(new float[2 * 3 * 4 * 4], 2, 3, 4, 4);
        NdArray targets = NdArray.of(new float[] {1, 2, 3, 4}, 2, 2);
        Artefacts.writeDistilledSet(f, images, targets, 0.1, Normalization.CIFAR10, Artefacts.stamp(hash));
        Artefacts.DistilledSet d = Artefacts.readDistilledSet(f);
        assertEquals(0.1, d.lr());
        assertArrayEquals(Normalization.CIFAR10.std(), d.normalization().std());

        float[] nan = new float[2 * 3 * 4 * 4];
        nan[17] = Float.POSITIVE_INFINITY;
        Artefacts.writeDistilledSet(f, NdArray.of(nan, 2, 3, 4, 4), targets, 0.1, Normalization.CIFAR10, Artefacts.stamp(hash));
        BadFileException e = assertThrows(BadFileException.class, () -> Artefacts.readDistilledSet(f));
        assertTrue(e.getMessage().contains("images holds a NaN or infinite value at flat index 17"), e.getMessage());

        Artefacts.writeDistilledSet(f, images, targets, -0.5, Normalization.CIFAR10, Artefacts.stamp(hash));
        assertTrue(assertThrows(BadFileException.class, () -> Artefacts.readDistilledSet(f)).getMessage().contains("learned lr"));
    }

    @Test
    void aFileOfAnotherKindIsNamed() throws IOException {
        Path f = dir.resolve("teacher.safetensors");
        Artefacts.writeRepresentations(f, NdArray.of(new float[] {1, 2}, 1, 2), Artefacts.stamp(hash));
        BadFileException e = assertThrows(BadFileException.class, () -> Artefacts.readDistilledSet(f));
        assertTrue(e.getMessage().contains("is not a mkdt.distilled_set artefact (format: mkdt.teacher_representations)"), e.getMessage());
    }

    @Test
    void aFailedWriteLeavesNothingBehind() throws IOException {
        Path f = dir.resolve("never.safetensors");
        assertThrows(IllegalArgumentException.class, () ->
                Artefacts.writeDistilledSet(f, NdArray.of(new float[] {1}, 1), NdArray.of(new float[] {1}, 1, 1), 0.1, Normalization.CIFAR10, Artefacts.stamp(hash)));
        try (var s = Files.list(dir)) {
            assertFalse(s.findAny().isPresent(), "no partial or temporary file");
        }
    }

    @Test
    void aPyTorchUserCanLoadASnapshotWithNumpy() throws Exception {
        Python.assumeNumpy();
        ConvNet net = new ConvNet(3, 8, 4, 2, 5);
        int p = net.numParams();
        float[] snaps = new float[2 * p];
        for (int i = 0; i < snaps.length; i++) snaps[i] = i;
        Path f = dir.resolve("e.safetensors");
        Artefacts.writeTrajectory(f, NdArray.of(snaps, 2, p), net.layout(), Artefacts.stamp(hash));
        // numpy alone (no torch): split snapshot 1 into the named parameters with the layout metadata.
        String code = "import json, struct, sys, numpy as np\n"
                + "b = open(sys.argv[1], 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n])\n"
                + "e = h['snapshots']; s, t = e['data_offsets']; snaps = np.frombuffer(b[8 + n + s:8 + n + t], '<f4').reshape(e['shape'])\n"
                + "layout = json.loads(h['__metadata__']['layout'])\n"
                + "params = {l['name']: snaps[1, l['offset']:l['offset'] + int(np.prod(l['shape']))].reshape(l['shape']) for l in layout}\n"
                + "print(params['block1.conv.w'].shape, params['head.b'][0] == snaps[1, -5], len(params))";
        Python.Result r = Python.run(code, f.toString());
        assertEquals(0, r.exit(), r.out());
        assertEquals("(4, 4, 3, 3) True 10", r.out());
        assertTrue(SafeTensors.read(f).metadata().containsKey("layout"));
    }
}
