package org.mkdt.util;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/** Facts about the running JVM that a run records beside its results (environment.json, {@code mkdt info}). */
public final class Jvm {
    private Jvm() {}

    /**
     * The garbage collector in use, by its collectors' names ("PS Scavenge + PS MarkSweep" for
     * the parallel collector that {@code ./mkdt} selects, "G1 Young Generation + ..." for G1):
     * speed and peak memory depend on it, so a figure should say which one it ran under.
     */
    public static String collector() {
        List<String> names = new ArrayList<>();
        for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) names.add(b.getName());
        return names.isEmpty() ? "unknown" : String.join(" + ", names);
    }
}
