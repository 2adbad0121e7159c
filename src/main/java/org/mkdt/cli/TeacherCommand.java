package org.mkdt.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.mkdt.backend.Backend;
import org.mkdt.backend.Devices;
import org.mkdt.config.RunConfig;
import org.mkdt.data.Artefacts;
import org.mkdt.data.Dataset;
import org.mkdt.io.NdArray;
import org.mkdt.nn.Encoder;
import org.mkdt.run.Progress;
import org.mkdt.run.Provenance;
import org.mkdt.run.RunDir;
import org.mkdt.stages.Evaluate;
import org.mkdt.stages.LinearProbe;
import org.mkdt.stages.Teacher;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Stage 1: train a Barlow Twins teacher (or import representations) and export the (N, D) matrix. */
@Command(name = "teacher", description = "Stage 1: train a Barlow Twins teacher, or import representations (teacher.importFile), and write runs/NAME/teacher.safetensors.")
public final class TeacherCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    RunOptions options;

    @Option(names = "--import", paramLabel = "FILE", description = "Take representations made elsewhere (.npy or .safetensors, one row per training image) instead of training (= --set teacher.importFile=FILE).")
    Path importFile;

    @Option(names = "--no-probe", description = "Skip the quick 1%%-label probe of the teacher beside a random-init encoder (eval measures both properly, over seeds).")
    boolean noProbe;

    @Option(names = "--probe-every", paramLabel = "E", description = "Also probe the teacher (1%% labels, as at the end) after every E-th epoch, to see how its features evolve; recorded in metrics.json.")
    int probeEvery;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (importFile != null) options.overrides.add("teacher.importFile=" + importFile);
        if (probeEvery < 0) throw new ParameterException(spec.commandLine(), "--probe-every: must be a positive number of epochs, got " + probeEvery);
        if (probeEvery > 0 && noProbe) throw new ParameterException(spec.commandLine(), "--probe-every: cannot be combined with --no-probe");
        RunConfig c = options.load();
        Devices.Selection device = RunOptions.backend(c);
        RunDir run = RunDir.of(options.runsDir, c);
        out.println(device.line());
        Backend backend = device.backend();
        StageData data = StageData.load(c, backend);
        Dataset ds = data.dataset();
        NdArray reps;
        Map<String, Object> m = new LinkedHashMap<>();
        NdArray imported = c.teacher().importFile() == null ? null : Artefacts.readRepresentations(Path.of(c.teacher().importFile()), ds.train().count());
        run.begin("teacher", backend.name(), false);
        if (imported != null) {
            reps = imported;
            out.printf("teacher: imported %s representations from %s%n", reps.describe(), c.teacher().importFile());
            m.put("imported", c.teacher().importFile());
            java.nio.file.Files.deleteIfExists(run.teacherEncoderFile()); // an older run's encoder does not describe these
        } else {
            Encoder encoder = data.encoder(c.teacher());
            RunConfig.Teacher t = c.teacher();
            Teacher.Result r;
            Map<String, Double> byEpoch = new LinkedHashMap<>();
            java.util.function.ObjIntConsumer<Tensor> afterEpoch = probeEvery == 0 ? null : (theta, epoch) -> {
                if (epoch % probeEvery == 0 && epoch < t.epochs() && data.full().test().count() > 0) byEpoch.put(Integer.toString(epoch), probeTeacher(out, c, data, encoder, theta, "after epoch " + epoch));
            };
            try (Progress progress = Progress.of("teacher", (long) t.epochs() * (ds.train().count() / t.batch()), out)) {
                r = Teacher.train(encoder, ds.train(), ds.normalization(),
                        new Teacher.Settings(t.epochs(), t.warmupEpochs(), t.batch(), t.lr(), t.momentum(), t.weightDecay(), t.projectorDim(), t.lambda(), t.cropMin(),
                                c.seed()),
                        backend, line -> {
                            out.println(line);
                            out.flush();
                        }, progress::step, afterEpoch);
            }
            reps = Teacher.representations(encoder, r.encoderTheta(), ds.train(), ds.normalization(), 256, backend);
            Artefacts.writeTeacherEncoder(run.teacherEncoderFile(), NdArray.of(r.encoderTheta().toFloatArray(), encoder.layout().size()), encoder.layout(),
                    encoder.buffers(), describe(t), run.stamp(Provenance.Stage.TEACHER));
            m.put("barlow_twins_loss_per_epoch", r.epochLoss());
            if (!byEpoch.isEmpty()) m.put("probe_1pct_teacher_by_epoch", byEpoch);
            if (!noProbe) probe(out, c, data, encoder, r.encoderTheta(), m);
        }
        Artefacts.writeRepresentations(run.teacherFile(), NdArray.of(reps.toFloats(), reps.shape()), run.stamp(Provenance.Stage.TEACHER));
        out.printf("teacher: wrote %s %s%n", run.teacherFile(), reps.describe());
        m.put("representations", reps.shape());
        run.metric("teacher", m);
        return 0;
    }

    /** The encoder in words, as the artefact's metadata records it. */
    static String describe(RunConfig.Teacher t) {
        return t.encoder() + " width " + t.width() + ", " + t.representation();
    }

    /** Linear-probe accuracy at 1% of the whole training set's labels: the trained teacher beside a random-init encoder. */
    private static void probe(PrintWriter out, RunConfig c, StageData data, Encoder encoder, Tensor trained, Map<String, Object> m) {
        Dataset ds = data.full();
        if (ds.test().count() == 0) {
            out.println("teacher: no test split, probe skipped");
            return;
        }
        Encoder fresh = data.encoder(c.teacher()); // a fresh one: its own batch-norm statistics
        m.put("probe_1pct_random_init", probeTeacher(out, c, data, fresh,
                Teacher.randomInit(fresh, data.dataset().train(), ds.normalization(), c.seed() + 1, trained.backend()), "random init"));
        m.put("probe_1pct_teacher", probeTeacher(out, c, data, encoder, trained, "teacher"));
    }

    /** One probe at 1% labels of {@code theta}'s features, printed with {@code which} and returned. */
    private static double probeTeacher(PrintWriter out, RunConfig c, StageData data, Encoder e, Tensor theta, String which) {
        Dataset ds = data.full();
        int labelled = LinearProbe.labelledSubset(ds.train().count(), 0.01, c.seed()).length;
        double acc = Evaluate.probe(e, theta, ds, new double[] {0.01}, Evaluate.Settings.reference(), c.seed(), theta.backend())[0];
        out.printf("teacher: linear probe, 1%% labels (%d), test accuracy %.2f%% with the %s encoder%n", labelled, 100 * acc, which);
        out.flush();
        return acc;
    }
}
