package org.mkdt.report;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.mkdt.data.Normalization;
import org.mkdt.io.NdArray;

/** The PNG pictures of a run: the synthetic images as a grid, the matching loss, the results chart. */
public final class Pictures {
    private Pictures() {}

    /**
     * Images (M, C, S, S) in normalised space as a grid of tiles, de-normalised to [0, 255]
     * (values outside the data range are clipped: distilled pixels can leave it).
     */
    public static byte[] imageGrid(NdArray images, Normalization norm, int maxImages) {
        int[] s = images.shape();
        int m = Math.min(s[0], maxImages), c = s[1], h = s[2], w = s[3];
        int cols = (int) Math.ceil(Math.sqrt(m)), rows = (m + cols - 1) / cols, pad = 2;
        BufferedImage img = new BufferedImage(cols * (w + pad) + pad, rows * (h + pad) + pad, BufferedImage.TYPE_INT_RGB);
        float[] v = images.toFloats();
        double[] mean = norm.mean(), std = norm.std();
        for (int i = 0; i < m; i++) {
            int x0 = pad + (i % cols) * (w + pad), y0 = pad + (i / cols) * (h + pad);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int[] rgb = new int[3];
                    for (int k = 0; k < 3; k++) {
                        int ch = c == 1 ? 0 : k;
                        double val = v[((i * c + ch) * h + y) * w + x] * std[ch] + mean[ch];
                        rgb[k] = (int) Math.round(255 * Math.max(0, Math.min(1, val)));
                    }
                    img.setRGB(x0 + x, y0 + y, (rgb[0] << 16) | (rgb[1] << 8) | rgb[2]);
                }
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** The matching loss per iteration. */
    public static byte[] lossPlot(double[] losses) {
        XYChart chart = new XYChartBuilder().width(720).height(400).title("Trajectory matching loss")
                .xAxisTitle("iteration").yAxisTitle("||theta_N - theta*||^2 / ||theta_0 - theta*||^2").build();
        chart.getStyler().setLegendVisible(false).setMarkerSize(3);
        double[] x = new double[losses.length];
        for (int i = 0; i < x.length; i++) x[i] = i + 1;
        chart.addSeries("loss", x.length == 0 ? new double[] {0} : x, losses.length == 0 ? new double[] {0} : losses);
        return png(chart);
    }

    /**
     * Grouped bars with error bars: for each label fraction (series), the mean accuracy of each
     * pre-training set (category), std over seeds as the error bar.
     */
    public static byte[] resultsChart(String title, List<String> sets, Map<String, double[][]> meanStdBySeries) {
        CategoryChart chart = new CategoryChartBuilder().width(800).height(450).title(title)
                .xAxisTitle("pre-training set").yAxisTitle("linear probe test accuracy (%)").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        for (Map.Entry<String, double[][]> e : meanStdBySeries.entrySet()) {
            chart.addSeries(e.getKey(), sets, toList(e.getValue()[0]), toList(e.getValue()[1]));
        }
        return png(chart);
    }

    private static List<Double> toList(double[] v) {
        return java.util.Arrays.stream(v).boxed().toList();
    }

    private static byte[] png(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart) {
        try {
            return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
