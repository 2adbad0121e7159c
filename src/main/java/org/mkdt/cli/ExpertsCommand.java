package org.mkdt.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.Callable;
import org.mkdt.backend.Backend;
import org.mkdt.backend.Devices;
import org.mkdt.config.RunConfig;
import org.mkdt.data.Artefacts;
import org.mkdt.io.NdArray;
import org.mkdt.nn.ConvNet;
import org.mkdt.run.Progress;
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

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        RunConfig c = options.load();
        Shard s = Shard.resolve(shard, System.getenv());
        Devices.Selection device = RunOptions.backend(c);
        RunDir run = RunDir.open(options.runsDir, c, device.backend().name());
        out.println(device.line());
        Backend backend = device.backend();
        StageData data = StageData.load(c, backend);
        if (!Files.exists(run.teacherFile())) throw new IllegalArgumentException(run.teacherFile() + ": no teacher representations; run 'mkdt teacher' first");
        NdArray reps = Artefacts.readRepresentations(run.teacherFile(), data.dataset().train().count());
        Tensor targets = Tensor.of(backend, Shape.of(reps.shape()), reps.toFloats());
        ConvNet student = data.student(reps.shape()[1]);
        RunConfig.Experts e = c.experts();
        Experts.Settings settings = new Experts.Settings(e.epochs(), e.batch(), e.lr(), e.momentum(), e.weightDecay(), c.seed());
        Files.createDirectories(run.expertsDir());
        int made = 0, kept = 0;
        for (int i = 0; i < e.count(); i++) {
            if (!s.owns(i)) continue;
            long t0 = System.nanoTime();
            boolean trained;
            long steps = (long) e.epochs() * ((data.images().shape().dim(0) + e.batch() - 1) / e.batch());
            try (Progress progress = Progress.of("expert " + (i + 1) + "/" + e.count(), steps, out)) {
                trained = Experts.trainTo(run.expertFile(i), student, data.images(), targets, settings, i, run.configHash(), progress::step);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            out.printf("expert %d/%d: %s (%.1f s)%n", i + 1, e.count(), trained ? "trained" : "kept the finished file", seconds);
            out.flush();
            if (trained) {
                made++;
                run.metric("experts", Map.of("expert", i, "seconds", seconds, "shard", s.index() + "/" + s.count()));
            } else {
                kept++;
            }
        }
        out.printf("experts: shard %d/%d, %d trained, %d kept, in %s%n", s.index(), s.count(), made, kept, run.expertsDir());
        return 0;
    }
}
