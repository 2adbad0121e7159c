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
import org.mkdt.nn.ConvNet;
import org.mkdt.ops.Rows;
import org.mkdt.report.Pictures;
import org.mkdt.report.ReportPage;
import org.mkdt.report.Results;
import org.mkdt.run.RunDir;
import org.mkdt.stages.Evaluate;
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
 * The evaluation protocol from the command line: the distilled set and the baselines, each
 * pre-trained and probed for every seed; results.json, results.md, results.png and report.html
 * in runs/NAME/eval/.
 */
@Command(name = "eval", description = "Evaluate: pre-train a fresh student on the distilled set and on the baselines (initial subset, random real subset, "
        + "no pre-training; --full adds the whole training set), linear probe at 1% and 5% labels, 3 seeds; writes runs/NAME/eval/.")
public final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    RunOptions options;

    @Option(names = "--seeds", description = "Seeds per set (default: ${DEFAULT-VALUE}).")
    int seeds = 3;

    @Option(names = "--labels", split = ",", description = "Label fractions of the downstream training set (default: 0.01,0.05).")
    double[] labels = {0.01, 0.05};

    @Option(names = "--epochs", description = "Pre-training epochs (default: ${DEFAULT-VALUE}, the protocol's).")
    int epochs = 20;

    @Option(names = "--full", description = "Also pre-train on the whole (limited) training set: the long, optional baseline.")
    boolean full;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (seeds < 1 || seeds > 100) throw new IllegalArgumentException("--seeds must be in 1..100, got " + seeds);
        if (epochs < 1) throw new IllegalArgumentException("--epochs must be positive, got " + epochs);
        for (double f : labels) if (!(f > 0 && f <= 1)) throw new IllegalArgumentException("--labels: each fraction must be in (0, 1], got " + f);
        RunConfig c = options.load();
        Devices.Selection device = RunOptions.backend(c);
        RunDir run = RunDir.open(options.runsDir, c, device.backend().name());
        out.println(device.line());
        Backend backend = device.backend();
        for (Path f : List.of(run.distilledFile(), run.initFile(), run.teacherFile())) {
            if (!Files.exists(f)) throw new IllegalArgumentException(f + ": missing; run the earlier stages first (mkdt pipeline runs them all)");
        }
        StageData data = StageData.load(c, backend);
        int n = data.dataset().train().count();
        NdArray reps = Artefacts.readRepresentations(run.teacherFile(), n);
        Artefacts.DistilledSet distilled = Artefacts.readDistilledSet(run.distilledFile()), init = Artefacts.readDistilledSet(run.initFile());
        ConvNet net = data.student(distilled.targets().shape()[1]);
        Evaluate.Settings settings = new Evaluate.Settings(epochs, 256, 0.9, 1e-4, Evaluate.Settings.reference().probeIterations());

        try (Scope scope = Scope.open()) {
            Tensor targets = Tensor.of(backend, Shape.of(reps.shape()), reps.toFloats());
            int m = distilled.images().shape()[0];
            int[] randomIdx = InitialSubset.random(n, m, c.seed() + 17);
            List<Evaluate.PretrainSet> sets = new ArrayList<>();
            String dFile = run.distilledFile().toString(), iFile = run.initFile().toString();
            sets.add(new Evaluate.PretrainSet("MKDT (distilled)", distilled.images().toTensor(backend, DType.F32, dFile),
                    distilled.targets().toTensor(backend, DType.F32, dFile), distilled.lr()));
            sets.add(new Evaluate.PretrainSet("initial subset (" + c.init().method() + ")", init.images().toTensor(backend, DType.F32, iFile),
                    init.targets().toTensor(backend, DType.F32, iFile), 0.1));
            sets.add(new Evaluate.PretrainSet("random real subset", Rows.gather(data.images(), randomIdx), Rows.gather(targets, randomIdx), 0.1));
            sets.add(Evaluate.PretrainSet.none());
            if (full) sets.add(new Evaluate.PretrainSet("full training set", data.images(), targets, 0.1));

            long[] seedList = new long[seeds];
            for (int s = 0; s < seeds; s++) seedList[s] = c.seed() + s;
            Results results = new Results(labels, seedList);
            long t0 = System.nanoTime();
            for (Evaluate.PretrainSet set : sets) {
                double[][] acc = new double[labels.length][seeds];
                for (int s = 0; s < seeds; s++) {
                    try (Scope one = Scope.open()) {
                        Tensor theta = Evaluate.pretrain(net, set, settings, seedList[s], backend);
                        double[] a = Evaluate.probe(net, theta, data.full(), labels, settings, seedList[s], backend);
                        for (int i = 0; i < labels.length; i++) acc[i][s] = a[i];
                        out.printf("eval: %-28s seed %d: %s (%.0f s)%n", set.name(), seedList[s], describe(a), (System.nanoTime() - t0) / 1e9);
                        out.flush();
                    }
                }
                results.add(new Results.Row(set.name(), set.size(), set.lr(), acc));
            }
            write(run, c, results, distilled, init);
            out.println();
            out.print(results.markdown());
            out.printf("eval: wrote %s (results.json, results.md, results.png, report.html)%n", run.evalDir());
        }
        return 0;
    }

    private String describe(double[] a) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < a.length; i++) sb.append(i > 0 ? ", " : "").append(String.format("%.2f%% at %s labels", 100 * a[i], Math.round(labels[i] * 100) + "%"));
        return sb.toString();
    }

    private static void write(RunDir run, RunConfig c, Results results, Artefacts.DistilledSet distilled, Artefacts.DistilledSet init) throws Exception {
        Files.createDirectories(run.evalDir());
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("run", c.name());
        doc.put("dataset", c.data().dataset());
        doc.put("config_sha256", run.configHash());
        doc.putAll(results.json());
        AtomicFile.write(run.evalDir().resolve("results.json"), json.writeValueAsBytes(doc));
        String md = results.markdown();
        AtomicFile.write(run.evalDir().resolve("results.md"), md.getBytes(StandardCharsets.UTF_8));
        byte[] chart = results.chart("MKDT on " + c.data().dataset() + " (" + c.name() + ")");
        AtomicFile.write(run.evalDir().resolve("results.png"), chart);
        ReportPage page = new ReportPage("MKDT run " + c.name() + ": " + c.data().dataset());
        page.heading("Linear probe accuracy").markdownTable(md).image("Probe accuracy by pre-training set (error bars: std over seeds)", chart);
        page.heading("The distilled set").paragraph(String.format("%d images, learned learning rate %.5f (initial %.5f).",
                distilled.images().shape()[0], distilled.lr(), init.lr()));
        page.image("Distilled images", Pictures.imageGrid(distilled.images(), distilled.normalization(), 100));
        page.image("Initial images (" + c.init().method() + ")", Pictures.imageGrid(init.images(), init.normalization(), 100));
        Path loss = run.distillDir().resolve("loss.png");
        if (Files.exists(loss)) page.image("Trajectory matching loss per iteration", Files.readAllBytes(loss));
        page.heading("Configuration").preformatted(Files.readString(run.root().resolve("config.json")));
        AtomicFile.write(run.evalDir().resolve("report.html"), page.html().getBytes(StandardCharsets.UTF_8));
    }
}
