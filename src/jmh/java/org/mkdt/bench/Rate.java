package org.mkdt.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Work counters JMH turns into rates: a benchmark adds the GFLOP (or GB) one invocation does,
 * and JMH reports them next to the time per operation. In AverageTime mode JMH prints a counter
 * as time per unit (ms per GFLOP); {@link JmhTable} turns that into GFLOP/s, GB/s or images/s.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class Rate {
    /** Billions of floating-point operations done (reported per second: GFLOP/s). */
    public double gflop;
    /** Gigabytes read plus written (reported per second: GB/s). */
    public double gbytes;
    /** Training images processed (reported per second: images/s). */
    public double images;

    @Setup(Level.Iteration)
    public void clear() {
        gflop = 0;
        gbytes = 0;
        images = 0;
    }
}
