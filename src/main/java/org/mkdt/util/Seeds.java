package org.mkdt.util;

/**
 * One 64-bit seed from several parts (base seed, expert index, a stream tag), mixed with
 * SplitMix64's finaliser so nearby inputs give unrelated seeds. Generators are then made with
 * RandomSource.create(long), which expands a long into a full state. (Passing the parts as a
 * long[] seed instead would use them as the state itself: base seed 0 and index 0 is the all-zero
 * state, from which xoroshiro128++ produces only zeros.)
 */
public final class Seeds {
    private Seeds() {}

    public static long of(long... parts) {
        long h = 0x9E3779B97F4A7C15L;
        for (long p : parts) h = mix(h ^ mix(p + 0x9E3779B97F4A7C15L));
        return h;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
