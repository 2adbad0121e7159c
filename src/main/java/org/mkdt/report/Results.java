package org.mkdt.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.math3.stat.descriptive.DescriptiveStatistics;

/**
 * The evaluation's numbers: for each row (a pre-training set, or the teacher itself), the probe
 * accuracy at each label fraction for each seed, and the held-out KD error per seed; means and
 * standard deviations by Commons Math. The tables state the sample standard deviation (n - 1,
 * Commons Math's and pandas' default); results.json also gives the population one (n, numpy's
 * default, which the MKDT reference reports), so either can be compared.
 */
public final class Results {
    /**
     * One row's figures: acc[fraction][seed] in [0, 1]; heldOut[seed], the pre-trained student's
     * KD error (MSE to the teacher) on held-out images, or null where it does not apply (the
     * teacher's own rows) or could not be measured (imported representations).
     */
    public record Row(String name, int images, double lr, double[][] acc, double[] heldOut) {
        public double mean(int fraction) {
            return new DescriptiveStatistics(acc[fraction]).getMean();
        }

        /** Sample standard deviation over seeds (0 with one seed). */
        public double std(int fraction) {
            return sampleStd(acc[fraction]);
        }

        public double heldOutMean() {
            return heldOut == null ? Double.NaN : new DescriptiveStatistics(heldOut).getMean();
        }
    }

    static double sampleStd(double[] v) {
        DescriptiveStatistics d = new DescriptiveStatistics(v);
        return d.getN() > 1 ? d.getStandardDeviation() : 0;
    }

    static double populationStd(double[] v) {
        DescriptiveStatistics d = new DescriptiveStatistics(v);
        return d.getN() > 1 ? Math.sqrt(d.getPopulationVariance()) : 0;
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

    /** The row of that name, or null. */
    public Row row(String name) {
        for (Row r : rows) if (r.name().equals(name)) return r;
        return null;
    }

    public double[] fractions() {
        return fractions.clone();
    }

    public long[] seeds() {
        return seeds.clone();
    }

    /** A label fraction as a percentage: 0.01 -> "1%", 0.001 -> "0.1%". */
    public static String pct(double fraction) {
        double p = 100 * fraction;
        return (p == Math.rint(p) ? String.valueOf((long) p) : String.valueOf(p)) + "%";
    }

    /** Markdown: one row per set, its size and pre-training lr, "mean ± std" (percent) per label fraction, then the held-out KD error. */
    public String markdown() {
        StringBuilder sb = new StringBuilder("| pre-training set | images | lr | ");
        for (double f : fractions) sb.append(pct(f)).append(" labels | ");
        sb.append("held-out KD error |\n|---|---|---|");
        for (int i = 0; i < fractions.length; i++) sb.append("---|");
        sb.append("---|\n");
        for (Row r : rows) {
            boolean pretrained = r.images() > 0 && !Double.isNaN(r.lr());
            sb.append("| ").append(r.name()).append(" | ").append(r.images() == 0 ? "-" : String.valueOf(r.images())).append(" | ")
                    .append(pretrained ? String.format("%.4g", r.lr()) : "-").append(" | ");
            for (int i = 0; i < fractions.length; i++) sb.append(String.format("%.2f ± %.2f | ", 100 * r.mean(i), 100 * r.std(i)));
            sb.append(r.heldOut() == null ? "-" : String.format("%.4f ± %.4f", r.heldOutMean(), sampleStd(r.heldOut()))).append(" |\n");
        }
        sb.append(String.format("%nLinear probe test accuracy (%%), mean ± sample std (n - 1) over %d seeds %s. Held-out KD error: the pre-trained "
                + "student's MSE to the teacher's representation on test images that no pre-training set contains (lower: the set transfers "
                + "more of the teacher).%n", seeds.length, java.util.Arrays.toString(seeds)));
        return sb.toString();
    }

    /** The JSON document (results.json). */
    public Map<String, Object> json() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("label_fractions", fractions);
        doc.put("seeds", seeds);
        doc.put("std", "sample (n - 1); std_population: n");
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
                f.put("std_population", populationStd(r.acc()[i]));
                byFraction.put(pct(fractions[i]), f);
            }
            m.put("labels", byFraction);
            if (r.heldOut() != null) {
                m.put("held_out_kd_error_per_seed", r.heldOut());
                m.put("held_out_kd_error_mean", r.heldOutMean());
            }
            sets.add(m);
        }
        doc.put("sets", sets);
        return doc;
    }

    /**
     * The chart: one series per label fraction over the sets, with the row named
     * {@code referenceRow} (e.g. no pre-training; null: none) as each fraction's reference line.
     */
    public byte[] chart(String title, String referenceRow) {
        List<String> names = rows.stream().map(Row::name).toList();
        Map<String, double[][]> series = new LinkedHashMap<>();
        Map<String, Double> reference = new LinkedHashMap<>();
        for (int i = 0; i < fractions.length; i++) {
            double[] mean = new double[rows.size()], std = new double[rows.size()];
            String key = pct(fractions[i]) + " labels";
            for (int j = 0; j < rows.size(); j++) {
                mean[j] = 100 * rows.get(j).mean(i);
                std[j] = 100 * rows.get(j).std(i);
                if (rows.get(j).name().equals(referenceRow)) reference.put(key, mean[j]);
            }
            series.put(key, new double[][] {mean, std});
        }
        return Pictures.resultsChart(title, names, series, reference);
    }
}
