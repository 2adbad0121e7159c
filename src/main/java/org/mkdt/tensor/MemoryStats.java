package org.mkdt.tensor;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The engine's own accounting of live tensor bytes, per backend kind: every storage adds its
 * size when allocated and subtracts it when released (explicitly, by its scope, or by the
 * garbage collector's cleaner for unscoped storage). Peak is the high-water mark since the last
 * {@link #resetPeak()}. Views share storage and are not counted twice.
 *
 * <p>Figures are exact for work done inside {@link Scope}s: storage made outside any scope is
 * subtracted whenever the garbage collector gets to it, which can happen during a measurement.
 * That is why the meta-gradient checks run on a backend instance of their own, inside scopes.
 */
public final class MemoryStats {
    private final AtomicLong live = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();

    void allocated(long bytes) {
        long now = live.addAndGet(bytes);
        peak.accumulateAndGet(now, Math::max);
    }

    void released(long bytes) {
        live.addAndGet(-bytes);
    }

    public long liveBytes() {
        return live.get();
    }

    public long peakBytes() {
        return peak.get();
    }

    /** Starts a new high-water mark at the current live bytes. */
    public void resetPeak() {
        peak.set(live.get());
    }

    /**
     * Starts measuring: resets the high-water mark and returns the live bytes now, to pass to
     * {@link #peakAbove(long)} at the end.
     */
    public long startPeakMeasurement() {
        long now = live.get();
        peak.set(now);
        return now;
    }

    /** The high-water mark since {@link #startPeakMeasurement()}, above what was live then. */
    public long peakAbove(long start) {
        return peak.get() - start;
    }
}
