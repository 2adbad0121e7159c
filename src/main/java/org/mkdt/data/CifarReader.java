package org.mkdt.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.mkdt.io.BadFileException;

/**
 * The binary versions of CIFAR-10 (data_batch_1..5.bin, test_batch.bin: records of one label
 * byte and 3072 pixel bytes) and CIFAR-100 (train.bin, test.bin: coarse label, fine label,
 * 3072 pixels; the fine label is the class, the coarse one is range-checked). Either folder
 * may be given, or its parent holding cifar-10-batches-bin / cifar-100-binary.
 */
public final class CifarReader {
    static final int PIXELS = 3 * 32 * 32;
    private static final List<String> CIFAR10_CLASSES = List.of("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck");

    private CifarReader() {}

    public static boolean looksLikeCifar10(Path dir) {
        return Files.isRegularFile(cifar10Dir(dir).resolve("data_batch_1.bin"));
    }

    public static boolean looksLikeCifar100(Path dir) {
        return Files.isRegularFile(cifar100Dir(dir).resolve("train.bin"));
    }

    private static Path cifar10Dir(Path dir) {
        Path inner = dir.resolve("cifar-10-batches-bin");
        return Files.isDirectory(inner) ? inner : dir;
    }

    private static Path cifar100Dir(Path dir) {
        Path inner = dir.resolve("cifar-100-binary");
        return Files.isDirectory(inner) ? inner : dir;
    }

    public static Dataset cifar10(Path dir) {
        Path d = cifar10Dir(dir);
        List<ImageSet> parts = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            Path f = d.resolve("data_batch_" + i + ".bin");
            parts.add(records(read(f), 1, 10, f.toString(), CIFAR10_CLASSES));
        }
        ImageSet train = concat(parts, d.resolve("data_batch_{1..5}.bin").toString());
        ImageSet test = records(read(d.resolve("test_batch.bin")), 1, 10, d.resolve("test_batch.bin").toString(), CIFAR10_CLASSES);
        return new Dataset("cifar10", train, test, Normalization.CIFAR10);
    }

    public static Dataset cifar100(Path dir) {
        Path d = cifar100Dir(dir);
        List<String> classes = new ArrayList<>();
        for (int i = 0; i < 100; i++) classes.add("class" + i);
        ImageSet train = records(read(d.resolve("train.bin")), 2, 100, d.resolve("train.bin").toString(), classes);
        ImageSet test = records(read(d.resolve("test.bin")), 2, 100, d.resolve("test.bin").toString(), classes);
        return new Dataset("cifar100", train, test, Normalization.CIFAR100);
    }

    private static byte[] read(Path file) {
        try {
            if (!Files.isRegularFile(file)) throw new BadFileException(file.toString(), "no such file");
            if (Files.size(file) > MAX_FILE_BYTES) throw new BadFileException(file.toString(), "file of " + Files.size(file) + " bytes is too large for a CIFAR batch");
            return Files.readAllBytes(file);
        } catch (java.io.IOException e) {
            throw new BadFileException(file.toString(), "cannot read: " + e.getMessage(), e);
        }
    }

    /** A CIFAR batch file is at most 50000 records (CIFAR-100's train.bin: 153 MB). */
    private static final long MAX_FILE_BYTES = 60_000L * (2 + PIXELS);

    /** The batches one after the other, each already checked on its own. */
    private static ImageSet concat(List<ImageSet> parts, String source) {
        int n = 0;
        for (ImageSet p : parts) n += p.count();
        byte[] pixels = new byte[n * PIXELS];
        int[] labels = new int[n];
        int at = 0;
        for (ImageSet p : parts) {
            System.arraycopy(p.pixels(), 0, pixels, at * PIXELS, p.count() * PIXELS);
            System.arraycopy(p.labels(), 0, labels, at, p.count());
            at += p.count();
        }
        return new ImageSet(source, pixels, n, 3, 32, 32, labels, parts.get(0).classes());
    }

    /**
     * Parses records of {@code labelBytes} label bytes (the last one is the class) and 3072
     * pixel bytes (R, G, B planes of 32x32).
     */
    public static ImageSet records(byte[] bytes, int labelBytes, int classes, String source, List<String> classNames) {
        int rec = labelBytes + PIXELS;
        if (bytes.length == 0) throw new BadFileException(source, "empty file: no CIFAR records");
        if (bytes.length % rec != 0) {
            throw new BadFileException(source, bytes.length + " bytes is not a whole number of " + rec + "-byte CIFAR records (truncated file?)");
        }
        int n = bytes.length / rec;
        byte[] pixels = new byte[n * PIXELS];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            if (labelBytes == 2) {
                int coarse = bytes[i * rec] & 0xff;
                if (coarse >= 20) throw new BadFileException(source, "coarse label " + coarse + " of record " + i + " is out of range for 20 superclasses");
            }
            labels[i] = bytes[i * rec + labelBytes - 1] & 0xff;
            if (labels[i] >= classes) throw new BadFileException(source, "label " + labels[i] + " of record " + i + " is out of range for " + classes + " classes");
            System.arraycopy(bytes, i * rec + labelBytes, pixels, i * PIXELS, PIXELS);
        }
        return new ImageSet(source, pixels, n, 3, 32, 32, labels, classNames);
    }
}
