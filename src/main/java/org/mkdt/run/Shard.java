package org.mkdt.run;

import java.util.Map;

/**
 * Which experts this process makes: those e with e mod count == index. From --shard i/n, or, with
 * no flag, from Slurm's job-array variables (SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_COUNT, or
 * with SLURM_ARRAY_TASK_MIN/MAX), else everything (0/1).
 */
public record Shard(int index, int count) {
    public Shard {
        if (count < 1 || index < 0 || index >= count) throw new IllegalArgumentException("--shard: need 0 <= i < n, got " + index + "/" + count);
    }

    public boolean owns(int expert) {
        return expert % count == index;
    }

    /** Parses "i/n". */
    public static Shard parse(String text) {
        if (text.matches("[0-9]{1,9}/[0-9]{1,9}")) {
            String[] p = text.split("/");
            return new Shard(Integer.parseInt(p[0]), Integer.parseInt(p[1]));
        }
        throw new IllegalArgumentException("--shard: expected i/n (e.g. 0/4), got '" + text + "'");
    }

    /** The flag if given, else the Slurm array task, else 0/1. */
    public static Shard resolve(String flag, Map<String, String> env) {
        if (flag != null) return parse(flag);
        String id = env.get("SLURM_ARRAY_TASK_ID");
        if (id == null) return new Shard(0, 1);
        try {
            int task = Integer.parseInt(id);
            String count = env.get("SLURM_ARRAY_TASK_COUNT");
            if (count != null) {
                int min = Integer.parseInt(env.getOrDefault("SLURM_ARRAY_TASK_MIN", "0"));
                return new Shard(task - min, Integer.parseInt(count));
            }
            int min = Integer.parseInt(env.getOrDefault("SLURM_ARRAY_TASK_MIN", "0"));
            int max = Integer.parseInt(env.getOrDefault("SLURM_ARRAY_TASK_MAX", id));
            return new Shard(task - min, max - min + 1);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Slurm array variables are not integers: SLURM_ARRAY_TASK_ID=" + id);
        }
    }
}
