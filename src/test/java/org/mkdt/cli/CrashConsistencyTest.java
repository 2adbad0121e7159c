package org.mkdt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mkdt.data.Artefacts;
import org.mkdt.io.NdArray;
import org.mkdt.io.Npy;
import org.mkdt.testing.Close;
import org.mkdt.testing.TinyData;

/**
 * Crash consistency: a distillation and an expert run are killed with SIGKILL at seeded random
 * moments of their work (iterations and atomic writes), each time continued the way the
 * pipeline does (--resume where a checkpoint exists), and must end in the bytes of an
 * uninterrupted run, with no iteration logged twice and no temporary file left. The killed
 * processes run with one thread, the uninterrupted ones with all: the bytes must not care.
 */
class CrashConsistencyTest {
    private static final int KILLS = 10, ITERATIONS = 8;

    @TempDir
    Path dir;

    private List<String> args(Path runs, Path data, Path reps, String command, String... extra) {
        List<String> a = new ArrayList<>(DistillEvalCommandTest.args(command, runs, data, reps, "--set", "distill.iterations=" + ITERATIONS,
                "--set", "distill.checkpointEvery=1", "--set", "distill.lrLr=1e-9"));
        a.addAll(List.of(extra));
        return a;
    }

    /** A separate JVM running the CLI with one thread, standard error folded into standard output. */
    private static Process start(List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--add-modules=jdk.incubator.vector",
                "-Xmx1g", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("MKDT_THREADS", "1");
        return pb.start();
    }

    /**
     * Starts the command KILLS times and kills each (SIGKILL) at a seeded random moment of its
     * work: after a random number of its progress lines (those containing a marker: the start of
     * the work, each finished iteration or expert), at most the number still to come, and then a
     * random 0-25 ms, which lands inside iterations and atomic writes alike (a tiny expert now
     * trains in under 80 ms, so the earlier 0-80 ms mostly missed the work). A JVM's start-up is too slow and too variable for
     * wall-clock moments to reach the work at all. Returns how many were killed while running.
     */
    private static int killRepeatedly(java.util.function.Supplier<List<String>> args, long seed, java.util.function.IntSupplier eventsLeft, String... markers)
            throws Exception {
        SplittableRandom rng = new SplittableRandom(seed);
        int killed = 0;
        for (int k = 0; k < KILLS; k++) {
            int events = eventsLeft.getAsInt();
            if (events < 1) break; // nothing left to interrupt
            int target = rng.nextInt(1, events + 1), delay = rng.nextInt(0, 25);
            Process p = start(args.get());
            try (java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), java.nio.charset.StandardCharsets.UTF_8))) {
                int seen = 0;
                for (String line = out.readLine(); line != null && seen < target; line = out.readLine()) {
                    for (String m : markers) {
                        if (line.contains(m)) {
                            seen++;
                            break;
                        }
                    }
                }
                if (seen == target) {
                    Thread.sleep(delay);
                    p.destroyForcibly();
                }
                assertTrue(p.waitFor(60, TimeUnit.SECONDS), "a killed process ends");
            }
            if (p.exitValue() == 137) killed++;
        }
        return killed;
    }

    /** Finished expert files in dir (none while it does not exist). */
    private static int count(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return (int) s.filter(f -> f.getFileName().toString().matches("expert_\\d{3}\\.safetensors")).count();
        } catch (java.io.IOException none) {
            return 0;
        }
    }

    private static void noTemporaries(Path run) throws Exception {
        try (Stream<Path> s = Files.walk(run)) {
            List<Path> tmp = s.filter(f -> f.getFileName().toString().endsWith(".tmp")).toList();
            assertEquals(List.of(), tmp, "temporary files left behind");
        }
    }

    @Test
    void killedRunsContinueToTheBytesOfUninterruptedOnes() throws Exception {
        Path data = TinyData.imageFolder(dir.resolve("data")), reps = dir.resolve("reps.npy");
        Npy.write(reps, NdArray.of(Close.uniform(9, 24 * 6), 24, 6));
        Path straight = dir.resolve("straight"), killed = dir.resolve("killed");
        for (String stage : List.of("teacher", "experts", "init", "distill")) StagesCommandTest.ok(CliRun.of(args(straight, data, reps, stage).toArray(String[]::new)));

        // Experts: killed while training, then finished; the files equal the uninterrupted ones.
        StagesCommandTest.ok(CliRun.of(args(killed, data, reps, "teacher").toArray(String[]::new)));
        Path experts = killed.resolve("tiny/experts");
        int hit = killRepeatedly(() -> args(killed, data, reps, "experts"), 7, () -> 1 + 3 - count(experts), "backend:", ": trained");
        StagesCommandTest.ok(CliRun.of(args(killed, data, reps, "experts").toArray(String[]::new)));
        for (int i = 0; i < 3; i++) {
            String f = String.format("tiny/experts/expert_%03d.safetensors", i);
            assertArrayEquals(Files.readAllBytes(straight.resolve(f)), Files.readAllBytes(killed.resolve(f)), f);
        }

        // Distillation: killed at random moments, each time continued as the pipeline does.
        StagesCommandTest.ok(CliRun.of(args(killed, data, reps, "init").toArray(String[]::new)));
        Path checkpoint = killed.resolve("tiny/distill/checkpoint.safetensors");
        java.util.function.Supplier<List<String>> distill = () -> Files.exists(checkpoint) ? args(killed, data, reps, "distill", "--resume")
                : args(killed, data, reps, "distill");
        hit += killRepeatedly(distill, 11, () -> Files.exists(checkpoint) ? ITERATIONS - Artefacts.readCheckpoint(checkpoint).iteration() : 1 + ITERATIONS,
                "expert trajectories", "checkpoint written");
        assertTrue(hit >= 6, "only " + hit + " processes were killed while running: too few to test anything");
        StagesCommandTest.ok(CliRun.of(distill.get().toArray(String[]::new)));
        for (String f : List.of("tiny/distilled.safetensors", "tiny/distill/checkpoint.safetensors")) {
            assertArrayEquals(Files.readAllBytes(straight.resolve(f)), Files.readAllBytes(killed.resolve(f)), f);
        }
        List<String> metrics = Files.readAllLines(killed.resolve("tiny/metrics.jsonl"));
        for (int i = 1; i <= ITERATIONS; i++) {
            String it = "\"iteration\":" + i + ",";
            assertEquals(1, metrics.stream().filter(l -> l.contains("\"stage\":\"distill\"") && l.contains(it)).count(), "iteration " + i + " logged once");
        }
        noTemporaries(killed.resolve("tiny"));
    }
}
