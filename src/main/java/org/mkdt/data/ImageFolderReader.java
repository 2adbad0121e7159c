package org.mkdt.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.mkdt.io.BadFileException;

/**
 * Image folders read with javax.imageio (PNG, JPEG, BMP, GIF), as RGB:
 * <ul>
 *   <li>the Tiny ImageNet layout: train/&lt;wnid&gt;/images/*.JPEG, and val/images/*.JPEG labelled
 *       by val/val_annotations.txt (file, wnid, box) — the validation split is the test set;</li>
 *   <li>a generic layout: &lt;root&gt;/train/&lt;class&gt;/* and optionally &lt;root&gt;/test/&lt;class&gt;/*,
 *       or just &lt;root&gt;/&lt;class&gt;/* (no test set).</li>
 * </ul>
 * Classes are sorted by name; every image must have the size of the first one.
 */
public final class ImageFolderReader {
    private ImageFolderReader() {}

    public static boolean looksLikeTinyImageNet(Path root) {
        return Files.isRegularFile(root.resolve("val").resolve("val_annotations.txt")) && Files.isDirectory(root.resolve("train"));
    }

    public static Dataset tinyImageNet(Path root) {
        List<String> wnids = subfolders(root.resolve("train"));
        if (wnids.isEmpty()) throw new BadFileException(root.resolve("train").toString(), "no class folders");
        Map<String, Integer> index = indexOf(wnids);
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (String w : wnids) {
            for (Path f : images(root.resolve("train").resolve(w).resolve("images"))) {
                files.add(f);
                labels.add(index.get(w));
            }
        }
        ImageSet train = load(root.resolve("train").toString(), files, labels, wnids, 0, 0);
        Path ann = root.resolve("val").resolve("val_annotations.txt");
        List<Path> vfiles = new ArrayList<>();
        List<Integer> vlabels = new ArrayList<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(ann);
        } catch (IOException e) {
            throw new BadFileException(ann.toString(), "cannot read: " + e.getMessage(), e);
        }
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) continue;
            String[] f = line.split("\t");
            if (f.length < 2) throw new BadFileException(ann.toString(), "line " + (i + 1) + " is not '<file>\\t<wnid>...'");
            Integer label = index.get(f[1]);
            if (label == null) throw new BadFileException(ann.toString(), "line " + (i + 1) + " names class " + f[1] + ", which has no training folder");
            vfiles.add(root.resolve("val").resolve("images").resolve(f[0]));
            vlabels.add(label);
        }
        ImageSet test = load(root.resolve("val").toString(), vfiles, vlabels, wnids, train.height(), train.width());
        return new Dataset("tiny-imagenet", train, test, Normalization.TINY_IMAGENET);
    }

    /** The generic layout; normalisation computed from the training images. */
    public static Dataset folders(Path root) {
        Path trainDir = Files.isDirectory(root.resolve("train")) ? root.resolve("train") : root;
        List<String> classes = subfolders(trainDir);
        if (classes.isEmpty()) throw new BadFileException(trainDir.toString(), "no class folders (expected <root>/<class>/<image files>)");
        Map<String, Integer> index = indexOf(classes);
        ImageSet train = split(trainDir, classes, index, 0, 0);
        Path testDir = root.resolve("test");
        ImageSet test = Files.isDirectory(testDir) && trainDir != root
                ? split(testDir, classes, index, train.height(), train.width())
                : new ImageSet(root.toString(), new byte[0], 0, 3, train.height(), train.width(), new int[0], classes);
        return new Dataset(root.getFileName().toString(), train, test, Normalization.of(train));
    }

    private static ImageSet split(Path dir, List<String> classes, Map<String, Integer> index, int h, int w) {
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (String c : subfolders(dir)) {
            Integer label = index.get(c);
            if (label == null) throw new BadFileException(dir.resolve(c).toString(), "class folder not present in the training split");
            for (Path f : images(dir.resolve(c))) {
                files.add(f);
                labels.add(label);
            }
        }
        return load(dir.toString(), files, labels, classes, h, w);
    }

    private static ImageSet load(String source, List<Path> files, List<Integer> labels, List<String> classes, int h, int w) {
        if (files.isEmpty()) throw new BadFileException(source, "no image files");
        byte[] pixels = null;
        for (int i = 0; i < files.size(); i++) {
            BufferedImage img = readImage(files.get(i), w, h);
            if (pixels == null) {
                if (h == 0) {
                    h = img.getHeight();
                    w = img.getWidth();
                }
                long total = 3L * h * w * files.size();
                if (total > Integer.MAX_VALUE - 8) throw new BadFileException(source, files.size() + " images of " + w + "x" + h + " exceed 2 GiB of pixels");
                pixels = new byte[(int) total];
            }
            int base = i * 3 * h * w;
            // Grey images are copied to all three channels as stored: getRGB would pass them
            // through a linear-to-sRGB conversion and brighten them (grey 128 becomes 188).
            boolean grey = img.getColorModel().getColorSpace().getType() == java.awt.color.ColorSpace.TYPE_GRAY
                    && img.getRaster().getNumBands() <= 2 && img.getRaster().getSampleModel().getSampleSize(0) == 8;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int r, g, b;
                    if (grey) {
                        r = g = b = img.getRaster().getSample(x, y, 0);
                    } else {
                        int rgb = img.getRGB(x, y);
                        r = rgb >> 16;
                        g = rgb >> 8;
                        b = rgb;
                    }
                    pixels[base + y * w + x] = (byte) r;
                    pixels[base + h * w + y * w + x] = (byte) g;
                    pixels[base + 2 * h * w + y * w + x] = (byte) b;
                }
            }
        }
        return new ImageSet(source, pixels, files.size(), 3, h, w, labels.stream().mapToInt(Integer::intValue).toArray(), classes);
    }

    /** Largest side accepted: the size is checked from the header before any pixel is decoded. */
    static final int MAX_SIDE = 4096;

    /** Decodes one image; w, h = the expected size (0: the first image, any size up to MAX_SIDE). */
    private static BufferedImage readImage(Path f, int w, int h) {
        if (!Files.isRegularFile(f)) throw new BadFileException(f.toString(), "no such file");
        try (javax.imageio.stream.ImageInputStream in = ImageIO.createImageInputStream(f.toFile())) {
            java.util.Iterator<javax.imageio.ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) throw new BadFileException(f.toString(), "not an image format javax.imageio reads (PNG, JPEG, BMP, GIF)");
            javax.imageio.ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                int iw = reader.getWidth(0), ih = reader.getHeight(0);
                if (h != 0 && (iw != w || ih != h)) throw new BadFileException(f.toString(), "image is " + iw + "x" + ih + ", expected " + w + "x" + h + " like the others");
                if (iw < 1 || ih < 1 || iw > MAX_SIDE || ih > MAX_SIDE) throw new BadFileException(f.toString(), "image of " + iw + "x" + ih + " is outside 1.." + MAX_SIDE + " pixels a side");
                return reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof BadFileException b) throw b;
            throw new BadFileException(f.toString(), "cannot decode image: " + e.getMessage(), e);
        }
    }

    private static List<String> subfolders(Path dir) {
        if (!Files.isDirectory(dir)) throw new BadFileException(dir.toString(), "no such folder");
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new BadFileException(dir.toString(), "cannot list: " + e.getMessage(), e);
        }
    }

    private static List<Path> images(Path dir) {
        if (!Files.isDirectory(dir)) throw new BadFileException(dir.toString(), "no such folder");
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new BadFileException(dir.toString(), "cannot list: " + e.getMessage(), e);
        }
    }

    private static Map<String, Integer> indexOf(List<String> names) {
        Map<String, Integer> m = new HashMap<>();
        for (int i = 0; i < names.size(); i++) m.put(names.get(i), i);
        return m;
    }
}
