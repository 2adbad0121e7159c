package org.mkdt.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mkdt.io.BadFileException;

/** CIFAR binaries written by the test in the real formats, then read back. */
class CifarReaderTest {
    @TempDir
    Path dir;

    /** n records; record i has labels (coarse = i % 20, fine/label = i % classes) and pixels i + channel. */
    static byte[] records(int n, int labelBytes, int classes) {
        int rec = labelBytes + 3072;
        byte[] b = new byte[n * rec];
        for (int i = 0; i < n; i++) {
            if (labelBytes == 2) b[i * rec] = (byte) (i % 20);
            b[i * rec + labelBytes - 1] = (byte) (i % classes);
            for (int c = 0; c < 3; c++) Arrays.fill(b, i * rec + labelBytes + c * 1024, i * rec + labelBytes + (c + 1) * 1024, (byte) (i + c));
        }
        return b;
    }

    @Test
    void cifar10FromItsFolder() throws IOException {
        Path d = Files.createDirectories(dir.resolve("cifar-10-batches-bin"));
        for (int i = 1; i <= 5; i++) Files.write(d.resolve("data_batch_" + i + ".bin"), records(4, 1, 10));
        Files.write(d.resolve("test_batch.bin"), records(3, 1, 10));
        Dataset ds = Datasets.load(dir.toString(), null);
        assertEquals("cifar10", ds.name());
        assertEquals(20, ds.train().count());
        assertEquals(3, ds.test().count());
        assertEquals(32, ds.train().height());
        assertArrayEquals(new int[] {0, 1, 2, 3, 0, 1, 2, 3}, Arrays.copyOf(ds.train().labels(), 8));
        assertEquals(3, ds.train().pixels()[3072 + 2048]); // image 1, blue plane: 1 + 2
        assertSame(Normalization.CIFAR10, ds.normalization());
    }

    @Test
    void cifar100WithCoarseAndFineLabels() throws IOException {
        Files.write(dir.resolve("train.bin"), records(30, 2, 100));
        Files.write(dir.resolve("test.bin"), records(5, 2, 100));
        Dataset ds = Datasets.load("cifar100", dir);
        assertEquals(30, ds.train().count());
        assertEquals(100, ds.train().classes().size());
        assertEquals(29, ds.train().labels()[29]);
        // The MKDT reference's constants (utils.get_dataset), so inputs are on its scale.
        assertSame(Normalization.CIFAR100, ds.normalization());
        assertArrayEquals(new double[] {0.5071, 0.4865, 0.4409}, Normalization.CIFAR100.mean());
        assertArrayEquals(new double[] {0.2009, 0.1984, 0.2023}, Normalization.CIFAR100.std());
    }

    @Test
    void labelOutOfRangeAndTruncatedRecords() throws IOException {
        byte[] b = records(3, 1, 10);
        b[3073] = 12; // record 1's label
        BadFileException e = assertThrows(BadFileException.class, () -> CifarReader.records(b, 1, 10, "batch.bin", Datasets.NAMES));
        assertTrue(e.getMessage().contains("batch.bin: label 12 of record 1 is out of range for 10 classes"), e.getMessage());
        BadFileException t = assertThrows(BadFileException.class, () -> CifarReader.records(Arrays.copyOf(records(2, 1, 10), 5000), 1, 10, "t.bin", Datasets.NAMES));
        assertTrue(t.getMessage().contains("not a whole number"), t.getMessage());
        byte[] c = records(2, 2, 100);
        c[0] = 25; // coarse label
        assertThrows(BadFileException.class, () -> CifarReader.records(c, 2, 100, "c.bin", java.util.Collections.nCopies(100, "x")));
    }

    @Test
    void eachBatchMustHoldWholeRecordsOnItsOwn() throws IOException {
        Path d = Files.createDirectories(dir.resolve("misaligned"));
        byte[] one = records(2, 1, 10);
        Files.write(d.resolve("data_batch_1.bin"), Arrays.copyOf(one, one.length - 1));
        Files.write(d.resolve("data_batch_2.bin"), Arrays.copyOf(one, one.length + 1));
        for (int i = 3; i <= 5; i++) Files.write(d.resolve("data_batch_" + i + ".bin"), one);
        Files.write(d.resolve("test_batch.bin"), one);
        BadFileException e = assertThrows(BadFileException.class, () -> Datasets.load(d.toString(), null));
        assertTrue(e.getMessage().contains("data_batch_1.bin: ") && e.getMessage().contains("not a whole number"), e.getMessage());
        assertTrue(assertThrows(BadFileException.class, () -> CifarReader.records(new byte[0], 1, 10, "e.bin", Datasets.NAMES)).getMessage().contains("empty"));
    }

    @Test
    void missingFileIsNamed() throws IOException {
        Path d = Files.createDirectories(dir.resolve("partial"));
        Files.write(d.resolve("data_batch_1.bin"), records(1, 1, 10));
        BadFileException e = assertThrows(BadFileException.class, () -> Datasets.load(d.toString(), null));
        assertTrue(e.getMessage().contains("data_batch_2.bin: no such file"), e.getMessage());
    }

    @Test
    void idxFilesWithoutImagesAreRejected() throws IOException {
        Path d = Files.createDirectories(dir.resolve("idx"));
        for (String split : new String[] {"train", "t10k"}) {
            Files.write(d.resolve(split + "-images-idx3-ubyte"), org.mkdt.io.Idx.toBytes(org.mkdt.io.NdArray.ofBytes(new byte[0], 0, 28, 28)));
            Files.write(d.resolve(split + "-labels-idx1-ubyte"), org.mkdt.io.Idx.toBytes(org.mkdt.io.NdArray.ofBytes(new byte[0], 0)));
        }
        BadFileException e = assertThrows(BadFileException.class, () -> Datasets.load(d.toString(), null));
        assertTrue(e.getMessage().contains("no images"), e.getMessage());
    }
}
