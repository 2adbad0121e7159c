package org.mkdt.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ShardTest {
    @Test
    void flagSlurmVariablesOrEverything() {
        assertEquals(new Shard(1, 4), Shard.resolve("1/4", Map.of("SLURM_ARRAY_TASK_ID", "3")));
        assertEquals(new Shard(2, 5), Shard.resolve(null, Map.of("SLURM_ARRAY_TASK_ID", "2", "SLURM_ARRAY_TASK_COUNT", "5")));
        assertEquals(new Shard(1, 3), Shard.resolve(null, Map.of("SLURM_ARRAY_TASK_ID", "11", "SLURM_ARRAY_TASK_MIN", "10", "SLURM_ARRAY_TASK_MAX", "12")));
        assertEquals(new Shard(0, 1), Shard.resolve(null, Map.of()));
        Shard s = new Shard(1, 3);
        assertTrue(s.owns(4) && !s.owns(3));
        assertThrows(IllegalArgumentException.class, () -> Shard.parse("2"));
        assertThrows(IllegalArgumentException.class, () -> Shard.parse("a/b"));
    }
}
