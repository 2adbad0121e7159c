package org.mkdt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

/** Stages 1-3 from the command line on a tiny image-folder data set (seconds). */
class StagesCommandTest {
    @TempDir
    Path dir;

    private Path dataset() throws Exception {
        return TinyData.imageFolder(dir.resolve("tiny"));
    }

    static List<String> args(String command, Path runs, Path data, String... extra) {
        List<String> a = new ArrayList<>(List.of(command, "--runs-dir", runs.toString(), "--set", "name=tiny", "--set", "data.dataset=" + data,
                "--set", "experts.count=3", "--set", "experts.epochs=2", "--set", "experts.batch=8",
                "--set", "distill.maxStartEpoch=1", "--set", "distill.expertEpochs=1", "--set", "init.fraction=0.25",
                "--set", "init.method=high-loss")); // the paper's start (the demo preset starts from a random subset)
        a.addAll(List.of(extra));
        return a;
    }

    static void ok(CliRun r) {
        assertEquals(0, r.code(), r.err() + r.out());
    }

    @Test
    void teacherExpertsAndInitRunAndShardsReproduceASingleRunBitForBit() throws Exception {
        Path data = dataset();
        Path reps = dir.resolve("reps.npy");
        Npy.write(reps, NdArray.of(Close.uniform(9, 24 * 6), 24, 6));
        String imported = "teacher.importFile=" + reps;

        Path single = dir.resolve("single");
        CliRun teacher = CliRun.of(args("teacher", single, data, "--import", reps.toString()).toArray(String[]::new));
        ok(teacher);
        assertTrue(teacher.out().contains("imported F64 (24, 6) representations"), teacher.out());
        CliRun experts = CliRun.of(args("experts", single, data, "--set", imported).toArray(String[]::new));
        ok(experts);
        assertTrue(experts.out().contains("3 trained, 0 kept"), experts.out());
        CliRun init = CliRun.of(args("init", single, data, "--set", imported).toArray(String[]::new));
        ok(init);
        assertTrue(init.out().contains("high-loss subset of 6 images"), init.out());
        Artefacts.DistilledSet set = Artefacts.readDistilledSet(single.resolve("tiny/init.safetensors"));
        assertArrayEquals(new int[] {6, 3, 8, 8}, set.images().shape());
        assertEquals(0.1, set.lr());
        assertTrue(Files.readString(single.resolve("tiny/metrics.jsonl")).contains("\"stage\":\"experts\""));

        // The same experts made by two shards (as two Slurm array tasks would) are the same files.
        Path sharded = dir.resolve("sharded");
        ok(CliRun.of(args("teacher", sharded, data, "--set", imported).toArray(String[]::new)));
        ok(CliRun.of(args("experts", sharded, data, "--set", imported, "--shard", "1/2").toArray(String[]::new)));
        ok(CliRun.of(args("experts", sharded, data, "--set", imported, "--shard", "0/2").toArray(String[]::new)));
        for (int i = 0; i < 3; i++) {
            String f = String.format("tiny/experts/expert_%03d.safetensors", i);
            assertArrayEquals(Files.readAllBytes(single.resolve(f)), Files.readAllBytes(sharded.resolve(f)), f);
        }
        CliRun again = CliRun.of(args("experts", single, data, "--set", imported).toArray(String[]::new));
        assertTrue(again.out().contains("0 trained, 3 kept"), again.out());

        // Trained as batches of students (2 + 1): the same files again, bit for bit.
        Path batched = dir.resolve("batched");
        ok(CliRun.of(args("teacher", batched, data, "--set", imported).toArray(String[]::new)));
        CliRun b = CliRun.of(args("experts", batched, data, "--set", imported, "--batch-students", "2").toArray(String[]::new));
        ok(b);
        assertTrue(b.out().contains("experts 1..2/3 (one batch of 2): trained") && b.out().contains("3 trained, 0 kept"), b.out());
        for (int i = 0; i < 3; i++) {
            String f = String.format("tiny/experts/expert_%03d.safetensors", i);
            assertArrayEquals(Files.readAllBytes(single.resolve(f)), Files.readAllBytes(batched.resolve(f)), f);
        }
    }

    @Test
    void aTrainedTeacherReportsItsProbeBesideRandomInit() throws Exception {
        Path data = dataset();
        Path runs = dir.resolve("runs");
        CliRun r = CliRun.of(args("teacher", runs, data, "--set", "teacher.epochs=1", "--set", "teacher.batch=8", "--set", "teacher.projectorDim=16").toArray(String[]::new));
        ok(r);
        assertTrue(r.out().contains("test accuracy") && r.out().contains("random init encoder") && r.out().contains("teacher encoder"), r.out());
        assertArrayEquals(new int[] {24, 2048}, Artefacts.readRepresentations(runs.resolve("tiny/teacher.safetensors"), 24).shape());
        assertTrue(Files.size(runs.resolve("tiny/teacher_encoder.safetensors")) > 0);

        // --probe-every E probes after every E-th epoch but the last (the final probe covers it),
        // with mild crops; a negative E or one beside --no-probe is a usage error.
        Path probed = dir.resolve("probed");
        CliRun p = CliRun.of(args("teacher", probed, data, "--set", "teacher.epochs=3", "--set", "teacher.batch=8", "--set", "teacher.projectorDim=16",
                "--set", "teacher.cropMin=0.5", "--probe-every", "1").toArray(String[]::new));
        ok(p);
        assertTrue(p.out().contains("with the after epoch 1 encoder") && p.out().contains("with the after epoch 2 encoder")
                && !p.out().contains("after epoch 3"), p.out());
        assertTrue(Files.readString(probed.resolve("tiny/metrics.jsonl")).matches("(?s).*\"probe_1pct_teacher_by_epoch\":\\{\"1\":[0-9.]+,\"2\":[0-9.]+}.*"),
                Files.readString(probed.resolve("tiny/metrics.jsonl")));
        // Training is deterministic and the probe draws nothing from it, so the probe after
        // epoch 2 of 3 is the final probe of a 2-epoch teacher, to the digit.
        CliRun two = CliRun.of(args("teacher", dir.resolve("two"), data, "--set", "teacher.epochs=2", "--set", "teacher.batch=8", "--set", "teacher.projectorDim=16",
                "--set", "teacher.cropMin=0.5").toArray(String[]::new));
        ok(two);
        java.util.regex.Matcher mid = java.util.regex.Pattern.compile("test accuracy ([0-9.]+)% with the after epoch 2 encoder").matcher(p.out());
        java.util.regex.Matcher end = java.util.regex.Pattern.compile("test accuracy ([0-9.]+)% with the teacher encoder").matcher(two.out());
        assertTrue(mid.find() && end.find(), p.out() + two.out());
        assertEquals(end.group(1), mid.group(1));
        for (String[] bad : new String[][] {{"--probe-every", "-1"}, {"--probe-every", "2", "--no-probe"}}) {
            CliRun refused = CliRun.of(args("teacher", probed, data, bad).toArray(String[]::new));
            assertEquals(2, refused.code(), refused.out() + refused.err());
            assertTrue(refused.err().startsWith("mkdt: error: --probe-every: "), refused.err());
        }
        CliRun crop = CliRun.of(args("teacher", probed, data, "--set", "teacher.cropMin=0").toArray(String[]::new));
        assertTrue(crop.code() != 0 && crop.err().contains("teacher.cropMin") && crop.err().contains("(0, 1]"), crop.err());

        // The evaluation's preconditions before any distillation: the teacher's own rows, no
        // pre-training and the full training set, each with its held-out KD error, and G1-G3.
        String[] teacherKeys = {"--set", "teacher.epochs=1", "--set", "teacher.batch=8", "--set", "teacher.projectorDim=16"};
        List<String> eval = args("eval", runs, data, teacherKeys);
        eval.addAll(List.of("--rows", "teacher,none,full", "--seeds", "2", "--epochs", "1", "--labels", "0.5"));
        CliRun e = CliRun.of(eval.toArray(String[]::new));
        ok(e);
        for (String row : List.of("| teacher (its own representation) | - |", "| random-init teacher encoder | - |", "| no pre-training | - |", "| full training set (KD) | 24 |")) {
            assertTrue(e.out().contains(row), row + " in\n" + e.out());
        }
        assertTrue(e.out().contains("- G1 the teacher beats random initialisation: ") && e.out().contains("- G2 KD on the full training set beats no pre-training: "), e.out());
        assertTrue(e.out().contains("- G3 no pre-training <= random subset < full training set: not checked (a row is missing)"), e.out());
        assertTrue(e.out().contains("This setting cannot show a subset's benefit"), e.out());
        com.fasterxml.jackson.databind.JsonNode json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(runs.resolve("tiny/eval/results.json").toFile());
        assertEquals(4, json.get("sets").size());
        assertEquals("converged", json.get("probe").asText());
        assertFalse(json.get("preconditions_hold").asBoolean());
        for (com.fasterxml.jackson.databind.JsonNode set : json.get("sets")) {
            boolean teacherRow = set.get("set").asText().contains("teacher");
            assertEquals(!teacherRow, set.has("held_out_kd_error_mean"), set.toString());
            assertTrue(set.get("labels").get("50%").has("std_population"));
        }
        assertTrue(Files.readString(runs.resolve("tiny/eval/results.md")).contains("## What this table can show"));

        List<String> reference = args("eval", runs, data, teacherKeys);
        reference.addAll(List.of("--rows", "none", "--seeds", "1", "--labels", "0.5", "--probe", "reference"));
        CliRun ref = CliRun.of(reference.toArray(String[]::new));
        ok(ref);
        assertEquals("reference", new com.fasterxml.jackson.databind.ObjectMapper().readTree(runs.resolve("tiny/eval/results.json").toFile()).get("probe").asText());
        assertEquals("features", json.get("probe_at").asText());

        // The diagnostic probe of the students' head output: recorded and said in every output.
        List<String> head = args("eval", runs, data, teacherKeys);
        head.addAll(List.of("--rows", "none", "--seeds", "1", "--labels", "0.5", "--probe-at", "head"));
        CliRun h = CliRun.of(head.toArray(String[]::new));
        ok(h);
        assertEquals("head", new com.fasterxml.jackson.databind.ObjectMapper().readTree(runs.resolve("tiny/eval/results.json").toFile()).get("probe_at").asText());
        for (String text : List.of(h.out(), Files.readString(runs.resolve("tiny/eval/results.md")), Files.readString(runs.resolve("tiny/eval/report.html")))) {
            assertTrue(text.contains("probe each student's head output") && text.contains("a diagnostic, not the protocol"), text);
        }
        List<String> badAt = args("eval", runs, data, teacherKeys);
        badAt.addAll(List.of("--probe-at", "logits"));
        assertEquals("mkdt: error: --probe-at must be features or head, got logits", CliRun.of(badAt.toArray(String[]::new)).err().strip());

        List<String> bad = args("eval", runs, data, teacherKeys);
        bad.addAll(List.of("--rows", "teacher,bogus"));
        CliRun b = CliRun.of(bad.toArray(String[]::new));
        assertEquals(1, b.code());
        assertEquals("mkdt: error: --rows: unknown row 'bogus' (known: teacher, distilled, distilled-subset-lr, initial, initial-learned-lr, random, none, full)", b.err().strip());
        List<String> badProbe = args("eval", runs, data, teacherKeys);
        badProbe.addAll(List.of("--probe", "sloppy"));
        assertEquals("mkdt: error: --probe must be converged or reference, got sloppy", CliRun.of(badProbe.toArray(String[]::new)).err().strip());
    }

    @Test
    void aStudentWithoutHeadTrainsOnAMapOfItsOwnSizeAndRefusesAnyOther() throws Exception {
        Path data = dataset();
        Path wrong = dir.resolve("wrong.npy"), right = dir.resolve("right.npy");
        Npy.write(wrong, NdArray.of(Close.uniform(9, 24 * 6), 24, 6));
        Npy.write(right, NdArray.of(Close.uniform(9, 24 * 2048), 24, 2048)); // 8x8 images: depth 1, 128 x 4 x 4
        Path runs = dir.resolve("headless");
        ok(CliRun.of(args("teacher", runs, data, "--import", wrong.toString()).toArray(String[]::new)));
        CliRun refused = CliRun.of(args("experts", runs, data, "--set", "teacher.importFile=" + wrong, "--set", "experts.head=none").toArray(String[]::new));
        assertEquals(1, refused.code());
        assertEquals("mkdt: error: config: experts.head: 'none' makes the student's flattened conv map (2048 values) its output, but the teacher's "
                + "representation has 6 (use a flat convnet teacher of width 128, or head 'linear')", refused.err().strip());
        Path good = dir.resolve("headless2");
        String[] keys = {"--set", "teacher.importFile=" + right, "--set", "experts.head=none"};
        ok(CliRun.of(args("teacher", good, data, "--import", right.toString()).toArray(String[]::new)));
        CliRun experts = CliRun.of(args("experts", good, data, keys).toArray(String[]::new));
        ok(experts);
        CliRun init = CliRun.of(args("init", good, data, keys).toArray(String[]::new));
        ok(init);
        // An expert of the headless student is its conv blocks only: 128*3*9 + 3 * 128 parameters per snapshot.
        NdArray traj = org.mkdt.io.SafeTensors.read(good.resolve("tiny/experts/expert_000.safetensors")).tensors().values().iterator().next();
        assertEquals(128 * 3 * 9 + 3 * 128, traj.shape()[traj.shape().length - 1], java.util.Arrays.toString(traj.shape()));
        // The experts were made for this head: asking for the linear one names the key.
        CliRun linear = CliRun.of(args("init", good, data, "--set", "teacher.importFile=" + right).toArray(String[]::new));
        assertEquals(1, linear.code());
        assertTrue(linear.err().contains("experts.head"), linear.err());
    }

    @Test
    void configurationErrorsAreOneLine() {
        CliRun r = CliRun.of("experts", "--runs-dir", dir.toString(), "--set", "experts.count=zero");
        assertEquals(1, r.code());
        assertTrue(r.err().strip().startsWith("mkdt: error: config: experts.count: wrong type"), r.err());
        CliRun bs = CliRun.of("experts", "--runs-dir", dir.toString(), "--batch-students", "0");
        assertEquals("mkdt: error: --batch-students must be in 1..1024, got 0", bs.err().strip());
        CliRun s = CliRun.of("experts", "--runs-dir", dir.toString(), "--shard", "3/2");
        assertEquals("mkdt: error: --shard: need 0 <= i < n, got 3/2", s.err().strip());
        if (!org.mkdt.backend.cuda.CudaDevice.open().available()) {
            CliRun d = CliRun.of("teacher", "--runs-dir", dir.toString(), "--device", "cuda");
            assertEquals(1, d.code());
            assertTrue(d.err().strip().startsWith("mkdt: error: --device cuda: no CUDA"), d.err());
            assertEquals(1, d.err().strip().lines().count(), d.err());
        }
    }
}
