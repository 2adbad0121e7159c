package org.mkdt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
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
import org.mkdt.data.ImageSet;
import org.mkdt.data.Resample;
import org.mkdt.data.Datasets;
import org.mkdt.data.Dataset;
import org.mkdt.nn.ConvNet;
import org.mkdt.nn.Encoder;
import org.mkdt.ops.Rows;
import org.mkdt.report.Pictures;
import org.mkdt.report.ReportPage;
import org.mkdt.report.NearestClass;
import org.mkdt.report.Results;
import org.mkdt.run.Provenance;
import org.mkdt.run.RunDir;
import org.mkdt.stages.Evaluate;
import org.mkdt.stages.Evaluation;
import org.mkdt.stages.LinearProbe;
import org.mkdt.stages.InitialSubset;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The evaluation protocol from the command line: loads the run's artefacts, builds the
 * pre-training sets, lets {@link Evaluation} measure them, and writes results.json, results.md,
 * results.png and report.html in runs/NAME/eval/.
 */
@Command(name = "eval", description = "Evaluate: the teacher's own probe beside a random-init encoder, then a fresh student pre-trained on the distilled set "
        + "and on the baselines (initial subset, class-balanced random real subset, no pre-training, the full training set), linear probe at 1%% and 5%% "
        + "labels, 3 seeds, held-out KD error; states whether the setting can show a subset's benefit (checks G1-G3); writes runs/NAME/eval/.")
public final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    RunOptions options;

    @Option(names = "--seeds", description = "Seeds per set (default: ${DEFAULT-VALUE}).")
    int seeds = 3;

    @Option(names = "--allow-unfinished", description = "Evaluate a distilled set from a run that has not finished its iterations (the report says so).")
    boolean allowUnfinished;

    @Option(names = "--labels", split = ",", description = "Label fractions of the downstream training set (default: 0.01,0.05).")
    double[] labels = {0.01, 0.05};

    @Option(names = "--downstream", split = ",", paramLabel = "NAME|PATH", description = "Also probe every pre-trained student on these data sets "
            + "(a name: fashion-mnist; or a folder: CIFAR binaries, Tiny ImageNet, an image folder), converted to the student's input "
            + "(grey <-> RGB, resampled with a bilinear filter): one table each.")
    List<String> downstream = List.of();

    @Option(names = "--epochs", description = "Pre-training epochs (default: ${DEFAULT-VALUE}, the protocol's).")
    int epochs = 20;

    @Option(names = "--probe", paramLabel = "converged|reference", description = "How the linear probe is fitted: converged (default; L-BFGS with a line "
            + "search to a small gradient) or reference (as the MKDT reference: torch.optim.LBFGS defaults, no line search, 100 steps, which can diverge).")
    String probe = "converged";

    @Option(names = "--probe-at", paramLabel = "features|head", description = "What of each pre-trained student the probe reads: features (default; "
            + "its flattened conv features, the protocol's) or head (its output, the prediction of the teacher's representation: a diagnostic of "
            + "whether knowledge distillation put the teacher's information into the student where the protocol's probe does not weight it).")
    String probeAt = "features";

    /** The rows --rows knows, in table order; the last two are not in the default set (they separate images from lr). */
    static final List<String> KNOWN_ROWS = List.of("teacher", "distilled", "distilled-subset-lr", "initial", "initial-learned-lr", "random", "none", "full");

    @Option(names = "--rows", split = ",", paramLabel = "ROW", description = "Which rows to measure (default: teacher,distilled,initial,random,none,full): "
            + "teacher (the teacher and a random-init encoder), distilled, initial, random, none, full; and distilled-subset-lr (the distilled images and "
            + "targets pre-trained at the subsets' lr 0.1) and initial-learned-lr (the initial subset at the learned lr), which with distilled and "
            + "initial separate what the images gained from what the learned lr gained. E.g. --rows teacher,none,random,full checks G1-G3 before any distillation.")
    List<String> rows = List.of("teacher", "distilled", "initial", "random", "none", "full");

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (seeds < 1 || seeds > 100) throw new IllegalArgumentException("--seeds must be in 1..100, got " + seeds);
        if (epochs < 1) throw new IllegalArgumentException("--epochs must be positive, got " + epochs);
        for (double f : labels) if (!(f > 0 && f <= 1)) throw new IllegalArgumentException("--labels: each fraction must be in (0, 1], got " + f);
        LinearProbe.Protocol protocol = LinearProbe.Protocol.parse(probe);
        Evaluate.ProbeAt at = Evaluate.ProbeAt.parse(probeAt);
        for (String r : rows) {
            if (!KNOWN_ROWS.contains(r)) throw new IllegalArgumentException("--rows: unknown row '" + r + "' (known: " + String.join(", ", KNOWN_ROWS) + ")");
        }
        // Both split rows need the distilled set (its images, or its learned lr) and the initial set.
        boolean needDistilled = rows.contains("distilled") || rows.contains("distilled-subset-lr") || rows.contains("initial-learned-lr");
        boolean needInit = rows.contains("initial") || rows.contains("initial-learned-lr");
        RunConfig c = options.load();
        Devices.Selection device = RunOptions.backend(c);
        RunDir run = RunDir.of(options.runsDir, c);
        out.println(device.line());
        Backend backend = device.backend();
        List<Path> needed = new ArrayList<>(List.of(run.teacherFile()));
        if (needDistilled) needed.add(run.distilledFile());
        if (needInit) needed.add(run.initFile());
        for (Path f : needed) {
            if (!Files.exists(f)) throw new IllegalArgumentException(f + ": missing; run the earlier stages first (mkdt pipeline runs them all)");
        }
        StageData data = StageData.load(c, backend);
        int n = data.dataset().train().count();
        NdArray reps = StageData.teacher(run, c, n);
        Artefacts.DistilledSet distilled = needDistilled ? distilled(run, c, allowUnfinished, out) : null;
        Artefacts.DistilledSet init = needInit || needDistilled && Files.exists(run.initFile()) ? StageData.initialSet(run, c) : null;
        List<Dataset> transfers = new java.util.ArrayList<>();
        for (String name : downstream) {
            if (!name.equals("fashion-mnist") && Datasets.NAMES.contains(name)) {
                throw new IllegalArgumentException("--downstream " + name + ": give the folder of your download instead of the name (it is recognised by its contents)");
            }
            Dataset d = Datasets.load(name, null);
            d = Resample.forStudent(d, data.channels(), data.size());
            transfers.add(new Dataset(name, d.train(), d.test(), d.normalization()));
            out.printf("eval: downstream %s: %d training and %d test images, %d classes, as %dx%dx%d%n", name, d.train().count(), d.test().count(),
                    d.train().classes().size(), d.train().channels(), d.train().height(), d.train().width());
        }
        run.begin("eval", backend.name(), false);
        ConvNet net = data.student(c.experts(), reps.shape()[1]);
        Evaluate.Settings reference = Evaluate.Settings.reference();
        Evaluate.Settings settings = new Evaluate.Settings(epochs, reference.batch(), reference.momentum(), reference.weightDecay(), reference.probeIterations(), protocol, at);

        try (Scope scope = Scope.open()) {
            Evaluation.TeacherModel teacher = teacher(run, c, data, backend);
            if (teacher == null) out.println("eval: no teacher encoder (" + run.teacherEncoderFile().getFileName() + "): imported representations; "
                    + "the teacher rows and held-out KD errors cannot be measured");
            Tensor targets = Tensor.of(backend, Shape.of(reps.shape()), reps.toFloats());
            // The subsets' size: the distilled set's; else what init.fraction gives (the initial set is that size too).
            int m = distilled != null ? distilled.images().shape()[0] : init != null ? init.images().shape()[0] : Math.max(1, (int) Math.round(c.init().fraction() * n));
            ImageSet train = data.dataset().train();
            List<Evaluate.PretrainSet> sets = new ArrayList<>();
            String dFile = run.distilledFile().toString(), iFile = run.initFile().toString();
            double subsetLr = Evaluation.SUBSET_LR;
            // Only the sets a requested row pre-trains on become tensors (the initial set may be loaded for the report alone).
            boolean distilledRows = rows.contains("distilled") || rows.contains("distilled-subset-lr");
            Tensor dImages = distilledRows ? distilled.images().toTensor(backend, DType.F32, dFile) : null;
            Tensor dTargets = distilledRows ? distilled.targets().toTensor(backend, DType.F32, dFile) : null;
            Tensor iImages = needInit ? init.images().toTensor(backend, DType.F32, iFile) : null;
            Tensor iTargets = needInit ? init.targets().toTensor(backend, DType.F32, iFile) : null;
            String method = c.init().method();
            if (rows.contains("distilled")) sets.add(new Evaluate.PretrainSet(Evaluation.DISTILLED, dImages, dTargets, distilled.lr()));
            if (rows.contains("distilled-subset-lr")) sets.add(new Evaluate.PretrainSet(Evaluation.DISTILLED_AT_SUBSET_LR, dImages, dTargets, subsetLr));
            if (rows.contains("initial")) sets.add(new Evaluate.PretrainSet(Evaluation.initialName(method), iImages, iTargets, subsetLr));
            if (rows.contains("initial-learned-lr")) {
                sets.add(new Evaluate.PretrainSet(Evaluation.initialAtLearnedLrName(method), iImages, iTargets, distilled.lr()));
            }
            if (rows.contains("random")) {
                int[] randomIdx = InitialSubset.balanced(train.labels(), train.classes().size(), m, c.seed() + 17);
                sets.add(new Evaluate.PretrainSet(Evaluation.RANDOM, Rows.gather(data.images(), randomIdx), Rows.gather(targets, randomIdx), subsetLr));
            }
            if (rows.contains("none")) sets.add(Evaluate.PretrainSet.none(Evaluation.NONE));
            if (rows.contains("full")) sets.add(new Evaluate.PretrainSet(Evaluation.FULL, data.images(), targets, subsetLr));

            Evaluation.Outcome outcome = Evaluation.run(net, sets, data.full(), transfers, teacher, rows.contains("teacher"), c.init().method(), labels, Evaluation.seeds(c.seed(), seeds),
                    settings, backend, line -> {
                        out.println(line);
                        out.flush();
                    });
            write(run, c, outcome, settings, distilled, init, data);
            out.println();
            out.print(outcome.results().markdown());
            if (at == Evaluate.ProbeAt.HEAD) out.println(probeLine(settings));
            out.println();
            out.print(outcome.checks().markdown());
            out.printf("eval: wrote %s (results.json, results.md, results.png, report.html)%n", run.evalDir());
        }
        return 0;
    }

    /**
     * The distilled set, made under this configuration's distillation keys; an intermediate one
     * (a stopped, killed or diverged run) only with --allow-unfinished, and then said so.
     */
    private static Artefacts.DistilledSet distilled(RunDir run, RunConfig c, boolean allowUnfinished, PrintWriter out) {
        Path f = run.distilledFile();
        Artefacts.DistilledSet d = Artefacts.readDistilledSet(f);
        Provenance.require(f.toString(), d.metadata(), c, Provenance.Stage.DISTILL, "run 'mkdt distill' for this configuration");
        String unfinished = unfinished(d, c);
        if (unfinished != null && !allowUnfinished) {
            throw new IllegalArgumentException(f + ": an unfinished distillation (" + unfinished
                    + "); finish it with 'mkdt distill --resume', or pass --allow-unfinished to evaluate it as it is");
        }
        if (unfinished != null) out.printf("eval: %s is unfinished (%s): evaluated as it is (--allow-unfinished)%n", f, unfinished);
        return d;
    }

    /** "iteration 120 of 200" for an unfinished set, or null for a finished one. */
    static String unfinished(Artefacts.DistilledSet d, RunConfig c) {
        if (d == null || "true".equals(d.metadata().get(Artefacts.FINISHED_KEY))) return null;
        return "iteration " + d.metadata().getOrDefault(Artefacts.ITERATION_KEY, "?") + " of " + c.distill().iterations();
    }

    /** The metadata that says what made an artefact (its stage, configuration hash, iteration), one key a line. */
    private static String provenance(Map<String, String> metadata) {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            if (e.getKey().equals("config")) continue; // the configuration itself is above
            b.append("\n  ").append(e.getKey()).append(": ").append(e.getValue());
        }
        return b.toString();
    }

    /** "Probe: converged." and, for a diagnostic probe of the students' head, a sentence saying what it reads. */
    static String probeLine(Evaluate.Settings s) {
        String line = "Probe: " + s.probe().label() + ".";
        if (s.probeAt() == Evaluate.ProbeAt.HEAD) {
            line += " The students' rows probe each student's head output (its prediction of the teacher's representation), not its conv features:"
                    + " a diagnostic, not the protocol; the teacher's rows are as always.";
        }
        return line;
    }

    /** The trained teacher's encoder, or null where the representations were imported. */
    private static Evaluation.TeacherModel teacher(RunDir run, RunConfig c, StageData data, Backend backend) {
        if (c.teacher().importFile() != null || !Files.exists(run.teacherEncoderFile())) return null;
        Encoder encoder = data.encoder(c.teacher());
        NdArray theta = Artefacts.readTeacherEncoder(run.teacherEncoderFile(), encoder.layout());
        try {
            encoder.loadBuffers(Artefacts.readTeacherBuffers(run.teacherEncoderFile()));
        } catch (IllegalArgumentException e) {
            throw new org.mkdt.io.BadFileException(run.teacherEncoderFile().toString(), e.getMessage());
        }
        return new Evaluation.TeacherModel(encoder, theta.toTensor(backend, DType.F32, run.teacherEncoderFile().toString()),
                () -> data.encoder(c.teacher()), data.dataset().train());
    }

    private static void write(RunDir run, RunConfig c, Evaluation.Outcome outcome, Evaluate.Settings settings,
                              Artefacts.DistilledSet distilled, Artefacts.DistilledSet init, StageData data) throws Exception {
        Results results = outcome.results();
        LinearProbe.Protocol protocol = settings.probe();
        String probeLine = probeLine(settings);
        Files.createDirectories(run.evalDir());
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("run", c.name());
        doc.put("dataset", c.data().dataset());
        doc.put("config_sha256", run.configHash());
        doc.put("probe", protocol.label());
        doc.put("probe_at", settings.probeAt().label());
        String at = unfinished(distilled, c), unfinished = at == null ? null : at + ", unfinished";
        if (unfinished != null) doc.put("distilled_unfinished", unfinished);
        doc.putAll(results.json());
        doc.put("checks", outcome.checks().json());
        if (!outcome.checks().imagesOrLr().isEmpty()) doc.put("images_or_lr", outcome.checks().imagesOrLr());
        Map<String, Object> transfers = new LinkedHashMap<>();
        for (Map.Entry<String, Results> e : outcome.transfers().entrySet()) transfers.put(e.getKey(), e.getValue().json());
        if (!transfers.isEmpty()) doc.put("downstream", transfers);
        doc.put("preconditions_hold", outcome.checks().preconditionsHold());
        doc.put("verdict", outcome.checks().verdict());
        AtomicFile.write(run.evalDir().resolve("results.json"), json.writeValueAsBytes(doc));
        String table = results.markdown(), checks = outcome.checks().markdown();
        String note = unfinished == null ? "" : "\n**The distilled set is intermediate (" + unfinished + "), evaluated with --allow-unfinished.**\n";
        StringBuilder transferTables = new StringBuilder();
        for (Map.Entry<String, Results> e : outcome.transfers().entrySet()) {
            transferTables.append("\n## Downstream: ").append(e.getKey()).append("\n\nThe same pre-trained students, probed on ").append(e.getKey())
                    .append(" (converted to the student's input).\n\n").append(e.getValue().markdown());
        }
        AtomicFile.write(run.evalDir().resolve("results.md"), (table + note + "\n" + probeLine + "\n\n## What this table can show\n\n" + checks
                + transferTables).getBytes(StandardCharsets.UTF_8));
        byte[] chart = results.chart("MKDT on " + c.data().dataset() + " (" + c.name() + ")", Evaluation.NONE);
        AtomicFile.write(run.evalDir().resolve("results.png"), chart);
        ReportPage page = new ReportPage("MKDT run " + c.name() + ": " + c.data().dataset());
        page.heading("Linear probe accuracy").markdownTable(table).paragraph(probeLine)
                .paragraph(unfinished == null ? "" : "The distilled set is intermediate (" + unfinished + "), evaluated with --allow-unfinished.")
                .image("Probe accuracy by pre-training set (error bars: std over seeds)", chart);
        page.heading("What this table can show");
        for (org.mkdt.report.Checks.Check check : outcome.checks().all()) page.paragraph(check.line());
        page.paragraph(outcome.checks().verdict());
        for (String line : outcome.checks().imagesOrLr()) page.paragraph(line);
        int k = 0;
        for (Map.Entry<String, Results> e : outcome.transfers().entrySet()) {
            byte[] transferChart = e.getValue().chart("Transfer to " + e.getKey(), Evaluation.NONE);
            AtomicFile.write(run.evalDir().resolve("results_downstream_" + (++k) + ".png"), transferChart);
            page.heading("Downstream: " + e.getKey()).markdownTable(e.getValue().markdown()).image("Probe accuracy on " + e.getKey(), transferChart);
        }
        if (distilled != null && init != null) {
            page.heading("The distilled set").paragraph(String.format("%d images, learned learning rate %.5f (initial %.5f).",
                    distilled.images().shape()[0], distilled.lr(), init.lr()));
            List<String> nearest = NearestClass.captions(distilled.images(), data.dataset().train(), data.dataset().normalization());
            page.image("Each distilled image beside its initial image (" + c.init().method() + ") and their difference; "
                    + "the class of the nearest training image (pixel space) under each", Pictures.comparison(distilled.images(), init.images(),
                    distilled.normalization(), nearest, Pictures.MAX_COMPARED));
        } else if (init != null) {
            page.image("Initial images (" + c.init().method() + ")", Pictures.imageGrid(init.images(), init.normalization(), 100));
        }
        Path loss = run.distillDir().resolve("loss.png");
        if (Files.exists(loss)) page.image("Trajectory matching loss per iteration, by the segment's start epoch, with a moving average", Files.readAllBytes(loss));
        page.heading("Configuration").preformatted(Files.readString(run.root().resolve("config.json")));
        page.heading("Provenance");
        if (distilled != null) page.preformatted("distilled.safetensors: " + provenance(distilled.metadata()));
        if (init != null) page.preformatted("init.safetensors: " + provenance(init.metadata()));
        Path env = run.root().resolve("environment.json");
        if (Files.exists(env)) page.preformatted("environment.json: " + Files.readString(env));
        AtomicFile.write(run.evalDir().resolve("report.html"), page.html().getBytes(StandardCharsets.UTF_8));
    }
}
