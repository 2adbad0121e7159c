package org.mkdt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mkdt.data.Artefacts;
import org.mkdt.io.NdArray;
import org.mkdt.io.Npy;
import org.mkdt.testing.Close;
import org.mkdt.testing.TinyData;

/** Stages 4 and the evaluation from the command line on a tiny image folder (seconds). */
class DistillEvalCommandTest {
    @TempDir
    Path dir;

    /** A tiny distillation's arguments (4 iterations of 3 steps, checkpoints every 2) over imported representations. */
    static List<String> args(String command, Path runs, Path data, Path reps, String... extra) {
        List<String> a = new ArrayList<>(StagesCommandTest.args(command, runs, data, "--set", "teacher.importFile=" + reps,
                "--set", "distill.iterations=4", "--set", "distill.synSteps=3", "--set", "distill.batchSyn=4", "--set", "distill.checkpointEvery=2",
                "--set", "distill.lrImg=100", "--set", "distill.lrLr=1e-6"));
        a.addAll(List.of(extra));
        return a;
    }

    private static CliRun run(List<String> a) {
        return CliRun.of(a.toArray(String[]::new));
    }

    /** Teacher (imported), experts and init into runs/tiny. */
    private Path prepare(Path runs, Path data, Path reps) {
        for (String stage : List.of("teacher", "experts", "init")) StagesCommandTest.ok(run(args(stage, runs, data, reps)));
        return runs.resolve("tiny");
    }

    private Path reps() throws Exception {
        Path reps = dir.resolve("reps.npy");
        if (!Files.exists(reps)) Npy.write(reps, NdArray.of(Close.uniform(9, 24 * 6), 24, 6));
        return reps;
    }

    @Test
    void distillThenEvalWriteTheirFilesAndAResumedRunEqualsAnUninterruptedOne() throws Exception {
        Path data = TinyData.imageFolder(dir.resolve("data")), reps = reps();

        Path straight = prepare(dir.resolve("a"), data, reps);
        CliRun d = run(args("distill", dir.resolve("a"), data, reps));
        StagesCommandTest.ok(d);
        assertTrue(d.out().contains("4 iterations") && d.out().contains("done: "), d.out());
        assertTrue(d.out().contains("distill: matching loss on 6 fixed segments: initial set ") && d.out().contains("with the learned lr "), d.out());
        assertTrue(Files.readString(straight.resolve("metrics.jsonl")).contains("\"distill_panel\""), "no distill_panel metric");
        for (String f : List.of("distilled.safetensors", "distill/checkpoint.safetensors", "distill/images.png", "distill/loss.png")) {
            assertTrue(Files.size(straight.resolve(f)) > 0, f);
        }
        assertEquals(4, Artefacts.readCheckpoint(straight.resolve("distill/checkpoint.safetensors")).iteration());

        // Interrupted after 3 iterations (a checkpoint at 2 by the schedule, one at 3 on stopping), then resumed.
        Path resumed = prepare(dir.resolve("b"), data, reps);
        CliRun first = run(args("distill", dir.resolve("b"), data, reps, "--stop-after", "3"));
        StagesCommandTest.ok(first);
        assertTrue(first.out().contains("stopped after iteration 3"), first.out());
        CliRun again = run(args("distill", dir.resolve("b"), data, reps));
        assertEquals(1, again.code());
        assertTrue(again.err().contains("pass --resume to continue it"), again.err());
        StagesCommandTest.ok(run(args("distill", dir.resolve("b"), data, reps, "--resume")));
        assertArrayEquals(Files.readAllBytes(straight.resolve("distilled.safetensors")), Files.readAllBytes(resumed.resolve("distilled.safetensors")));
        assertArrayEquals(Files.readAllBytes(straight.resolve("distill/checkpoint.safetensors")), Files.readAllBytes(resumed.resolve("distill/checkpoint.safetensors")));

        Path grey = TinyData.greyFolder(dir.resolve("grey"));
        CliRun e = run(args("eval", dir.resolve("a"), data, reps, "--seeds", "2", "--epochs", "2", "--labels", "0.25,1", "--downstream", grey.toString()));
        StagesCommandTest.ok(e);
        assertTrue(e.out().contains("eval: downstream " + grey + ": 20 training and 8 test images, 2 classes, as 3x8x8"), e.out());
        assertTrue(e.out().contains("| MKDT (distilled) | 6 |") && e.out().contains("| no pre-training | - |")
                && e.out().contains("| random real subset (class-balanced) | 6 |") && e.out().contains("| full training set (KD) | 24 |"), e.out());
        // Imported representations: no teacher encoder, so G1 and the held-out errors cannot be measured, and the output says so.
        assertTrue(e.out().contains("eval: no teacher encoder") && e.out().contains("G1 the teacher beats random initialisation: not checked"), e.out());
        JsonNode results = new ObjectMapper().readTree(straight.resolve("eval/results.json").toFile());
        assertEquals(5, results.get("sets").size());
        assertTrue(results.get("checks").get(0).get("holds").isNull());
        for (JsonNode set : results.get("sets")) {
            for (String labels : List.of("25%", "100%")) {
                JsonNode acc = set.get("labels").get(labels).get("accuracy_per_seed");
                assertEquals(2, acc.size());
                for (JsonNode a : acc) assertTrue(a.asDouble() >= 0 && a.asDouble() <= 1, set.toString());
            }
        }
        assertTrue(Files.readString(straight.resolve("eval/report.html")).contains("data:image/png;base64,"));
        assertTrue(Files.size(straight.resolve("eval/results.png")) > 1000);
        assertTrue(Files.readString(straight.resolve("eval/results.md")).startsWith("| pre-training set |"));
        // The same students probed on the grey 12x12 folder, converted to 3x8x8: a table of its own.
        assertTrue(Files.readString(straight.resolve("eval/results.md")).contains("## Downstream: " + grey), "no downstream table");
        JsonNode transfer = results.get("downstream").get(grey.toString());
        assertEquals(5, transfer.get("sets").size());
        for (JsonNode set : transfer.get("sets")) assertEquals(2, set.get("labels").get("25%").get("accuracy_per_seed").size());
        assertTrue(Files.size(straight.resolve("eval/results_downstream_1.png")) > 1000);
        assertTrue(Files.readString(straight.resolve("eval/report.html")).contains("Downstream: " + grey));
        // The two rows that separate images from lr: the distilled images at the subsets' lr, the initial images at the learned lr.
        CliRun split = run(args("eval", dir.resolve("a"), data, reps, "--seeds", "2", "--epochs", "1", "--labels", "1",
                "--rows", "initial-learned-lr,distilled,distilled-subset-lr,initial"));
        StagesCommandTest.ok(split);
        JsonNode sets = new ObjectMapper().readTree(straight.resolve("eval/results.json").toFile()).get("sets");
        assertEquals(List.of("MKDT (distilled)", "MKDT images at the subsets' lr", "initial subset (high-loss)", "initial subset (high-loss) at the learned lr"),
                java.util.stream.StreamSupport.stream(sets.spliterator(), false).map(x -> x.get("set").asText()).toList());
        double learned = Artefacts.readDistilledSet(straight.resolve("distilled.safetensors")).lr();
        assertTrue(Math.abs(learned - 0.1) > 1e-9, "the learned lr moved: " + learned);
        assertEquals(learned, sets.get(0).get("lr").asDouble(), 0);
        assertEquals(0.1, sets.get(1).get("lr").asDouble(), 0);
        assertEquals(0.1, sets.get(2).get("lr").asDouble(), 0);
        assertEquals(learned, sets.get(3).get("lr").asDouble(), 0);
        assertTrue(split.out().contains("Images or learned lr:") && split.out().contains("the learned lr's gain with the initial images (initial subset (high-loss) at the learned lr minus initial subset (high-loss)): "),
                split.out());
        assertEquals(4, new ObjectMapper().readTree(straight.resolve("eval/results.json").toFile()).get("images_or_lr").size());
        CliRun named = run(args("eval", dir.resolve("a"), data, reps, "--downstream", "cifar10"));
        assertEquals(1, named.code());
        assertTrue(named.err().strip().startsWith("mkdt: error: --downstream cifar10: give the folder of your download"), named.err());
        if (org.mkdt.testing.Browser.available()) { // the real run's report in headless Chromium: rendered, no console message
            org.mkdt.testing.Browser.Result shot = org.mkdt.testing.Browser.check(straight.resolve("eval/report.html"), dir.resolve("report.png"));
            assertEquals(0, shot.exit(), shot.out());
        }
    }

    @Test
    void segmentsRunAsOneBatchAndAResumeMustKeepTheirNumber() throws Exception {
        Path data = TinyData.imageFolder(dir.resolve("data")), reps = reps();
        Path one = prepare(dir.resolve("s1"), data, reps), two = prepare(dir.resolve("s2"), data, reps);
        // A gentler image lr: with lrImg 100 this tiny problem diverges (a genuine dAlpha of 1e6 by iteration 3).
        StagesCommandTest.ok(run(args("distill", dir.resolve("s1"), data, reps, "--stop-after", "2", "--set", "distill.lrImg=1")));
        CliRun d = run(args("distill", dir.resolve("s2"), data, reps, "--segments", "2", "--stop-after", "2", "--set", "distill.lrImg=1"));
        StagesCommandTest.ok(d);
        assertTrue(Files.readString(two.resolve("metrics.jsonl")).contains("\"expert\":["), "per-segment experts in the metrics");
        assertFalse(java.util.Arrays.equals(Artefacts.readCheckpoint(one.resolve("distill/checkpoint.safetensors")).images().toFloats(),
                Artefacts.readCheckpoint(two.resolve("distill/checkpoint.safetensors")).images().toFloats()), "two segments move the images differently");
        CliRun mismatch = run(args("distill", dir.resolve("s2"), data, reps, "--resume", "--set", "distill.lrImg=1"));
        assertEquals(1, mismatch.code());
        assertTrue(mismatch.err().strip().endsWith("made with --segments 2; --resume needs the same (got 1)"), mismatch.err());
        // resumed with each step taken 3 images at a time (the same result up to rounding; less memory)
        StagesCommandTest.ok(run(args("distill", dir.resolve("s2"), data, reps, "--resume", "--segments", "2", "--chunk", "3", "--set", "distill.lrImg=1")));
        assertEquals(4, Artefacts.readCheckpoint(two.resolve("distill/checkpoint.safetensors")).iteration());
        CliRun bad = run(args("distill", dir.resolve("s2"), data, reps, "--segments", "0"));
        assertEquals("mkdt: error: --segments must be in 1..1024, got 0", bad.err().strip());
        CliRun badChunk = run(args("distill", dir.resolve("s2"), data, reps, "--chunk", "-1"));
        assertEquals("mkdt: error: --chunk must be in 0..65536, got -1", badChunk.err().strip());
    }

    @Test
    void aDivergingRunStopsWithOneLineAndKeepsTheLastGoodCheckpoint() throws Exception {
        Path data = TinyData.imageFolder(dir.resolve("data")), reps = reps();
        Path run = prepare(dir.resolve("c"), data, reps);
        CliRun d = run(args("distill", dir.resolve("c"), data, reps, "--set", "distill.lrLr=1e9"));
        assertEquals(1, d.code(), d.out());
        String err = d.err().strip();
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.startsWith("mkdt: error: distill: iteration 1 (expert ") && err.contains("learned learning rate would become")
                && err.contains("last good checkpoint is") && err.contains("(iteration 0)"), err);
        Artefacts.Checkpoint cp = Artefacts.readCheckpoint(run.resolve("distill/checkpoint.safetensors"));
        assertEquals(0, cp.iteration());
        assertEquals(0.1, cp.alpha());
        // The distilled set on disk is still the initial one, valid and readable.
        assertArrayEquals(Artefacts.readDistilledSet(run.resolve("init.safetensors")).images().toFloats(),
                Artefacts.readDistilledSet(run.resolve("distilled.safetensors")).images().toFloats());
    }

    @Test
    void badInputsAreOneLineErrors() throws Exception {
        Path data = TinyData.imageFolder(dir.resolve("data")), reps = reps();
        CliRun noInit = run(args("distill", dir.resolve("d"), data, reps));
        assertEquals(1, noInit.code());
        assertTrue(noInit.err().strip().endsWith("no initial set; run 'mkdt init' first"), noInit.err());
        CliRun noResume = run(args("distill", dir.resolve("d"), data, reps, "--resume"));
        assertEquals(1, noResume.code());
        CliRun badPanel = run(args("distill", dir.resolve("d"), data, reps, "--panel", "-1"));
        assertEquals("mkdt: error: --panel must be in 0..1024, got -1", badPanel.err().strip());
        CliRun badSeeds = run(args("eval", dir.resolve("d"), data, reps, "--seeds", "0"));
        assertEquals("mkdt: error: --seeds must be in 1..100, got 0", badSeeds.err().strip());
        Path run = prepare(dir.resolve("e"), data, reps);
        Files.write(run.resolve("distilled.safetensors"), new byte[] {1, 2, 3});
        CliRun truncated = run(args("eval", dir.resolve("e"), data, reps));
        assertEquals(1, truncated.code());
        assertTrue(truncated.err().strip().startsWith("mkdt: error: " + run.resolve("distilled.safetensors")), truncated.err());
        assertEquals(1, truncated.err().strip().lines().count(), truncated.err());
    }
}
