package org.mkdt.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.mkdt.io.BadFileException;
import org.mkdt.io.Idx;
import org.mkdt.io.NdArray;

/**
 * Resolves a data set by name or path. Names: {@code fashion-mnist} (Debian's
 * dataset-fashion-mnist under /usr/share/datasets/fashion-mnist, or --data-dir), {@code
 * cifar10}, {@code cifar100}, {@code tiny-imagenet} (their folders under --data-dir). A path
 * is recognised by its contents: IDX files, CIFAR binaries, the Tiny ImageNet layout, or a
 * folder per class.
 */
public final class Datasets {
    public static final Path FASHION_MNIST_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    public static final List<String> NAMES = List.of("fashion-mnist", "cifar10", "cifar100", "tiny-imagenet");
    private static final List<String> FASHION_CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    private Datasets() {}

    /** @param dataDir where named data sets live (null: their defaults) */
    public static Dataset load(String nameOrPath, Path dataDir) {
        switch (nameOrPath) {
            case "fashion-mnist" -> {
                Path dir = dataDir != null ? dataDir : FASHION_MNIST_DIR;
                if (!Files.isDirectory(dir)) {
                    throw new BadFileException(dir.toString(), "Fashion-MNIST not found; install it with 'apt-get install dataset-fashion-mnist' or pass --data-dir");
                }
                return idx("fashion-mnist", dir, FASHION_CLASSES, 2);
            }
            case "cifar10" -> {
                return CifarReader.cifar10(required(dataDir, "cifar10"));
            }
            case "cifar100" -> {
                return CifarReader.cifar100(required(dataDir, "cifar100"));
            }
            case "tiny-imagenet" -> {
                Path root = required(dataDir, "tiny-imagenet");
                Path inner = root.resolve("tiny-imagenet-200");
                return ImageFolderReader.tinyImageNet(Files.isDirectory(inner) ? inner : root);
            }
            default -> {
                return fromPath(Path.of(nameOrPath));
            }
        }
    }

    private static Path required(Path dataDir, String name) {
        if (dataDir == null) throw new BadFileException(name, "pass --data-dir with the folder holding your download of " + name);
        if (!Files.isDirectory(dataDir)) throw new BadFileException(dataDir.toString(), "no such folder");
        return dataDir;
    }

    private static Dataset fromPath(Path p) {
        if (!Files.exists(p)) throw new BadFileException(p.toString(), "no such file or folder, and not a data set name (" + String.join(", ", NAMES) + ")");
        if (!Files.isDirectory(p)) throw new BadFileException(p.toString(), "a data set is a folder (for artefacts use 'data info' on the .safetensors / .npy file)");
        if (Files.exists(p.resolve("train-images-idx3-ubyte.gz")) || Files.exists(p.resolve("train-images-idx3-ubyte"))) {
            return idx(p.getFileName().toString(), p, null, 0);
        }
        if (CifarReader.looksLikeCifar10(p)) return CifarReader.cifar10(p);
        if (CifarReader.looksLikeCifar100(p)) return CifarReader.cifar100(p);
        if (ImageFolderReader.looksLikeTinyImageNet(p)) return ImageFolderReader.tinyImageNet(p);
        return ImageFolderReader.folders(p);
    }

    /** (Fashion-)MNIST-style IDX files, single channel, optionally padded (28 -> 32). */
    private static Dataset idx(String name, Path dir, List<String> classNames, int pad) {
        ImageSet train = idxSplit(dir, "train", classNames);
        ImageSet test = idxSplit(dir, "t10k", classNames);
        if (classNames == null && test.classes().size() != train.classes().size()) {
            test = new ImageSet(test.source(), test.pixels(), test.count(), 1, test.height(), test.width(), test.labels(), train.classes());
        }
        if (pad > 0) {
            train = train.padded(pad);
            test = test.padded(pad);
        }
        return new Dataset(name, train, test, Normalization.of(train));
    }

    private static ImageSet idxSplit(Path dir, String prefix, List<String> classNames) {
        Path imgFile = existing(dir, prefix + "-images-idx3-ubyte");
        Path labFile = existing(dir, prefix + "-labels-idx1-ubyte");
        NdArray img = Idx.read(imgFile), lab = Idx.read(labFile);
        int[] is = img.shape(), ls = lab.shape();
        if (is.length != 3) throw new BadFileException(imgFile.toString(), "expected 3 dimensions (images, rows, columns), found " + is.length);
        if (ls.length != 1) throw new BadFileException(labFile.toString(), "expected 1 dimension (labels), found " + ls.length);
        if (ls[0] != is[0]) throw new BadFileException(labFile.toString(), ls[0] + " labels for the " + is[0] + " images of " + imgFile);
        if (is[0] == 0 || is[1] == 0 || is[2] == 0) throw new BadFileException(imgFile.toString(), "no images (shape " + Arrays.toString(is) + ")");
        if (classNames != null && (is[1] != 28 || is[2] != 28)) {
            throw new BadFileException(imgFile.toString(), "Fashion-MNIST images are 28x28, these are " + is[1] + "x" + is[2]);
        }
        int[] labels = lab.toInts(labFile.toString());
        List<String> classes = classNames;
        if (classes == null) {
            int max = -1;
            for (int l : labels) max = Math.max(max, l);
            List<String> c = new ArrayList<>();
            for (int i = 0; i <= max; i++) c.add(Integer.toString(i));
            classes = c;
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] >= classes.size()) throw new BadFileException(labFile.toString(), "label " + labels[i] + " of image " + i + " is out of range for " + classes.size() + " classes");
        }
        byte[] pixels = new byte[img.numel()];
        img.data().get(pixels);
        return new ImageSet(imgFile.toString(), pixels, is[0], 1, is[1], is[2], labels, classes);
    }

    private static Path existing(Path dir, String base) {
        Path gz = dir.resolve(base + ".gz"), plain = dir.resolve(base);
        if (Files.isRegularFile(gz)) return gz;
        if (Files.isRegularFile(plain)) return plain;
        throw new BadFileException(plain.toString(), "no such file (nor " + gz.getFileName() + ")");
    }
}
