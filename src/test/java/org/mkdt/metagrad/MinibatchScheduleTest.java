package org.mkdt.metagrad;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class MinibatchScheduleTest {
    @Test
    void chunksOfFreshPermutationsWithAShortLastChunk() {
        MinibatchSchedule s = MinibatchSchedule.random(10, 4, 7, 3);
        int[] sizes = new int[7];
        for (int k = 0; k < 7; k++) sizes[k] = s.batch(k).length;
        assertArrayEquals(new int[] {4, 4, 2, 4, 4, 2, 4}, sizes);
        for (int p = 0; p < 2; p++) { // each permutation covers every image once
            int[] all = new int[10];
            int pos = 0;
            for (int k = 3 * p; k < 3 * p + 3; k++) for (int i : s.batch(k)) all[pos++] = i;
            Arrays.sort(all);
            assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, all);
        }
    }

    @Test
    void sameSeedSameOrder() {
        MinibatchSchedule a = MinibatchSchedule.random(50, 8, 12, 9), b = MinibatchSchedule.random(50, 8, 12, 9);
        for (int k = 0; k < 12; k++) assertArrayEquals(a.batch(k), b.batch(k));
        assertEquals(12, a.steps());
    }

    @Test
    void badArgumentsAreNamed() {
        assertThrows(IllegalArgumentException.class, () -> MinibatchSchedule.random(0, 4, 3, 1));
        assertThrows(IllegalArgumentException.class, () -> MinibatchSchedule.random(10, 0, 3, 1));
        assertThrows(IllegalArgumentException.class, () -> MinibatchSchedule.random(10, 4, 0, 1));
    }
}
