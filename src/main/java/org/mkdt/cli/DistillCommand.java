package org.mkdt.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.mkdt.backend.Backend;
import org.mkdt.backend.Devices;
import org.mkdt.config.RunConfig;
import org.mkdt.data.Artefacts;
import org.mkdt.io.AtomicFile;
import org.mkdt.io.NdArray;
import org.mkdt.nn.ConvNet;
import org.mkdt.report.Pictures;
import org.mkdt.run.Progress;
import org.mkdt.run.Provenance;
import org.mkdt.run.RunDir;
import org.mkdt.stages.Continuation;
import org.mkdt.stages.ExpertSet;
import org.mkdt.stages.Distill;
import org.mkdt.tensor.DType;
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

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (stopAfter != null && stopAfter < 1) throw new IllegalArgumentException("--stop-after must be at least 1, got " + stopAfter);
        if (segments < 1 || segments > 1024) throw new IllegalArgumentException("--segments must be in 1..1024, got " + segments);
        if (chunk < 0 || chunk > 65536) throw new IllegalArgumentException("--chunk must be in 0..65536, got " + chunk);
        RunConfig c = options.load();
        Devices.Selection device = RunOptions.backend(c);
        RunDir run = RunDir.of(options.runsDir, c);
        out.println(device.line());
        Backend backend = device.backend();
        RunConfig.Distill d = c.distill();
        Artefacts.DistilledSet init = StageData.initialSet(run, c);
        int[] is = init.images().shape();
        ConvNet net = StageData.student(is[1], is[2], init.targets().shape()[1]);
        int rows = d.maxStartEpoch() + d.expertEpochs() + 1; // epochs 0..maxStartEpoch + expertEpochs of each trajectory
        ExpertSet expertSet = ExpertSet.load(run::expertFile, run.expertsDir(), c, net.layout(), expertsAvailable, rows);
        Distill.Snapshots experts = inMemory(expertSet, c, net, backend, out);
        int[] expertFiles = expertSet.indices();

        // Everything is validated before anything is written: a refused resume leaves the run as it was.
        Artefacts.Checkpoint cp = null;
        List<Continuation.Change> changes = List.of();
        if (Files.exists(run.checkpointFile())) {
            if (!resume) {
                throw new IllegalArgumentException(run.checkpointFile() + ": a distillation checkpoint exists; pass --resume to continue it, or delete "
                        + run.distillDir() + " to start over");
            }
            cp = Artefacts.readCheckpoint(run.checkpointFile());
            Provenance.require(run.checkpointFile().toString(), cp.metadata(), c, Provenance.Stage.DISTILL,
                    "--resume may change only distill." + String.join(", distill.", Provenance.CONTINUABLE) + "; delete " + run.distillDir() + " to start over");
            String made = cp.metadata().getOrDefault("segments", "1");
            if (!made.equals(Integer.toString(segments))) {
                throw new IllegalArgumentException(run.checkpointFile() + ": made with --segments " + made + "; --resume needs the same (got " + segments + ")");
            }
            String set = cp.metadata().get("experts");
            if (set != null && !set.equals(expertSet.describe())) {
                throw new IllegalArgumentException(run.checkpointFile() + ": made from the experts " + Continuation.brief(set) + ", but the run now holds "
                        + Continuation.brief(expertSet.describe()) + "; --resume needs the same expert set (delete " + run.distillDir() + " to start over)");
            }
            changes = Continuation.changes(cp.metadata(), d, cp.iteration());
            if (cp.iteration() > d.iterations()) {
                throw new IllegalArgumentException("distill.iterations: " + d.iterations() + " is fewer than the " + cp.iteration() + " iterations the checkpoint has done");
            }
        } else if (resume) {
            throw new IllegalArgumentException(run.checkpointFile() + ": no checkpoint to resume");
        }
        run.begin("distill", backend.name(), false);
        String history;
        Distill.State state;
        if (cp != null) {
            String src = run.checkpointFile().toString();
            state = new Distill.State(cp.images().toTensor(backend, DType.F32, src), cp.targets().toTensor(backend, DType.F32, src),
                    cp.vImages().toTensor(backend, DType.F32, src), cp.vTargets().toTensor(backend, DType.F32, src), cp.alpha(), cp.vAlpha(), cp.iteration());
            for (double l : cp.losses()) state.losses.add(l);
            run.dropMetricsAfter("distill", state.iteration); // what a killed run logged past its checkpoint is redone below
            history = Continuation.append(cp.metadata().get("changes"), changes);
            for (Continuation.Change ch : changes) {
                run.metric("distill_change", ch.asMap());
                out.printf("distill: from iteration %d on, distill.%s = %s (was %s)%n", ch.fromIteration(), ch.key(), ch.now(), ch.before());
            }
            out.printf("distill: resuming after iteration %d of %d%n", state.iteration, d.iterations());
        } else {
            String src = run.initFile().toString();
            state = Distill.State.initial(init.images().toTensor(backend, DType.F32, src), init.targets().toTensor(backend, DType.F32, src), d.alphaInit());
            history = "[]";
        }
        Map<String, String> stamp = run.stamp(Provenance.Stage.DISTILL);
        stamp.put("segments", Integer.toString(segments));
        stamp.put("experts", expertSet.describe());
        stamp.put("continuable", Continuation.current(d));
        stamp.put("changes", history);
        if (cp == null) checkpoint(run, state, init, stamp, d); // iteration 0: a divergence at iteration 1 still leaves a good checkpoint

        Distill.Settings s = new Distill.Settings(d.iterations(), d.synSteps(), d.expertEpochs(), d.maxStartEpoch(), d.batchSyn(),
                d.lrImg(), d.lrY(), d.lrLr(), c.seed(), segments, chunk);
        int done = 0, lastCheckpoint = state.iteration;
        long t0 = System.nanoTime();
        try (Progress progress = Progress.of("distill", d.iterations() - state.iteration, out)) {
            while (state.iteration < d.iterations() && (stopAfter == null || done < stopAfter)) {
                long ti = System.nanoTime();
                Distill.Iteration it;
                try {
                    it = Distill.iterate(net, state, experts, s);
                } catch (Distill.Diverged e) {
                    throw new IllegalStateException("distill: " + e.getMessage() + "; stopped. The last good checkpoint is " + run.checkpointFile()
                            + " (iteration " + lastCheckpoint + "); to continue from it more gently: mkdt distill --resume --set distill.lrLr="
                            + String.format("%.3g", d.lrLr() / 10) + " --set distill.lrImg=" + String.format("%.3g", d.lrImg() / 10)
                            + " (with this command's other options)");
                }
                done++;
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("iteration", it.index());
                m.put("expert", segments == 1 ? expertFiles[it.expert()] : java.util.Arrays.stream(it.experts()).map(j -> expertFiles[j]).toArray());
                m.put("start_epoch", segments == 1 ? it.startEpoch() : it.startEpochs());
                m.put("loss", it.loss());
                m.put("alpha", it.alpha());
                m.put("seconds", (System.nanoTime() - ti) / 1e9);
                m.put("peak_bytes", it.peakBytes());
                run.metric("distill", m);
                progress.step();
                boolean last = state.iteration == d.iterations() || (stopAfter != null && done == stopAfter);
                if (state.iteration % d.checkpointEvery() == 0 || last) {
                    checkpoint(run, state, init, stamp, d);
                    lastCheckpoint = state.iteration;
                    out.printf("distill: iteration %d/%d, matching loss %.4f, lr %.5f, checkpoint written%n", it.index(), d.iterations(), it.loss(), it.alpha());
                    out.flush();
                }
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        out.printf("distill: %d iterations in %.1f s (%.2f s each); %s%n", done, secs, done == 0 ? 0 : secs / done,
                state.iteration == d.iterations() ? "done: " + run.distilledFile() : "stopped after iteration " + state.iteration + " (--resume continues)");
        out.printf("distill: since the initial set, the images moved by %s and the targets by %s (rms of the change / rms of the initial values)%n",
                movement(init.images().toFloats(), state.images.toFloatArray()), movement(init.targets().toFloats(), state.targets.toFloatArray()));
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

    /** The set's snapshots (rows [0, maxStartEpoch + expertEpochs] of each trajectory) on the backend. */
    private static Distill.Snapshots inMemory(ExpertSet set, RunConfig c, ConvNet net, Backend backend, PrintWriter out) {
        List<float[]> trajectories = new ArrayList<>();
        for (ExpertSet.Member m : set.members()) trajectories.add(m.snapshots());
        String partial = set.size() < c.experts().count() ? " (--experts-available: " + set.size() + " of experts.count = " + c.experts().count() + ")" : "";
        out.printf("distill: %d expert trajectories%s, epochs 0..%d of each in memory%n", set.size(), partial,
                c.distill().maxStartEpoch() + c.distill().expertEpochs());
        return Distill.inMemory(trajectories, net.numParams(), backend);
    }

    /**
     * The checkpoint, the distilled set and both pictures, each written atomically. The distilled
     * set says which iteration it holds and whether the run has finished; eval takes an
     * unfinished one only when told.
     */
    private static void checkpoint(RunDir run, Distill.State st, Artefacts.DistilledSet init, Map<String, String> stamp, RunConfig.Distill d) throws IOException {
        Files.createDirectories(run.distillDir());
        NdArray images = NdArray.of(st.images), targets = NdArray.of(st.targets);
        double[] losses = st.losses.stream().mapToDouble(Double::doubleValue).toArray();
        Artefacts.writeCheckpoint(run.checkpointFile(), new Artefacts.Checkpoint(images, targets, NdArray.of(st.vImages), NdArray.of(st.vTargets),
                st.alpha, st.vAlpha, st.iteration, losses, Map.of()), stamp);
        Map<String, String> set = new LinkedHashMap<>(stamp);
        set.put(Artefacts.ITERATION_KEY, Integer.toString(st.iteration));
        set.put(Artefacts.FINISHED_KEY, Boolean.toString(st.iteration >= d.iterations()));
        Artefacts.writeDistilledSet(run.distilledFile(), images, targets, st.alpha, init.normalization(), set);
        AtomicFile.write(run.distillDir().resolve("images.png"), Pictures.imageGrid(images, init.normalization(), 100));
        AtomicFile.write(run.distillDir().resolve("loss.png"), Pictures.lossPlot(losses));
    }
}
