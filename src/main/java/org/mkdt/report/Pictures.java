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
        return png(img);
    }

    /** Images shown side by side with their start in {@link #comparison}; more would make an unreadable page. */
    public static final int MAX_COMPARED = 40;

    /**
     * Each synthetic image beside the real image it started from and their difference, tiles
     * scaled up to about 96 pixels, two triplets a row. The difference is distilled - initial in
     * pixel units, grey at zero, white and black at plus and minus the largest change of all
     * images (written in the header, so images can be compared with each other). captions (may
     * be null) goes under each triplet, e.g. the class of the nearest real image.
     */
    public static byte[] comparison(NdArray distilled, NdArray initial, Normalization norm, List<String> captions, int maxImages) {
        int[] s = distilled.shape();
        if (!java.util.Arrays.equals(s, initial.shape())) {
            throw new IllegalArgumentException("comparison: distilled " + distilled.describe() + " and initial " + initial.describe() + " differ in shape");
        }
        int m = Math.min(s[0], maxImages), c = s[1], h = s[2], w = s[3];
        int zoom = Math.max(1, (96 + h - 1) / h), th = h * zoom, tw = w * zoom, gap = 6, perRow = 2, header = 34, caption = captions == null ? 4 : 18;
        int rows = (m + perRow - 1) / perRow, tripletWidth = 3 * tw + 2 * gap;
        float[] a = distilled.toFloats(), b = initial.toFloats();
        double[] mean = norm.mean(), std = norm.std();
        double maxDiff = 1e-12;
        for (int i = 0; i < m * c * h * w; i++) maxDiff = Math.max(maxDiff, Math.abs((a[i] - b[i]) * std[(i / (h * w)) % c]));
        BufferedImage img = new BufferedImage(perRow * tripletWidth + (perRow + 1) * 3 * gap, header + rows * (th + caption + gap), BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = img.createGraphics();
        g.setRenderingHint(java.awt.RenderingHints.KEY_TEXT_ANTIALIASING, java.awt.RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(java.awt.Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setColor(java.awt.Color.DARK_GRAY);
        g.setFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 12));
        for (int col = 0; col < Math.min(perRow, m); col++) {
            int x0 = 3 * gap + col * (tripletWidth + 3 * gap);
            g.drawString("initial", x0, 14);
            g.drawString("distilled", x0 + tw + gap, 14);
            g.drawString("difference", x0 + 2 * (tw + gap), 14);
        }
        g.drawString(String.format("difference: grey 0, white +%.3f, black -%.3f (pixel units, 0..1)", maxDiff, maxDiff), 3 * gap, 29);
        for (int i = 0; i < m; i++) {
            int x0 = 3 * gap + (i % perRow) * (tripletWidth + 3 * gap), y0 = header + (i / perRow) * (th + caption + gap);
            for (int y = 0; y < th; y++) {
                for (int x = 0; x < tw; x++) {
                    int[] init = new int[3], dist = new int[3], diff = new int[3];
                    for (int k = 0; k < 3; k++) {
                        int ch = c == 1 ? 0 : k, at = ((i * c + ch) * h + y / zoom) * w + x / zoom;
                        double vi = b[at] * std[ch] + mean[ch], vd = a[at] * std[ch] + mean[ch];
                        init[k] = level(vi);
                        dist[k] = level(vd);
                        diff[k] = level(0.5 + 0.5 * (vd - vi) / maxDiff);
                    }
                    img.setRGB(x0 + x, y0 + y, rgb(init));
                    img.setRGB(x0 + tw + gap + x, y0 + y, rgb(dist));
                    img.setRGB(x0 + 2 * (tw + gap) + x, y0 + y, rgb(diff));
                }
            }
            if (captions != null && i < captions.size()) g.drawString(captions.get(i), x0, y0 + th + 14);
        }
        g.dispose();
        return png(img);
    }

    private static int level(double v) {
        return (int) Math.round(255 * Math.max(0, Math.min(1, v)));
    }

    private static int rgb(int[] v) {
        return (v[0] << 16) | (v[1] << 8) | v[2];
    }

    /**
     * The matching loss per iteration, one series per start epoch of the iteration's (first)
     * segment: its level depends on where along the expert trajectory the segment starts, which
     * is what makes a single series zig-zag. A moving average over all iterations shows the trend;
     * the y axis is logarithmic when the losses span more than a factor of 10.
     */
    public static byte[] lossPlot(double[] losses, int[] startEpochs) {
        if (startEpochs.length != losses.length) throw new IllegalArgumentException("lossPlot: " + losses.length + " losses, " + startEpochs.length + " start epochs");
        XYChart chart = new XYChartBuilder().width(800).height(450).title("Trajectory matching loss")
                .xAxisTitle("iteration").yAxisTitle("||theta_N - theta*||^2 / ||theta_0 - theta*||^2").build();
        chart.getStyler().setMarkerSize(5).setLegendPosition(Styler.LegendPosition.OutsideS).setLegendLayout(Styler.LegendLayout.Horizontal);
        if (losses.length == 0) {
            chart.addSeries("no iterations yet", new double[] {0}, new double[] {0});
            return png(chart);
        }
        java.util.TreeMap<Integer, List<double[]>> byStart = new java.util.TreeMap<>();
        double min = Double.POSITIVE_INFINITY, max = 0;
        for (int i = 0; i < losses.length; i++) {
            byStart.computeIfAbsent(startEpochs[i], k -> new java.util.ArrayList<>()).add(new double[] {i + 1, losses[i]});
            min = Math.min(min, losses[i]);
            max = Math.max(max, losses[i]);
        }
        for (Map.Entry<Integer, List<double[]>> e : byStart.entrySet()) {
            double[] x = e.getValue().stream().mapToDouble(p -> p[0]).toArray(), y = e.getValue().stream().mapToDouble(p -> p[1]).toArray();
            chart.addSeries("start epoch " + e.getKey(), x, y).setXYSeriesRenderStyle(org.knowm.xchart.XYSeries.XYSeriesRenderStyle.Scatter);
        }
        int window = Math.max(1, Math.min(losses.length, Math.max(5, losses.length / 20)));
        if (losses.length >= 3) {
            double[] x = new double[losses.length], avg = new double[losses.length];
            double sum = 0;
            for (int i = 0; i < losses.length; i++) {
                sum += losses[i];
                if (i >= window) sum -= losses[i - window];
                x[i] = i + 1;
                avg[i] = sum / Math.min(i + 1, window);
            }
            org.knowm.xchart.XYSeries trend = chart.addSeries("moving average of " + window, x, avg);
            trend.setXYSeriesRenderStyle(org.knowm.xchart.XYSeries.XYSeriesRenderStyle.Line);
            trend.setMarker(org.knowm.xchart.style.markers.SeriesMarkers.NONE);
            trend.setLineColor(java.awt.Color.BLACK);
        }
        if (min > 0 && max / min > 10) chart.getStyler().setYAxisLogarithmic(true);
        return png(chart);
    }

    /**
     * Probe accuracy with error bars (std over seeds), one series of points per label fraction
     * over the pre-training sets, the y axis zoomed to the data (a few-point difference must be
     * visible, so points, not bars: a bar's length would lie) and, where given, each fraction's
     * no-pre-training level as a dashed reference line.
     *
     * @param reference per series, the level to draw (NaN: none)
     */
    public static byte[] resultsChart(String title, List<String> sets, Map<String, double[][]> meanStdBySeries, Map<String, Double> reference) {
        CategoryChart chart = new CategoryChartBuilder().width(900).height(560).title(title).yAxisTitle("linear probe test accuracy (%)").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS).setLegendLayout(Styler.LegendLayout.Horizontal).setMarkerSize(9);
        chart.getStyler().setDefaultSeriesRenderStyle(org.knowm.xchart.CategorySeries.CategorySeriesRenderStyle.Scatter);
        chart.getStyler().setErrorBarsColorSeriesColor(true);
        chart.getStyler().setXAxisLabelRotation(20); // the row names are long: slanted, they do not overlap
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        java.awt.Color[] colours = {new java.awt.Color(31, 119, 180), new java.awt.Color(214, 39, 40), new java.awt.Color(44, 160, 44), new java.awt.Color(148, 103, 189)};
        int si = 0;
        for (Map.Entry<String, double[][]> e : meanStdBySeries.entrySet()) {
            java.awt.Color colour = colours[si++ % colours.length];
            double[] mean = e.getValue()[0], std = e.getValue()[1];
            List<Double> ys = new java.util.ArrayList<>(), es = new java.util.ArrayList<>();
            for (int j = 0; j < mean.length; j++) {
                double err = Double.isFinite(std[j]) ? std[j] : 0.0;
                ys.add(mean[j]);
                es.add(err);
                if (Double.isFinite(mean[j])) {
                    lo = Math.min(lo, mean[j] - err);
                    hi = Math.max(hi, mean[j] + err);
                }
            }
            org.knowm.xchart.CategorySeries points = chart.addSeries(e.getKey(), sets, ys, es);
            points.setMarkerColor(colour);
            points.setFillColor(colour);
            Double level = reference.get(e.getKey());
            if (level != null && Double.isFinite(level)) {
                List<Double> flat = new java.util.ArrayList<>(java.util.Collections.nCopies(sets.size(), level));
                org.knowm.xchart.CategorySeries line = chart.addSeries(e.getKey() + ": no pre-training", sets, flat);
                line.setChartCategorySeriesRenderStyle(org.knowm.xchart.CategorySeries.CategorySeriesRenderStyle.Line);
                line.setMarker(org.knowm.xchart.style.markers.SeriesMarkers.NONE);
                line.setLineStyle(org.knowm.xchart.style.lines.SeriesLines.DASH_DASH);
                line.setLineColor(colour);
            }
        }
        if (lo < hi) {
            double pad = Math.max(0.5, 0.08 * (hi - lo));
            chart.getStyler().setYAxisMin(Math.floor(lo - pad)).setYAxisMax(Math.ceil(hi + pad));
        }
        return png(chart);
    }

    private static List<Double> toList(double[] v) {
        return java.util.Arrays.stream(v).boxed().toList();
    }

    private static byte[] png(BufferedImage img) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static byte[] png(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart) {
        try {
            return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
