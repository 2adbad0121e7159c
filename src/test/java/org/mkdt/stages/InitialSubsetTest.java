package org.mkdt.stages;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class InitialSubsetTest {
    @Test
    void balancedTakesEveryClassEquallyThenTheRest() {
        int[] labels = new int[1000];
        for (int i = 0; i < labels.length; i++) labels[i] = (i * 7) % 10; // 100 per class
        int[] idx = InitialSubset.balanced(labels, 10, 15, 3);
        assertEquals(15, Arrays.stream(idx).distinct().count());
        int[] counts = new int[10];
        for (int i : idx) counts[labels[i]]++;
        for (int c : counts) assertEquals(true, c == 1 || c == 2, Arrays.toString(counts)); // one each, 5 classes get a second
        assertArrayEquals(idx, InitialSubset.balanced(labels, 10, 15, 3));
        int[] hundred = InitialSubset.balanced(labels, 10, 100, 4);
        int[] c100 = new int[10];
        for (int i : hundred) c100[labels[i]]++;
        for (int c : c100) assertEquals(10, c);
    }

    @Test
    void balancedFillsFromOtherClassesWhereOneIsShort() {
        int[] labels = {0, 1, 1, 1, 1, 1};
        int[] idx = InitialSubset.balanced(labels, 2, 4, 1);
        assertEquals(4, Arrays.stream(idx).distinct().count());
        assertEquals(1, Arrays.stream(idx).filter(i -> labels[i] == 0).count());
        assertThrows(IllegalArgumentException.class, () -> InitialSubset.balanced(labels, 2, 7, 1));
        assertThrows(IllegalArgumentException.class, () -> InitialSubset.balanced(new int[] {0, 5}, 2, 1, 1));
    }
}
