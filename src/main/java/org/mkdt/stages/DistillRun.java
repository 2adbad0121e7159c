package org.mkdt.stages;

import java.io.IOException;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.mkdt.backend.Backend;
import org.mkdt.config.RunConfig;
import org.mkdt.data.Artefacts;
import org.mkdt.io.AtomicFile;
import org.mkdt.io.NdArray;
import org.mkdt.nn.ConvNet;
import org.mkdt.report.Pictures;
import org.mkdt.run.Provenance;
import org.mkdt.run.RunDir;
import org.mkdt.tensor.DType;

/**
 * Stage 4 as a run that can always be continued: which expert set it draws from, whether a
 * checkpoint may be resumed (and with which changed keys), the iterations, the checkpoint
 * cadence, the metrics and the final marker. {@link #prepare} validates everything and only
 * then takes the run (so a refused command leaves it as it was); {@link #iterate} does the work.
 * The command line parses, prints and draws the progress bar.
 */
public final class DistillRun {
    /** The command line's choices: resume or start, how many iterations now, the meta-gradient's shape, a partial expert set. */
    public record Options(boolean resume, Integer stopAfter, int segments, int chunk, boolean expertsAvailable) {}

    /** What an invocation did: iterations run, their seconds, and the state it ended in. */
    public record Outcome(int done, double seconds, Distill.State state, boolean finished) {}

    private final RunDir run;
    private final RunConfig.Distill d;
    private final Artefacts.DistilledSet init;
    private final ConvNet net;
    private final Options options;
    private final Distill.Snapshots experts;
    private final int[] expertFiles;
    private final Distill.State state;
    private final Map<String, String> stamp;
    private final Distill.Settings settings;
    private final Consumer<String> log;

    private DistillRun(RunDir run, Artefacts.DistilledSet init, ConvNet net, Options options, ExpertSet set, Distill.Snapshots experts,
                       Distill.State state, Map<String, String> stamp, Consumer<String> log) {
        this.run = run;
        this.d = run.config().distill();
        this.init = init;
        this.net = net;
        this.options = options;
        this.experts = experts;
        this.expertFiles = set.indices();
        this.state = state;
        this.stamp = stamp;
        this.log = log;
        this.settings = new Distill.Settings(d.iterations(), d.synSteps(), d.expertEpochs(), d.maxStartEpoch(), d.batchSyn(),
                d.lrImg(), d.lrY(), d.lrLr(), run.config().seed(), options.segments(), options.chunk());
    }

    /**
     * Loads the expert set and, on --resume, the checkpoint; refuses (one line naming the file and
     * the key) a resume under changed settings other than {@link Provenance#CONTINUABLE}, with
     * other --segments or another expert set; then takes the run, records each continued change,
     * and writes the iteration-0 checkpoint of a fresh start.
     */
    public static DistillRun prepare(RunDir run, Artefacts.DistilledSet init, ConvNet net, Backend backend, Options o, Consumer<String> log)
            throws IOException {
        RunConfig c = run.config();
        RunConfig.Distill d = c.distill();
        int rows = d.maxStartEpoch() + d.expertEpochs() + 1; // epochs 0..maxStartEpoch + expertEpochs of each trajectory
        ExpertSet set = ExpertSet.load(run::expertFile, run.expertsDir(), c, net.layout(), o.expertsAvailable(), rows);
        List<float[]> trajectories = set.members().stream().map(ExpertSet.Member::snapshots).toList();
        String partial = set.size() < c.experts().count() ? " (--experts-available: " + set.size() + " of experts.count = " + c.experts().count() + ")" : "";
        log.accept(String.format("distill: %d expert trajectories%s, epochs 0..%d of each in memory", set.size(), partial, rows - 1));
        Distill.Snapshots experts = Distill.inMemory(trajectories, net.numParams(), backend);

        // Everything is validated before anything is written: a refused resume leaves the run as it was.
        Artefacts.Checkpoint cp = null;
        List<Continuation.Change> changes = List.of();
        if (Files.exists(run.checkpointFile())) {
            if (!o.resume()) {
                throw new IllegalArgumentException(run.checkpointFile() + ": a distillation checkpoint exists; pass --resume to continue it, or delete "
                        + run.distillDir() + " to start over");
            }
            cp = Artefacts.readCheckpoint(run.checkpointFile());
            Provenance.require(run.checkpointFile().toString(), cp.metadata(), c, Provenance.Stage.DISTILL,
                    "--resume may change only distill." + String.join(", distill.", Provenance.CONTINUABLE) + "; delete " + run.distillDir() + " to start over");
            String made = cp.metadata().getOrDefault("segments", "1");
            if (!made.equals(Integer.toString(o.segments()))) {
                throw new IllegalArgumentException(run.checkpointFile() + ": made with --segments " + made + "; --resume needs the same (got " + o.segments() + ")");
            }
            String recorded = cp.metadata().get("experts");
            if (recorded != null && !recorded.equals(set.describe())) {
                throw new IllegalArgumentException(run.checkpointFile() + ": made from the experts " + Continuation.brief(recorded) + ", but the run now holds "
                        + Continuation.brief(set.describe()) + "; --resume needs the same expert set (delete " + run.distillDir() + " to start over)");
            }
            changes = Continuation.changes(cp.metadata(), d, cp.iteration());
            if (cp.iteration() > d.iterations()) {
                throw new IllegalArgumentException("distill.iterations: " + d.iterations() + " is fewer than the " + cp.iteration() + " iterations the checkpoint has done");
            }
        } else if (o.resume()) {
            throw new IllegalArgumentException(run.checkpointFile() + ": no checkpoint to resume");
        }
        run.begin("distill", backend.name(), false);
        Map<String, String> stamp = run.stamp(Provenance.Stage.DISTILL);
        stamp.put("segments", Integer.toString(o.segments()));
        stamp.put("experts", set.describe());
        stamp.put("continuable", Continuation.current(d));
        Distill.State state;
        if (cp != null) {
            String src = run.checkpointFile().toString();
            state = new Distill.State(cp.images().toTensor(backend, DType.F32, src), cp.targets().toTensor(backend, DType.F32, src),
                    cp.vImages().toTensor(backend, DType.F32, src), cp.vTargets().toTensor(backend, DType.F32, src), cp.alpha(), cp.vAlpha(), cp.iteration());
            for (double l : cp.losses()) state.losses.add(l);
            run.dropMetricsAfter("distill", state.iteration); // what a killed run logged past its checkpoint is redone
            stamp.put("changes", Continuation.append(cp.metadata().get("changes"), changes));
            for (Continuation.Change ch : changes) {
                run.metric("distill_change", ch.asMap());
                log.accept(String.format("distill: from iteration %d on, distill.%s = %s (was %s)", ch.fromIteration(), ch.key(), ch.now(), ch.before()));
            }
            log.accept(String.format("distill: resuming after iteration %d of %d", state.iteration, d.iterations()));
        } else {
            String src = run.initFile().toString();
            state = Distill.State.initial(init.images().toTensor(backend, DType.F32, src), init.targets().toTensor(backend, DType.F32, src), d.alphaInit());
            stamp.put("changes", "[]");
        }
        DistillRun r = new DistillRun(run, init, net, o, set, experts, state, stamp, log);
        if (cp == null) r.checkpoint(); // iteration 0: a divergence at iteration 1 still leaves a good checkpoint
        return r;
    }

    /** Iterations this invocation will run at most. */
    public int remaining() {
        int left = d.iterations() - state.iteration;
        return options.stopAfter() == null ? left : Math.min(left, options.stopAfter());
    }

    /**
     * Runs the iterations, logging each to metrics.jsonl and checkpointing every
     * distill.checkpointEvery and at the end. A divergence stops with one line that names the
     * last good checkpoint and the command that continues from it more gently.
     */
    public Outcome iterate(Runnable onStep) throws IOException {
        int done = 0, lastCheckpoint = state.iteration, segments = options.segments();
        Integer stopAfter = options.stopAfter();
        long t0 = System.nanoTime();
        while (state.iteration < d.iterations() && (stopAfter == null || done < stopAfter)) {
            long ti = System.nanoTime();
            Distill.Iteration it;
            try {
                it = Distill.iterate(net, state, experts, settings);
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
            onStep.run();
            boolean last = state.iteration == d.iterations() || (stopAfter != null && done == stopAfter);
            if (state.iteration % d.checkpointEvery() == 0 || last) {
                checkpoint();
                lastCheckpoint = state.iteration;
                log.accept(String.format("distill: iteration %d/%d, matching loss %.4f, lr %.5f, checkpoint written", it.index(), d.iterations(), it.loss(), it.alpha()));
            }
        }
        return new Outcome(done, (System.nanoTime() - t0) / 1e9, state, state.iteration == d.iterations());
    }

    /**
     * The matching loss of the initial and the current set on a fixed panel of {@code segments}
     * segments ({@link MatchPanel}), logged to metrics.jsonl as "distill_panel".
     */
    public MatchPanel.Result panel(int segments) throws IOException {
        Backend b = state.images.backend();
        String src = run.initFile().toString();
        MatchPanel.Result r = MatchPanel.of(net, experts, settings, segments, init.images().toTensor(b, DType.F32, src),
                init.targets().toTensor(b, DType.F32, src), d.alphaInit(), state);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("iteration", state.iteration);
        m.put("segments", segments);
        m.put("initial", r.initial());
        m.put("images_only", r.imagesOnly());
        m.put("distilled", r.distilled());
        m.put("alpha_init", r.alphaInit());
        m.put("alpha", r.alpha());
        run.metric("distill_panel", m);
        return r;
    }

    /**
     * The checkpoint, the distilled set and both pictures, each written atomically. The distilled
     * set says which iteration it holds and whether the run has finished; eval takes an
     * unfinished one only when told.
     */
    private void checkpoint() throws IOException {
        Files.createDirectories(run.distillDir());
        NdArray images = NdArray.of(state.images), targets = NdArray.of(state.targets);
        double[] losses = state.losses.stream().mapToDouble(Double::doubleValue).toArray();
        Artefacts.writeCheckpoint(run.checkpointFile(), new Artefacts.Checkpoint(images, targets, NdArray.of(state.vImages), NdArray.of(state.vTargets),
                state.alpha, state.vAlpha, state.iteration, losses, Map.of()), stamp);
        Map<String, String> set = new LinkedHashMap<>(stamp);
        set.put(Artefacts.ITERATION_KEY, Integer.toString(state.iteration));
        set.put(Artefacts.FINISHED_KEY, Boolean.toString(state.iteration >= d.iterations()));
        Artefacts.writeDistilledSet(run.distilledFile(), images, targets, state.alpha, init.normalization(), set);
        AtomicFile.write(run.distillDir().resolve("images.png"), Pictures.comparison(images, init.images(), init.normalization(), null, Pictures.MAX_COMPARED));
        int[] starts = new int[losses.length];
        for (int i = 0; i < starts.length; i++) starts[i] = Distill.draw(settings, i + 1, experts.experts()).startEpochs()[0];
        AtomicFile.write(run.distillDir().resolve("loss.png"), Pictures.lossPlot(losses, starts));
    }
}
