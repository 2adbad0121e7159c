package org.mkdt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mkdt.backend.cpu.CpuThreads;
import org.mkdt.config.ConfigLoader;
import org.mkdt.data.Artefacts;
import org.mkdt.io.NdArray;
import org.mkdt.io.Npy;
import org.mkdt.io.SafeTensors;
import org.mkdt.run.RunDir;
import org.mkdt.testing.Close;
import org.mkdt.testing.TinyData;

/**
 * Run integrity (issue: every artefact knows what made it, nothing lands outside its run, a
 * stopped run can always be continued): each case gives its one-line error, exits non-zero and
 * leaves the run as it was, or works as described. Tiny runs, seconds each.
 */
class RunIntegrityTest {
    @TempDir
    Path dir;
    private Path data, reps, runs;

    @BeforeEach
    void setUp() throws Exception {
        data = TinyData.imageFolder(dir.resolve("data"));
        reps = dir.resolve("reps.npy");
        Npy.write(reps, NdArray.of(Close.uniform(9, 24 * 6), 24, 6));
        runs = dir.resolve("runs");
    }

    private List<String> args(String command, String... extra) {
        return DistillEvalCommandTest.args(command, runs, data, reps, extra);
    }

    private static CliRun run(List<String> a) {
        return CliRun.of(a.toArray(String[]::new));
    }

    private Path tiny() {
        return runs.resolve("tiny");
    }

    private void prepare() {
        for (String stage : List.of("teacher", "experts", "init")) StagesCommandTest.ok(run(args(stage)));
    }

    /** Exit code 1 or 2 and exactly one line on stderr containing every fragment. */
    private static void refused(CliRun r, String... fragments) {
        assertNotEquals(0, r.code(), r.out());
        String err = r.err().strip();
        assertFalse(err.contains("\n") && !err.startsWith("mkdt: error: Invalid") && !err.startsWith("mkdt: error: Unknown"), "one line: " + err);
        for (String f : fragments) assertTrue(err.contains(f), "'" + f + "' in: " + err);
    }

    @Test
    void aRunNameNeverLeavesTheRunsFolder() throws Exception {
        for (String name : List.of("..", ".", ".hidden")) {
            CliRun r = CliRun.of("teacher", "--runs-dir", runs.toString(), "--set", "name=" + name, "--set", "data.dataset=" + data, "--import", reps.toString());
            refused(r, "config: name:");
        }
        assertFalse(Files.exists(runs), "nothing written");
        try (var s = Files.list(dir)) {
            assertEquals(List.of("data", "reps.npy"), s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        RunDir.of(runs, ConfigLoader.load("demo", null, List.of("name=a.b"))); // dots inside a name are fine
    }

    @Test
    void aRefusedOrFailingCommandWritesNothing() throws Exception {
        refused(run(args("teacher", "--set", "data.dataset=" + dir.resolve("nowhere"))), "nowhere");
        assertFalse(Files.exists(tiny()), "a failing command leaves no run folder");
        prepare();
        StagesCommandTest.ok(run(args("distill", "--stop-after", "1")));
        byte[] config = Files.readAllBytes(tiny().resolve("config.json")), cp = Files.readAllBytes(tiny().resolve("distill/checkpoint.safetensors"));
        CliRun r = run(args("distill", "--resume", "--set", "distill.synSteps=2"));
        refused(r, "checkpoint.safetensors", "distill.synSteps is 3 there, 2 now");
        assertArrayEquals(config, Files.readAllBytes(tiny().resolve("config.json")), "config.json untouched by a refused resume");
        assertArrayEquals(cp, Files.readAllBytes(tiny().resolve("distill/checkpoint.safetensors")));
        assertEquals(1, Files.readAllLines(tiny().resolve("config.history.jsonl")).size(), "one version: teacher, experts, init and distill ran under one configuration");
    }

    @Test
    void distillationRefusesAPartialOrForeignExpertSetAndAResumeOnAChangedOne() throws Exception {
        prepare();
        Path e0 = tiny().resolve("experts/expert_000.safetensors"), saved = dir.resolve("expert_000");
        Files.move(e0, saved);
        refused(run(args("distill", "--stop-after", "1")), "2 of experts.count = 3 experts present (missing [0])", "--experts-available");
        assertFalse(Files.exists(tiny().resolve("distill")));
        CliRun partial = run(args("distill", "--stop-after", "1", "--experts-available"));
        StagesCommandTest.ok(partial);
        assertTrue(partial.out().contains("2 of experts.count = 3"), partial.out());
        Files.move(saved, e0);
        refused(run(args("distill", "--resume")), "checkpoint.safetensors: made from the experts [1:", "--resume needs the same expert set");

        // An expert whose recorded configuration hash was edited is refused, naming the file.
        SafeTensors.Contents c = SafeTensors.read(e0);
        Map<String, String> meta = new LinkedHashMap<>(c.metadata());
        meta.put("config_sha256", "deadbeef");
        meta.remove(SafeTensors.CHECKSUM_KEY);
        SafeTensors.write(e0, c.tensors(), meta);
        refused(run(args("init")), "expert_000.safetensors: made with different settings");

        // A flipped bit in the tensor data fails the checksum.
        SafeTensors.write(e0, c.tensors(), c.metadata());
        byte[] bytes = Files.readAllBytes(e0);
        bytes[bytes.length - 3] ^= 1;
        Files.write(e0, bytes);
        refused(run(args("init")), "expert_000.safetensors: tensor data fails its SHA-256 check");
    }

    @Test
    void aResumeMayChangeTheContinuableKeysAndRecordsEachChange() throws Exception {
        prepare();
        StagesCommandTest.ok(run(args("distill", "--stop-after", "2")));
        // A killed run would have logged iteration 3 past its checkpoint: the resume drops it.
        Files.writeString(tiny().resolve("metrics.jsonl"), "{\"stage\":\"distill\",\"iteration\":3,\"loss\":1}\n", java.nio.file.StandardOpenOption.APPEND);
        CliRun r = run(args("distill", "--resume", "--set", "distill.lrLr=1e-7", "--set", "distill.iterations=5"));
        StagesCommandTest.ok(r);
        List<String> history = Files.readAllLines(tiny().resolve("config.history.jsonl"));
        assertEquals(2, history.size(), "the changed configuration is a second version");
        assertTrue(history.get(1).contains("\"lrLr\":1.0E-7") && history.get(0).contains("\"lrLr\":1.0E-6"), String.join("\n", history));
        assertTrue(r.out().contains("from iteration 3 on, distill.lrLr = 1.0E-7 (was 1.0E-6)"), r.out());
        Artefacts.Checkpoint cp = Artefacts.readCheckpoint(tiny().resolve("distill/checkpoint.safetensors"));
        assertEquals(5, cp.iteration());
        assertTrue(cp.metadata().get("changes").contains("\"key\":\"distill.lrLr\""), cp.metadata().get("changes"));
        List<String> metrics = Files.readAllLines(tiny().resolve("metrics.jsonl"));
        assertEquals(1, metrics.stream().filter(l -> l.contains("distill_change") && l.contains("lrLr")).count());
        for (int i = 1; i <= 5; i++) {
            String it = "\"iteration\":" + i + ",";
            assertEquals(1, metrics.stream().filter(l -> l.contains("\"stage\":\"distill\"") && l.contains(it)).count(), "iteration " + i + " logged once");
        }
        Artefacts.DistilledSet set = Artefacts.readDistilledSet(tiny().resolve("distilled.safetensors"));
        assertEquals("5", set.metadata().get(Artefacts.ITERATION_KEY));
        assertEquals("true", set.metadata().get(Artefacts.FINISHED_KEY));

        // A distill key never retrains an expert.
        CliRun experts = run(args("experts", "--set", "distill.lrLr=1e-7"));
        StagesCommandTest.ok(experts);
        assertTrue(experts.out().contains("0 trained, 3 kept"), experts.out());
    }

    @Test
    void evalTakesAnUnfinishedDistilledSetOnlyWhenTold() throws Exception {
        prepare();
        StagesCommandTest.ok(run(args("distill", "--stop-after", "1")));
        assertEquals("false", Artefacts.readDistilledSet(tiny().resolve("distilled.safetensors")).metadata().get(Artefacts.FINISHED_KEY));
        refused(run(args("eval", "--rows", "distilled", "--seeds", "1", "--epochs", "1", "--labels", "1")), "an unfinished distillation (iteration 1 of 4)",
                "--allow-unfinished");
        CliRun e = run(args("eval", "--rows", "distilled", "--seeds", "1", "--epochs", "1", "--labels", "1", "--allow-unfinished"));
        StagesCommandTest.ok(e);
        assertTrue(Files.readString(tiny().resolve("eval/results.md")).contains("intermediate (iteration 1 of 4, unfinished)"));
    }

    @Test
    void aSecondProcessOnTheSameRunIsRefusedByItsLock() throws Exception {
        prepare();
        RunDir held = RunDir.of(runs, ConfigLoader.load("demo", null, List.of("name=tiny")));
        try {
            held.begin("test", "cpu", false);
            refused(run(args("init")), "tiny/lock: another mkdt process is working on this run");
        } finally {
            RunDir.releaseLocks();
        }
        StagesCommandTest.ok(run(args("init")));
    }

    @Test
    void badSettingsAndInputsGiveOneLineNamingThem() throws Exception {
        refused(run(args("teacher", "--set", ".=3")), "config: .: an override is key.path=value");
        Path big = dir.resolve("big.yaml");
        Files.writeString(big, "# " + "x".repeat(2 << 20) + "\n");
        refused(run(args("teacher", "--config", big.toString())), "big.yaml", "larger than the 1048576 bytes a configuration file may hold");
        Path zero = dir.resolve("zero.yaml");
        Files.createSymbolicLink(zero, Path.of("/dev/zero"));
        refused(run(args("teacher", "--config", zero.toString())), "zero.yaml: is not a regular file");
        Path empty = dir.resolve("empty.npy");
        Npy.write(empty, NdArray.of(new float[0], 24, 0));
        refused(CliRun.of(StagesCommandTest.args("teacher", runs, data, "--import", empty.toString()).toArray(String[]::new)), "empty.npy", "are empty");
        for (String shard : List.of("1/2/", "1 / 2", "+1/+2")) refused(run(args("experts", "--shard", shard)), "--shard: expected i/n");
        assertFalse(Files.exists(tiny()), "none of these wrote a run");

        CliRun usage = run(args("distill", "--segments", "abc"));
        assertEquals(2, usage.code());
        assertEquals(2, usage.err().strip().split("\n").length, usage.err());
        assertTrue(usage.err().contains("Try 'mkdt distill --help'"), usage.err());
        CliRun help = CliRun.of("bench", "experts", "--help");
        assertEquals(0, help.code(), help.err());
        assertTrue(help.out().startsWith("Usage: mkdt bench"), help.out());

        String before = System.getProperty("mkdt.threads");
        try {
            System.setProperty("mkdt.threads", "abc");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, CpuThreads::configured);
            assertTrue(e.getMessage().startsWith("MKDT_THREADS"), e.getMessage());
            System.setProperty("mkdt.threads", "0");
            assertThrows(IllegalArgumentException.class, CpuThreads::configured);
        } finally {
            if (before == null) System.clearProperty("mkdt.threads");
            else System.setProperty("mkdt.threads", before);
        }
    }
}
