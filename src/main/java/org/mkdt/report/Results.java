package org.mkdt.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.math3.stat.descriptive.DescriptiveStatistics;

/**
 * The evaluation's numbers: for each pre-training set, the probe accuracy at each label fraction
 * for each seed; means and sample standard deviations by Commons Math; the markdown table, the
 * JSON document and the chart's series.
 */
public final class Results {
    /** One pre-training set's accuracies, acc[fraction][seed] in [0, 1]. */
    public record Row(String name, int images, double lr, double[][] acc) {
        public double mean(int fraction) {
            return new DescriptiveStatistics(acc[fraction]).getMean();
        }

        /** Sample standard deviation over seeds (0 with one seed). */
        public double std(int fraction) {
            DescriptiveStatistics d = new DescriptiveStatistics(acc[fraction]);
            return d.getN() > 1 ? d.getStandardDeviation() : 0;
        }
    }

    private final double[] fractions;
    private final long[] seeds;
    private final List<Row> rows = new ArrayList<>();

    public Results(double[] fractions, long[] seeds) {
        this.fractions = fractions.clone();
        this.seeds = seeds.clone();
    }

    public void add(Row r) {
        rows.add(r);
    }

    public List<Row> rows() {
        return List.copyOf(rows);
    }

    static String pct(double fraction) {
        double p = 100 * fraction;
        return (p == Math.rint(p) ? String.valueOf((long) p) : String.valueOf(p)) + "%";
    }

    /** Markdown: one row per set, "mean ± std" (percent) per label fraction. */
    public String markdown() {
        StringBuilder sb = new StringBuilder("| pre-training set | images | ");
        for (double f : fractions) sb.append(pct(f)).append(" labels | ");
        sb.append("\n|---|---|");
        for (int i = 0; i < fractions.length; i++) sb.append("---|");
        sb.append('\n');
        for (Row r : rows) {
            sb.append("| ").append(r.name()).append(" | ").append(r.images() == 0 ? "-" : String.valueOf(r.images())).append(" | ");
            for (int i = 0; i < fractions.length; i++) sb.append(String.format("%.2f ± %.2f | ", 100 * r.mean(i), 100 * r.std(i)));
            sb.append('\n');
        }
        sb.append(String.format("%nLinear probe test accuracy (%%), mean ± sample std over %d seeds %s.%n", seeds.length, java.util.Arrays.toString(seeds)));
        return sb.toString();
    }

    /** The JSON document (results.json). */
    public Map<String, Object> json() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("label_fractions", fractions);
        doc.put("seeds", seeds);
        List<Map<String, Object>> sets = new ArrayList<>();
        for (Row r : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("set", r.name());
            m.put("images", r.images());
            m.put("lr", r.lr());
            Map<String, Object> byFraction = new LinkedHashMap<>();
            for (int i = 0; i < fractions.length; i++) {
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("accuracy_per_seed", r.acc()[i]);
                f.put("mean", r.mean(i));
                f.put("std", r.std(i));
                byFraction.put(pct(fractions[i]), f);
            }
            m.put("labels", byFraction);
            sets.add(m);
        }
        doc.put("sets", sets);
        return doc;
    }

    /** The bar chart: one series per label fraction, one category per set. */
    public byte[] chart(String title) {
        List<String> names = rows.stream().map(Row::name).toList();
        Map<String, double[][]> series = new LinkedHashMap<>();
        for (int i = 0; i < fractions.length; i++) {
            double[] mean = new double[rows.size()], std = new double[rows.size()];
            for (int j = 0; j < rows.size(); j++) {
                mean[j] = 100 * rows.get(j).mean(i);
                std[j] = 100 * rows.get(j).std(i);
            }
            series.put(pct(fractions[i]) + " labels", new double[][] {mean, std});
        }
        return Pictures.resultsChart(title, names, series);
    }
}
