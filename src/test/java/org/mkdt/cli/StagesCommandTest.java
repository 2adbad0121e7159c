package org.mkdt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
                "--set", "distill.maxStartEpoch=1", "--set", "distill.expertEpochs=1", "--set", "init.fraction=0.25"));
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
