package org.mkdt.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.mkdt.data.ImageSet;
import org.mkdt.data.Normalization;
import org.mkdt.io.NdArray;
import org.mkdt.testing.Blobs;

/** The run's pictures: readable sizes, what they must show, and the nearest-class captions. Written to target/pictures/ for a look. */
class PicturesTest {
    static final Path OUT = Path.of("target/pictures");

    @Test
    void theComparisonShowsEachImageBesideItsStartAtAReadableSize() throws Exception {
        ImageSet blobs = Blobs.images(10, 3);
        Normalization norm = Normalization.of(blobs);
        NdArray initial = NdArray.of(blobs.toTensor(org.mkdt.backend.cpu.CpuBackend.INSTANCE, norm));
        float[] moved = initial.toFloats();
        for (int i = 0; i < moved.length; i++) moved[i] += (float) (0.3 * Math.sin(i * 0.01));
        NdArray distilled = NdArray.of(moved, initial.shape());
        List<String> captions = NearestClass.captions(distilled, blobs, norm);
        assertEquals(10, captions.size());
        assertTrue(captions.get(0).startsWith("#0 nearest: "), captions.get(0));
        BufferedImage img = write("comparison.png", Pictures.comparison(distilled, initial, norm, captions, Pictures.MAX_COMPARED));
        assertTrue(img.getWidth() >= 2 * 3 * 96, "width " + img.getWidth());
        assertTrue(img.getHeight() >= 5 * 96, "height " + img.getHeight());
        assertThrows(IllegalArgumentException.class, () -> Pictures.comparison(distilled, NdArray.of(new float[4], 1, 1, 2, 2), norm, null, 5));
    }

    @Test
    void eachImageIsNearestToItselfAndItsClassIsNamed() {
        ImageSet blobs = Blobs.images(6, 4);
        Normalization norm = Normalization.of(blobs);
        NdArray images = NdArray.of(blobs.toTensor(org.mkdt.backend.cpu.CpuBackend.INSTANCE, norm));
        List<String> captions = NearestClass.captions(images, blobs, norm);
        for (int i = 0; i < 6; i++) {
            assertEquals("#" + i + " nearest: " + blobs.classes().get(blobs.labels()[i]) + " (image " + i + ")", captions.get(i));
        }
    }

    @Test
    void theLossPlotAndTheResultsChartRender() throws Exception {
        int n = 60;
        double[] losses = new double[n];
        int[] starts = new int[n];
        for (int i = 0; i < n; i++) {
            starts[i] = (i * 7) % 3;
            losses[i] = (1 + starts[i]) * 0.5 * Math.exp(-i / 40.0);
        }
        write("loss.png", Pictures.lossPlot(losses, starts));
        assertThrows(IllegalArgumentException.class, () -> Pictures.lossPlot(losses, new int[3]));
        write("loss-empty.png", Pictures.lossPlot(new double[0], new int[0]));
        Map<String, double[][]> series = new LinkedHashMap<>();
        series.put("0.1% labels", new double[][] {{65.9, 66.3, 66.0, 67.2, 65.2}, {1.9, 1.7, 1.6, 2.0, 1.8}});
        series.put("1% labels", new double[][] {{80.1, 80.4, 80.2, 81.3, 79.3}, {1.0, 1.0, 0.9, 1.1, 0.7}});
        BufferedImage chart = write("results.png", Pictures.resultsChart("test", List.of("MKDT (distilled)", "initial subset (random)", "random real subset (class-balanced)", "no pre-training", "full training set (KD)"), series,
                Map.of("0.1% labels", 67.2, "1% labels", 81.3)));
        assertTrue(chart.getWidth() >= 800);
    }

    private static BufferedImage write(String name, byte[] png) throws Exception {
        Files.createDirectories(OUT);
        Files.write(OUT.resolve(name), png);
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertTrue(img != null && img.getWidth() > 0, name);
        return img;
    }
}
