package org.mkdt.testing;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/** A tiny image-folder data set for end-to-end tests: 2 classes, 12 + 4 RGB images of 8x8 each. */
public final class TinyData {
    private TinyData() {}

    /** An RGB 8x8 image folder of two classes (noise in the red or the blue channel), 12 training and 4 test images each. */
    public static Path imageFolder(Path root) throws Exception {
        double[] noise = Close.uniform(5, 32 * 64);
        return folder(root, List.of("a", "b"), 12, 4, (cls, k) -> {
            BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
            for (int p = 0; p < 64; p++) {
                int v = (int) (127 + 120 * noise[k * 64 + p]);
                img.setRGB(p % 8, p / 8, cls.equals("a") ? (v << 16) : v);
            }
            return img;
        });
    }

    /** A grey 12x12 image folder of two classes (bright top half or bright bottom half), 10 training and 4 test images each: a downstream set that needs converting. */
    public static Path greyFolder(Path root) throws Exception {
        double[] noise = Close.uniform(6, 28 * 144);
        return folder(root, List.of("top", "bottom"), 10, 4, (cls, k) -> {
            BufferedImage img = new BufferedImage(12, 12, BufferedImage.TYPE_BYTE_GRAY);
            for (int p = 0; p < 144; p++) {
                boolean bright = (p / 12 < 6) == cls.equals("top");
                img.getRaster().setSample(p % 12, p / 12, 0, (int) ((bright ? 170 : 60) + 50 * noise[k * 144 + p]));
            }
            return img;
        });
    }

    /** root/{train,test}/CLASS/i.png, the k-th image overall (train first, class by class) drawn by {@code image}. */
    private static Path folder(Path root, List<String> classes, int train, int test, java.util.function.BiFunction<String, Integer, BufferedImage> image) throws Exception {
        int k = 0;
        for (String split : List.of("train", "test")) {
            for (String cls : classes) {
                for (int i = 0; i < (split.equals("train") ? train : test); i++, k++) {
                    Path f = root.resolve(split).resolve(cls).resolve(i + ".png");
                    Files.createDirectories(f.getParent());
                    ImageIO.write(image.apply(cls, k), "png", f.toFile());
                }
            }
        }
        return root;
    }
}
