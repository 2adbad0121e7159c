package org.mkdt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mkdt.io.NdArray;
import org.mkdt.io.Npy;
import org.mkdt.testing.Close;
import org.mkdt.testing.TinyData;

/**
 * Expert generation as a real Slurm job array on a single-node cluster started for the test
 * (scripts/local-slurm.sh): three array tasks, each a separate JVM
 * picking its experts from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT, must produce the same
 * files, bit for bit, as one process making all of them. .ci/run installs slurm-wlm and munge.
 */
@Tag("slurm")
class ExpertsSlurmTest {
    @TempDir
    Path dir;

    private Path cluster;

    private record Result(int code, String out) {}

    private Result run(List<String> cmd, Path cwd, long seconds) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true);
        if (cluster != null) pb.environment().put("SLURM_CONF", cluster.resolve("slurm.conf").toString());
        Process p = pb.start();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, "timed out after " + seconds + " s");
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip());
    }

    @Test
    void aJobArrayMakesTheSameExpertsAsOneProcess() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/sbatch")) && Files.isExecutable(Path.of("/usr/sbin/slurmctld")),
                "Slurm is not installed (apt-get install slurm-wlm munge): the job-array integration test is skipped");
        Path project = Path.of("").toAbsolutePath();
        // Outside @TempDir: the daemons may still touch their state files while JUnit cleans up.
        cluster = Files.createTempDirectory("mkdt-slurm");
        Result up = run(List.of(project.resolve("scripts/local-slurm.sh").toString(), "start", cluster.toString()), project, 120);
        assumeTrue(up.code() == 0, "could not start a local Slurm here (" + up.out().replace('\n', ' ') + "): skipped");
        try {
            Path data = TinyData.imageFolder(dir.resolve("tiny"));
            Path reps = dir.resolve("reps.npy");
            Npy.write(reps, NdArray.of(Close.uniform(9, 24 * 6), 24, 6));
            String imported = "teacher.importFile=" + reps;

            Path single = dir.resolve("single"), array = dir.resolve("array");
            StagesCommandTest.ok(CliRun.of(StagesCommandTest.args("teacher", single, data, "--set", imported).toArray(String[]::new)));
            StagesCommandTest.ok(CliRun.of(StagesCommandTest.args("experts", single, data, "--set", imported).toArray(String[]::new)));
            StagesCommandTest.ok(CliRun.of(StagesCommandTest.args("teacher", array, data, "--set", imported).toArray(String[]::new)));

            // The job script runs this test's classpath in a fresh JVM per array task.
            String classpath = System.getProperty("java.class.path");
            List<String> java = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-modules=jdk.incubator.vector", "-cp", classpath, "org.mkdt.cli.Main"));
            java.addAll(StagesCommandTest.args("experts", array, data, "--set", imported));
            StringBuilder script = new StringBuilder("#!/bin/bash\nset -e\nexport MKDT_THREADS=1\nexec");
            for (String a : java) script.append(" '").append(a.replace("'", "'\\''")).append("'");
            Path job = dir.resolve("job.sh");
            Files.writeString(job, script.append('\n').toString());
            job.toFile().setExecutable(true);
            Result sbatch = run(List.of("sbatch", "--wait", "--array=0-2", "--output=" + dir.resolve("task-%a.log"), job.toString()),
                    project, 300);
            assertEquals(0, sbatch.code(), "sbatch: " + sbatch.out() + " " + logs());

            for (int i = 0; i < 3; i++) {
                String f = String.format("tiny/experts/expert_%03d.safetensors", i);
                assertArrayEquals(Files.readAllBytes(single.resolve(f)), Files.readAllBytes(array.resolve(f)), f);
                String log = Files.readString(dir.resolve("task-" + i + ".log"));
                assertEquals(true, log.contains("shard " + i + "/3, 1 trained"), "task " + i + ": " + log);
            }
        } finally {
            run(List.of(project.resolve("scripts/local-slurm.sh").toString(), "stop", cluster.toString()), project, 60);
            try (var files = Files.walk(cluster)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    private String logs() throws IOException {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            Path f = dir.resolve("task-" + i + ".log");
            if (Files.exists(f)) b.append("[task ").append(i).append(": ").append(Files.readString(f).strip()).append("] ");
        }
        return b.toString();
    }
}
