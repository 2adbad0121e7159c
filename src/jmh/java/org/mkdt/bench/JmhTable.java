package org.mkdt.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.util.Iterator;
import java.util.Map;

/**
 * Prints a JMH JSON result file (-rf json) as a short table: benchmark, parameters, time per
 * operation, and the GFLOP/s or GB/s that {@link Rate} counted. Used by scripts/gpu-check.sh.
 */
public final class JmhTable {
    private JmhTable() {}

    /** A counter's rate: AverageTime reports it as time per unit, e.g. 0.04 ms per GFLOP. */
    static double perSecond(JsonNode metric) {
        if (metric == null) return 0;
        double score = metric.get("score").asDouble();
        if (!(score > 0) || Double.isInfinite(score)) return 0;
        String unit = metric.get("scoreUnit").asText();
        double seconds = switch (unit.substring(0, unit.indexOf('/'))) {
            case "s" -> 1;
            case "ms" -> 1e-3;
            case "us" -> 1e-6;
            case "ns" -> 1e-9;
            default -> Double.NaN;
        };
        return 1 / (score * seconds);
    }

    public static void main(String[] args) throws Exception {
        JsonNode root = new ObjectMapper().readTree(new File(args[0]));
        System.out.printf("%-44s %-26s %14s %12s%n", "benchmark", "params", "time/op", "rate");
        for (JsonNode r : root) {
            String name = r.get("benchmark").asText();
            name = name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1);
            StringBuilder params = new StringBuilder();
            if (r.has("params")) {
                for (Iterator<Map.Entry<String, JsonNode>> it = r.get("params").fields(); it.hasNext();) {
                    Map.Entry<String, JsonNode> p = it.next();
                    if (params.length() > 0) params.append(' ');
                    params.append(p.getValue().asText());
                }
            }
            JsonNode pm = r.get("primaryMetric");
            String time = String.format("%.3f %s", pm.get("score").asDouble(), pm.get("scoreUnit").asText());
            String rate = "";
            JsonNode sec = r.get("secondaryMetrics");
            if (sec != null) {
                for (String[] c : new String[][] {{"gflop", "GFLOP/s"}, {"gbytes", "GB/s"}, {"images", "images/s"}}) {
                    double perSecond = perSecond(sec.get(c[0]));
                    if (perSecond > 0) rate = String.format("%.0f %s", perSecond, c[1]);
                }
            }
            System.out.printf("%-44s %-26s %14s %12s%n", name, params, time, rate);
        }
    }
}
