package org.mkdt.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.mkdt.backend.Backend;
import org.mkdt.backend.Devices;
import org.mkdt.config.RunConfig;
import org.mkdt.data.Artefacts;
import org.mkdt.io.NdArray;
import org.mkdt.nn.ConvNet;
import org.mkdt.run.Progress;
import org.mkdt.run.Provenance;
import org.mkdt.run.RunDir;
import org.mkdt.run.Shard;
import org.mkdt.stages.Experts;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Stage 2: expert trajectories, one file per expert, shardable across processes or Slurm array tasks. */
@Command(name = "experts", description = "Stage 2: train experts by knowledge distillation into runs/NAME/experts/; finished files are kept.")
public final class ExpertsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    RunOptions options;

    @Option(names = "--shard", description = "i/n: make the experts e with e mod n == i (default: from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT, else all).")
    String shard;

    @Option(names = "--batch-students", paramLabel = "S", defaultValue = "1",
            description = "Train S experts at once as one batch of students (one launch per op for all S on CUDA; on the CPU each expert is bit-identical to training it alone). Default: ${DEFAULT-VALUE}.")
    int batchStudents;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (batchStudents < 1 || batchStudents > 1024) throw new IllegalArgumentException("--batch-students must be in 1..1024, got " + batchStudents);
        RunConfig c = options.load();
        Shard s = Shard.resolve(shard, System.getenv());
        Devices.Selection device = RunOptions.backend(c);
        RunDir run = RunDir.of(options.runsDir, c);
        out.println(device.line());
        Backend backend = device.backend();
        StageData data = StageData.load(c, backend);
        NdArray reps = StageData.teacher(run, c, data.dataset().train().count());
        // Shared: the shards of one expert set run side by side; distill and init wait for all of them.
        run.begin("experts", backend.name(), true);
        Map<String, String> stamp = run.stamp(Provenance.Stage.EXPERTS);
        Tensor targets = Tensor.of(backend, Shape.of(reps.shape()), reps.toFloats());
        ConvNet student = data.student(c.experts(), reps.shape()[1]);
        RunConfig.Experts e = c.experts();
        Experts.Settings settings = new Experts.Settings(e.epochs(), e.batch(), e.lr(), e.momentum(), e.weightDecay(), c.seed());
        Files.createDirectories(run.expertsDir());
        int made = 0, kept = 0;
        List<Integer> pending = new ArrayList<>();
        for (int i = 0; i < e.count(); i++) {
            if (!s.owns(i)) continue;
            if (Experts.finished(run.expertFile(i), student, settings, stamp, i)) {
                out.printf("expert %d/%d: kept the finished file%n", i + 1, e.count());
                kept++;
            } else {
                pending.add(i);
            }
        }
        long stepsPerExpert = (long) e.epochs() * ((data.images().shape().dim(0) + e.batch() - 1) / e.batch());
        for (int from = 0; from < pending.size(); from += batchStudents) {
            int[] batch = pending.subList(from, Math.min(pending.size(), from + batchStudents)).stream().mapToInt(Integer::intValue).toArray();
            List<Path> files = new ArrayList<>();
            for (int i : batch) files.add(run.expertFile(i));
            String name = batch.length == 1 ? "expert " + (batch[0] + 1) + "/" + e.count()
                    : "experts " + (batch[0] + 1) + ".." + (batch[batch.length - 1] + 1) + "/" + e.count() + " (one batch of " + batch.length + ")";
            long t0 = System.nanoTime();
            try (Progress progress = Progress.of(name, stepsPerExpert, out)) {
                Experts.trainBatchedTo(files, student, data.images(), targets, settings, batch, stamp, progress::step);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            out.printf("%s: trained (%.1f s)%n", name, seconds);
            out.flush();
            made += batch.length;
            for (int i : batch) run.metric("experts", Map.of("expert", i, "seconds", seconds, "batch_students", batch.length, "shard", s.index() + "/" + s.count()));
        }
        out.printf("experts: shard %d/%d, %d trained, %d kept, in %s%n", s.index(), s.count(), made, kept, run.expertsDir());
        return 0;
    }
}
