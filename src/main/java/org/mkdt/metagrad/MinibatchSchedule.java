package org.mkdt.metagrad;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.sampling.PermutationSampler;
import org.apache.commons.rng.simple.RandomSource;

/**
 * Which synthetic images each unrolled step sees: consecutive chunks of {@code batch} indices
 * of a seeded random permutation, a fresh permutation when one runs out (its last chunk may be
 * shorter), as the reference implementation does. Fixed before a sweep, so the forward and the
 * reverse sweep see the same minibatches.
 */
public final class MinibatchSchedule {
    private final int[][] batches;

    private MinibatchSchedule(int[][] batches) {
        this.batches = batches;
    }

    public static MinibatchSchedule random(int images, int batch, int steps, long seed) {
        if (images < 1) throw new IllegalArgumentException("minibatch schedule: need at least one image, got " + images);
        if (batch < 1) throw new IllegalArgumentException("minibatch schedule: batch must be positive, got " + batch);
        if (steps < 1) throw new IllegalArgumentException("minibatch schedule: steps must be positive, got " + steps);
        UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(seed);
        List<int[]> out = new ArrayList<>(steps);
        int[] perm = new int[0];
        int pos = 0;
        while (out.size() < steps) {
            if (pos >= perm.length) {
                perm = PermutationSampler.natural(images);
                PermutationSampler.shuffle(rng, perm);
                pos = 0;
            }
            int end = Math.min(perm.length, pos + batch);
            out.add(Arrays.copyOfRange(perm, pos, end));
            pos = end;
        }
        return new MinibatchSchedule(out.toArray(new int[0][]));
    }

    public int steps() {
        return batches.length;
    }

    /** Indices of the images of step k (a copy). */
    public int[] batch(int k) {
        return batches[k].clone();
    }
}
