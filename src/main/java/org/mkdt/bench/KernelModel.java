package org.mkdt.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mkdt.backend.cuda.KernelProfile;

/**
 * A modelled GPU time from the kernel profile's counts, for where no GPU is at hand (the CUDA
 * emulator's dry run counts every launch's FLOPs and bytes exactly, computes nothing and times
 * nothing). Each launch takes the longest of its arithmetic at the card's rate, its bytes at the
 * card's bandwidth and a floor per launch; each memset its bytes at the bandwidth and the floor.
 * A model, not a measurement: it knows nothing of occupancy, tile waste, caches or overlap.
 */
public final class KernelModel {
    /**
     * A card's limits and the fractions of them the kernels are assumed to reach. The H200 has
     * the H100's GH100 SMs and clocks (66.9 TFLOP/s FP32 FMA, 494.7 TFLOP/s dense TF32 on the
     * tensor cores) with 4.8 TB/s instead of 3.35. Kernels named *_tf32 run their FLOPs at the
     * tensor rate, *_3xtf32 three times their FLOPs there (three MMAs per product); every other
     * kernel at the FP32 rate. The same compute share applies to both: an assumption for the
     * tensor-core kernels, which no GPU has timed yet.
     */
    public record Card(String name, double flopsPerSecond, double tensorFlopsPerSecond, double bytesPerSecond, double computeShare, double memoryShare,
                       double launchSeconds) {}

    /** The physical floor: every kernel at its unit's peak or the full bandwidth, launches free. */
    public static final Card H200_ROOFLINE = new Card("H200 roofline (66.9 TFLOP/s FP32, 494.7 TF32, 4.8 TB/s, launches free)", 66.9e12, 494.7e12, 4.8e12, 1, 1, 0);

    /**
     * The rates this project's kernels reached on an H100 (BENCHMARKS.md, 2026-11-26): the
     * 128-channel convolutions at 21-25 TFLOP/s (36% of the FP32 peak), the memory-bound kernels
     * at 2.4-2.7 TB/s (75% of its bandwidth); 3 us per launch at least (a small kernel's time on
     * a Hopper GPU, from launch to completion, back to back). Carried over to the H200's limits.
     */
    public static final Card H200_AT_H100_RATES = new Card("H200 at the H100's measured rates (36% of FP32 peak, 75% of bandwidth, >= 3 us per launch)",
            66.9e12, 494.7e12, 4.8e12, 0.36, 0.75, 3e-6);

    /** Seconds of {@code flops} for kernel {@code name} at the card's rate for the unit it runs on. */
    static double arithmeticSeconds(String name, double flops, Card c) {
        if (name.endsWith("_3xtf32")) return 3 * flops / (c.tensorFlopsPerSecond() * c.computeShare());
        if (name.endsWith("_tf32")) return flops / (c.tensorFlopsPerSecond() * c.computeShare());
        return flops / (c.flopsPerSecond() * c.computeShare());
    }

    public static final List<Card> CARDS = List.of(H200_ROOFLINE, H200_AT_H100_RATES);

    private KernelModel() {}

    /** Modelled seconds of a row's launches (its calls taken as alike: one kernel at one grid). */
    public static double seconds(KernelProfile.Row r, Card c) {
        if (r.calls() == 0) return 0;
        double flops = (double) r.flops() / r.calls(), bytes = (double) r.bytes() / r.calls();
        double each = Math.max(c.launchSeconds(), Math.max(arithmeticSeconds(r.kernel(), flops, c), bytes / (c.bytesPerSecond() * c.memoryShare())));
        return each * r.calls();
    }

    /** Modelled seconds of the snapshot: every launch and memset. */
    public static double seconds(KernelProfile.Snapshot s, Card c) {
        double t = s.memsets() * c.launchSeconds() + s.memsetBytes() / (c.bytesPerSecond() * c.memoryShare());
        for (KernelProfile.Row r : s.rows()) t += seconds(r, c);
        return t;
    }

    /** The profile as JSON-ready maps, every figure divided by {@code per} (iterations or steps), rows by modelled time. */
    public static Map<String, Object> json(KernelProfile.Snapshot s, long per) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("counted_over", per);
        m.put("timed_by_events", s.timed());
        m.put("launches", (double) s.launches() / per);
        m.put("memsets", (double) s.memsets() / per);
        m.put("memset_bytes", (double) s.memsetBytes() / per);
        long flops = 0, bytes = 0;
        double measured = 0;
        for (KernelProfile.Row r : s.rows()) {
            flops += r.flops();
            bytes += r.bytes();
            measured += r.seconds();
        }
        m.put("flops", (double) flops / per);
        m.put("bytes", (double) bytes / per);
        if (s.timed()) m.put("measured_kernel_seconds", measured / per);
        Map<String, Object> model = new LinkedHashMap<>();
        for (Card c : CARDS) model.put(c.name(), seconds(s, c) / per);
        m.put("model_seconds", model);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (KernelProfile.Row r : byModel(s)) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("kernel", r.kernel());
            row.put("grid", r.grid());
            row.put("calls", (double) r.calls() / per);
            row.put("flops", (double) r.flops() / per);
            row.put("bytes", (double) r.bytes() / per);
            if (s.timed()) row.put("measured_seconds", r.seconds() / per);
            row.put("model_seconds", seconds(r, H200_AT_H100_RATES) / per);
            rows.add(row);
        }
        m.put("rows", rows);
        return m;
    }

    /** A text table of the {@code top} rows by modelled time, per {@code per}, and the totals. */
    public static List<String> table(KernelProfile.Snapshot s, long per, int top) {
        List<String> out = new ArrayList<>();
        Card c = H200_AT_H100_RATES;
        out.add(String.format("kernel profile, per %s (%d counted)%s; model: %s", per == 1 ? "run" : "iteration or step", per,
                s.timed() ? ", event-timed" : ", not timed (MKDT_CUDA_PROFILE=1 times each launch)", c.name()));
        out.add(String.format("  %-28s %-14s %9s %10s %10s %10s%s", "kernel", "grid", "calls", "GFLOP", "MB", "model ms", s.timed() ? "   measured ms" : ""));
        List<KernelProfile.Row> rows = byModel(s);
        for (int i = 0; i < Math.min(top, rows.size()); i++) {
            KernelProfile.Row r = rows.get(i);
            out.add(String.format("  %-28s %-14s %9.1f %10.2f %10.1f %10.3f%s", r.kernel(), r.grid(), (double) r.calls() / per, r.flops() / 1e9 / per,
                    r.bytes() / 1e6 / per, seconds(r, c) * 1e3 / per, s.timed() ? String.format(" %14.3f", r.seconds() * 1e3 / per) : ""));
        }
        if (rows.size() > top) out.add(String.format("  ... %d more kernel-grid pairs", rows.size() - top));
        out.add(String.format("  memsets: %.1f (%.1f MB)", (double) s.memsets() / per, s.memsetBytes() / 1e6 / per));
        for (Card card : CARDS) out.add(String.format("  modelled total: %.4f s (%s)", seconds(s, card) / per, card.name()));
        return out;
    }

    private static List<KernelProfile.Row> byModel(KernelProfile.Snapshot s) {
        List<KernelProfile.Row> rows = new ArrayList<>(s.rows());
        rows.sort(Comparator.comparingDouble((KernelProfile.Row r) -> -seconds(r, H200_AT_H100_RATES)));
        return rows;
    }
}
