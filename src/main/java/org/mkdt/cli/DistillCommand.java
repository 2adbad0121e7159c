package org.mkdt.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.mkdt.backend.Devices;
import org.mkdt.config.RunConfig;
import org.mkdt.data.Artefacts;
import org.mkdt.nn.ConvNet;
import org.mkdt.run.Progress;
import org.mkdt.run.RunDir;
import org.mkdt.stages.DistillRun;
import org.mkdt.stages.MatchPanel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Stage 4 from the command line: trajectory matching with checkpoints, resume and pictures. */
@Command(name = "distill", description = "Stage 4: distil the initial set by trajectory matching into runs/NAME/distilled.safetensors "
        + "(checkpoints in runs/NAME/distill/, with a picture of the images and of the matching loss).")
public final class DistillCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    RunOptions options;

    @Option(names = "--resume", description = "Continue from runs/NAME/distill/checkpoint.safetensors (on the CPU the result equals an uninterrupted run bit for bit).")
    boolean resume;

    @Option(names = "--experts-available", description = "Distil from the experts present even if fewer than experts.count (recorded in the checkpoint; --resume then needs the same set).")
    boolean expertsAvailable;

    @Option(names = "--stop-after", paramLabel = "N", description = "Stop after N iterations in this invocation, writing a checkpoint (time-boxed runs; --resume continues).")
    Integer stopAfter;

    @Option(names = "--segments", paramLabel = "S", defaultValue = "1",
            description = "Trajectory segments per iteration, unrolled together as one batch of students; their gradients are averaged (default: ${DEFAULT-VALUE}).")
    int segments;

    @Option(names = "--chunk", paramLabel = "C", defaultValue = "0",
            description = "Take each unrolled step's minibatch C images at a time in the meta-gradient: the same result up to float rounding, "
                    + "with the activation memory of C images instead of the minibatch (default: ${DEFAULT-VALUE}, the whole minibatch).")
    int chunk;

    @Option(names = "--panel", paramLabel = "K", defaultValue = "6",
            description = "When the run is done, the matching loss of the initial and the distilled set on K fixed segments (every expert and "
                    + "start epoch in turn): whether distillation lowered its own objective, and how much of that the learned lr did; 0: skip "
                    + "(default: ${DEFAULT-VALUE}).")
    int panel;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (stopAfter != null && stopAfter < 1) throw new IllegalArgumentException("--stop-after must be at least 1, got " + stopAfter);
        if (segments < 1 || segments > 1024) throw new IllegalArgumentException("--segments must be in 1..1024, got " + segments);
        if (chunk < 0 || chunk > 65536) throw new IllegalArgumentException("--chunk must be in 0..65536, got " + chunk);
        if (panel < 0 || panel > 1024) throw new IllegalArgumentException("--panel must be in 0..1024, got " + panel);
        RunConfig c = options.load();
        Devices.Selection device = RunOptions.backend(c);
        RunDir run = RunDir.of(options.runsDir, c);
        out.println(device.line());
        Artefacts.DistilledSet init = StageData.initialSet(run, c);
        int[] is = init.images().shape();
        ConvNet net = StageData.student(c.experts(), is[1], is[2], init.targets().shape()[1]);
        java.util.function.Consumer<String> log = line -> {
            out.println(line);
            out.flush();
        };
        DistillRun stage = DistillRun.prepare(run, init, net, device.backend(), new DistillRun.Options(resume, stopAfter, segments, chunk, expertsAvailable), log);
        DistillRun.Outcome o;
        try (Progress progress = Progress.of("distill", stage.remaining(), out)) {
            o = stage.iterate(progress::step);
        }
        out.printf("distill: %d iterations in %.1f s (%.2f s each); %s%n", o.done(), o.seconds(), o.done() == 0 ? 0 : o.seconds() / o.done(),
                o.finished() ? "done: " + run.distilledFile() : "stopped after iteration " + o.state().iteration + " (--resume continues)");
        out.printf("distill: since the initial set, the images moved by %s and the targets by %s (rms of the change / rms of the initial values)%n",
                movement(init.images().toFloats(), o.state().images.toFloatArray()), movement(init.targets().toFloats(), o.state().targets.toFloatArray()));
        if (o.finished() && panel > 0) {
            MatchPanel.Result p = stage.panel(panel);
            out.printf("distill: matching loss on %d fixed segments: initial set %.4f; distilled images and targets at the initial lr %.4g: %.4f (%+.1f%%); "
                            + "with the learned lr %.4g: %.4f (%+.1f%%)%n", p.segments(), p.initial(), p.alphaInit(), p.imagesOnly(),
                    MatchPanel.Result.change(p.initial(), p.imagesOnly()), p.alpha(), p.distilled(), MatchPanel.Result.change(p.initial(), p.distilled()));
        }
        return 0;
    }

    /** "37.0% (0.284 of 0.771)": rms(after - before) relative to rms(before). */
    static String movement(float[] before, float[] after) {
        double d = 0, b = 0;
        for (int i = 0; i < before.length; i++) {
            d += (after[i] - before[i]) * (double) (after[i] - before[i]);
            b += before[i] * (double) before[i];
        }
        double rd = Math.sqrt(d / before.length), rb = Math.sqrt(b / before.length);
        return String.format("%.1f%% (%.3g of %.3g)", rb == 0 ? 0 : 100 * rd / rb, rd, rb);
    }
}
