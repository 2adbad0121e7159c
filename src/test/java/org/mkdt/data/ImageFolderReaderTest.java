package org.mkdt.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mkdt.io.BadFileException;

class ImageFolderReaderTest {
    @TempDir
    Path dir;

    static void png(Path file, int w, int h, int rgb) throws IOException {
        Files.createDirectories(file.getParent());
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, rgb);
        ImageIO.write(img, file.toString().endsWith(".JPEG") ? "jpeg" : "png", file.toFile());
    }

    @Test
    void genericFolderPerClass() throws IOException {
        png(dir.resolve("train/cat/a.png"), 6, 4, 0xFF0000);
        png(dir.resolve("train/cat/b.png"), 6, 4, 0x00FF00);
        png(dir.resolve("train/dog/c.png"), 6, 4, 0x0000FF);
        png(dir.resolve("test/dog/d.png"), 6, 4, 0x102030);
        Dataset ds = Datasets.load(dir.toString(), null);
        assertEquals(List.of("cat", "dog"), ds.train().classes());
        assertEquals(3, ds.train().count());
        assertEquals(1, ds.test().count());
        assertEquals(1, ds.test().labels()[0]);
        assertEquals(4, ds.train().height());
        assertEquals(6, ds.train().width());
        assertEquals((byte) 255, ds.train().pixels()[0]); // a.png red plane
        assertEquals((byte) 0x30, ds.test().pixels()[2 * 24]); // d.png blue plane
        assertEquals(3, ds.normalization().channels());
    }

    @Test
    void tinyImageNetLayout() throws IOException {
        for (String w : List.of("n01", "n02")) for (int i = 0; i < 2; i++) png(dir.resolve("train/" + w + "/images/" + w + "_" + i + ".JPEG"), 8, 8, 0x808080);
        png(dir.resolve("val/images/val_0.JPEG"), 8, 8, 0x404040);
        png(dir.resolve("val/images/val_1.JPEG"), 8, 8, 0x404040);
        Files.writeString(dir.resolve("val/val_annotations.txt"), "val_0.JPEG\tn02\t0\t0\t8\t8\nval_1.JPEG\tn01\t0\t0\t8\t8\n");
        Dataset ds = Datasets.load(dir.toString(), null);
        assertEquals("tiny-imagenet", ds.name());
        assertEquals(4, ds.train().count());
        assertEquals(2, ds.test().count());
        assertEquals(1, ds.test().labels()[0]);
        assertEquals(Normalization.TINY_IMAGENET, ds.normalization());
    }

    @Test
    void greyImagesKeepTheirValues() throws IOException {
        Path f = dir.resolve("g/cls/grey.png");
        Files.createDirectories(f.getParent());
        BufferedImage img = new BufferedImage(2, 2, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setSample(0, 0, 0, 128);
        ImageIO.write(img, "png", f.toFile());
        Dataset ds = Datasets.load(dir.resolve("g").toString(), null);
        assertEquals(128, ds.train().pixels()[0] & 0xff, "red");
        assertEquals(128, ds.train().pixels()[4] & 0xff, "green");
        assertEquals(128, ds.train().pixels()[8] & 0xff, "blue");
    }

    @Test
    void sizeMismatchAndNonImagesAreNamed() throws IOException {
        png(dir.resolve("a/cls/x.png"), 4, 4, 0);
        png(dir.resolve("a/cls/y.png"), 5, 4, 0);
        BadFileException e = assertThrows(BadFileException.class, () -> Datasets.load(dir.resolve("a").toString(), null));
        assertTrue(e.getMessage().contains("y.png: image is 5x4, expected 4x4"), e.getMessage());
        Files.createDirectories(dir.resolve("b/cls"));
        Files.writeString(dir.resolve("b/cls/readme.txt"), "not an image");
        BadFileException f = assertThrows(BadFileException.class, () -> Datasets.load(dir.resolve("b").toString(), null));
        assertTrue(f.getMessage().contains("readme.txt: not an image format"), f.getMessage());
    }
}
