package org.mkdt.util;

import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.simple.RandomSource;
import org.junit.jupiter.api.Test;

class SeedsTest {
    @Test
    void zeroPartsStillGiveAWorkingGenerator() {
        UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(Seeds.of(0, 0));
        long a = rng.nextLong(), b = rng.nextLong();
        assertNotEquals(0L, a | b);
        assertNotEquals(Seeds.of(0, 1), Seeds.of(1, 0));
        assertNotEquals(Seeds.of(0, 0), Seeds.of(0, 0, 0));
    }
}
