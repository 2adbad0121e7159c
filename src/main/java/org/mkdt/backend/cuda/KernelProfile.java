package org.mkdt.backend.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;

/**
 * Where the device's time goes, per kernel and grid: every launch is counted with the FLOPs and
 * the bytes its caller says it does ({@link Cost}); memsets are counted apart. With
 * MKDT_CUDA_PROFILE=1 each launch is also bracketed by a pair of CUDA events, so a GPU run
 * measures each kernel's own time (the events serialise nothing, but they cost a driver call
 * each: a profiled run is slower on the host). Without a GPU (the emulator's dry run) the counts
 * alone feed a modelled time ({@code org.mkdt.bench.KernelModel}).
 *
 * <p>The counts are what a launch asks for, not what the hardware moved: bytes are each operand
 * read once and each output written once (a lower bound on DRAM traffic; caches make re-reads
 * cheap, and im2col's 9x re-read of its input is counted once).
 */
public final class KernelProfile {
    /** Whether launches are timed by events (MKDT_CUDA_PROFILE=1). */
    static final boolean TIMED = "1".equals(System.getenv("MKDT_CUDA_PROFILE"));
    /** Timed launches awaiting their events' read-back: bounded, so a long run holds few events. */
    private static final int PENDING_MAX = 4096;

    /** What one launch computes and moves: floating-point operations (an FMA is 2) and bytes of DRAM traffic. */
    record Cost(long flops, long bytes) {
        /** A launch that reads and writes {@code floats} float32 values in all, doing {@code flops}. */
        static Cost floats(long flops, long floats) {
            return new Cost(flops, floats * Float.BYTES);
        }
    }

    /** One kernel at one grid: launches, their total FLOPs and bytes, and their event-timed seconds (0 when untimed). */
    public record Row(String kernel, String grid, long calls, long flops, long bytes, double seconds) {}

    /** A snapshot: rows in first-launch order, memsets (count, bytes), and whether the seconds are measured. */
    public record Snapshot(List<Row> rows, long memsets, long memsetBytes, boolean timed) {
        public long launches() {
            long n = 0;
            for (Row r : rows) n += r.calls();
            return n;
        }
    }

    /** A kernel at a grid: the profile's row key (built per launch, so no strings are made on that path). */
    private record Key(String kernel, int gx, int gy, int gz) {}

    private static final class Stat {
        final Key key;
        long calls, flops, bytes;
        double seconds;

        Stat(Key key) {
            this.key = key;
        }
    }

    private record Pending(Stat stat, CUevent start, CUevent end) {}

    private final boolean timed;
    private final Map<Key, Stat> stats = new HashMap<>();
    private final List<Stat> order = new ArrayList<>();
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private final ArrayDeque<CUevent> spare = new ArrayDeque<>();
    private long memsets, memsetBytes;

    /** Timed by events where MKDT_CUDA_PROFILE=1. */
    KernelProfile() {
        this(TIMED);
    }

    KernelProfile(boolean timed) {
        this.timed = timed;
    }

    /** Before a launch: when timed, a start event recorded on {@code stream} (else null). */
    synchronized CUevent before(CUstream stream) {
        if (!timed) return null;
        CUevent start = event();
        cuEventRecord(start, stream);
        return start;
    }

    /** Counts a launch made after {@link #before}; records its end event when timed. */
    synchronized void after(String kernel, int gx, int gy, int gz, Cost cost, CUevent start, CUstream stream) {
        Stat s = stats.computeIfAbsent(new Key(kernel, gx, gy, gz), k -> {
            Stat made = new Stat(k);
            order.add(made);
            return made;
        });
        s.calls++;
        if (cost != null) {
            s.flops += cost.flops();
            s.bytes += cost.bytes();
        }
        if (start != null) {
            CUevent end = event();
            cuEventRecord(end, stream);
            pending.add(new Pending(s, start, end));
            if (pending.size() >= PENDING_MAX) resolve();
        }
    }

    synchronized void memset(long bytes) {
        memsets++;
        memsetBytes += bytes;
    }

    /** The counts since the last {@link #reset} (waits for the timed launches' events). */
    synchronized Snapshot snapshot() {
        resolve();
        List<Row> rows = new ArrayList<>();
        for (Stat s : order) rows.add(new Row(s.key.kernel(), s.key.gx() + "x" + s.key.gy() + "x" + s.key.gz(), s.calls, s.flops, s.bytes, s.seconds));
        return new Snapshot(rows, memsets, memsetBytes, timed);
    }

    synchronized void reset() {
        resolve();
        stats.clear();
        order.clear();
        memsets = 0;
        memsetBytes = 0;
    }

    /** Reads back every pending event pair into its kernel's seconds and keeps the events for reuse. */
    private void resolve() {
        float[] ms = new float[1];
        for (Pending p : pending) {
            cuEventSynchronize(p.end());
            cuEventElapsedTime(ms, p.start(), p.end());
            p.stat().seconds += ms[0] / 1e3;
            spare.add(p.start());
            spare.add(p.end());
        }
        pending.clear();
    }

    private CUevent event() {
        CUevent e = spare.poll();
        if (e != null) return e;
        e = new CUevent();
        cuEventCreate(e, CUevent_flags.CU_EVENT_DEFAULT);
        return e;
    }
}
