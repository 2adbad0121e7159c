package org.mkdt.testing;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/** A tiny image-folder data set for end-to-end tests: 2 classes, 12 + 4 RGB images of 8x8 each. */
public final class TinyData {
    private TinyData() {}

    public static Path imageFolder(Path root) throws Exception {
        double[] noise = Close.uniform(5, 32 * 64);
        int k = 0;
        for (String split : List.of("train", "test")) {
            for (String cls : List.of("a", "b")) {
                for (int i = 0; i < (split.equals("train") ? 12 : 4); i++, k++) {
                    BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
                    for (int p = 0; p < 64; p++) {
                        int v = (int) (127 + 120 * noise[k * 64 + p]);
                        img.setRGB(p % 8, p / 8, cls.equals("a") ? (v << 16) : v);
                    }
                    Path f = root.resolve(split).resolve(cls).resolve(i + ".png");
                    Files.createDirectories(f.getParent());
                    ImageIO.write(img, "png", f.toFile());
                }
            }
        }
        return root;
    }
}
