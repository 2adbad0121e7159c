package org.mkdt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mkdt.data.Artefacts;
import org.mkdt.data.Datasets;
import org.mkdt.io.NdArray;

class DataCommandTest {
    @TempDir
    Path dir;

    @Test
    void fashionMnistInfo() {
        assumeTrue(Files.isDirectory(Datasets.FASHION_MNIST_DIR), "Debian's dataset-fashion-mnist is not installed: skipped");
        CliRun r = CliRun.of("data", "info", "fashion-mnist");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("train       60000 images, uint8 (60000, 1, 32, 32)"), r.out());
        assertTrue(r.out().contains("test        10000 images"), r.out());
        assertTrue(r.out().contains("classes     10:"), r.out());
    }

    @Test
    void artefactInfoShowsKindTensorsAndMetadata() throws Exception {
        Path f = dir.resolve("t.safetensors");
        Artefacts.writeRepresentations(f, NdArray.of(new float[] {1, -2, 3, 4}, 2, 2), Artefacts.stamp("abc"));
        CliRun r = CliRun.of("data", "info", f.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("kind        mkdt.teacher_representations"), r.out());
        assertTrue(r.out().contains("representations      F32 (2, 2)  range [-2.00000, 4.00000]"), r.out());
        assertTrue(r.out().contains("config_sha256 = abc"), r.out());
    }

    @Test
    void badFilesGiveOneLineAndExitOne() throws Exception {
        Path f = dir.resolve("broken.npy");
        Files.write(f, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
        CliRun r = CliRun.of("data", "info", f.toString());
        assertEquals(1, r.code());
        assertEquals("mkdt: error: " + f + ": not a .npy file (wrong magic number)", r.err().strip());
        CliRun m = CliRun.of("data", "info", dir.resolve("missing").toString());
        assertEquals(1, m.code());
        assertTrue(m.err().strip().endsWith("missing: no such file or folder, and not a data set name (fashion-mnist, cifar10, cifar100, tiny-imagenet)"), m.err());
    }
}
