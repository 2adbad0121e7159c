package org.mkdt.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.mkdt.backend.Backend;
import org.mkdt.backend.Devices;
import org.mkdt.config.RunConfig;
import org.mkdt.data.Artefacts;
import org.mkdt.io.NdArray;
import org.mkdt.nn.ConvNet;
import org.mkdt.run.Provenance;
import org.mkdt.run.RunDir;
import org.mkdt.stages.ExpertSet;
import org.mkdt.stages.InitialSubset;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Stage 3: the initial synthetic set, written as a distilled-set artefact. */
@Command(name = "init", description = "Stage 3: pick the initial synthetic set (high-loss under the experts, or random) into runs/NAME/init.safetensors.")
public final class InitCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    RunOptions options;

    @Option(names = "--experts-available", description = "high-loss: score under the experts present even if fewer than experts.count (recorded in init.safetensors).")
    boolean expertsAvailable;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        RunConfig c = options.load();
        Devices.Selection device = RunOptions.backend(c);
        RunDir run = RunDir.of(options.runsDir, c);
        out.println(device.line());
        Backend backend = device.backend();
        StageData data = StageData.load(c, backend);
        int n = data.dataset().train().count();
        NdArray reps = StageData.teacher(run, c, n);
        Tensor targets = Tensor.of(backend, Shape.of(reps.shape()), reps.toFloats());
        int k = Math.max(1, (int) Math.round(c.init().fraction() * n));
        boolean highLoss = !c.init().method().equals("random");
        ConvNet student = data.student(c.experts(), reps.shape()[1]);
        ExpertSet experts = highLoss ? ExpertSet.load(run::expertFile, run.expertsDir(), c, student.layout(), expertsAvailable, 2) : null;
        run.begin("init", backend.name(), false);
        int[] chosen;
        Map<String, String> stamp = run.stamp(Provenance.Stage.INIT);
        if (!highLoss) {
            var train = data.dataset().train();
            chosen = InitialSubset.balanced(train.labels(), train.classes().size(), k, c.seed());
        } else {
            List<Tensor> epoch1 = new ArrayList<>();
            int p = student.numParams();
            for (ExpertSet.Member e : experts.members()) {
                epoch1.add(Tensor.of(backend, Shape.of(p), Arrays.copyOfRange(e.snapshots(), p, 2 * p)));
            }
            chosen = InitialSubset.highLoss(student, epoch1, data.images(), targets, k, 256);
            stamp.put("experts", experts.describe());
            out.printf("init: scored %d images under %d experts after epoch 1%n", n, epoch1.size());
        }
        float[] all = data.images().toFloatArray();
        int size = data.dataset().train().imageSize(), d = reps.shape()[1];
        float[] images = new float[k * size], tg = new float[k * d], allTargets = reps.toFloats();
        for (int i = 0; i < k; i++) {
            System.arraycopy(all, chosen[i] * size, images, i * size, size);
            System.arraycopy(allTargets, chosen[i] * d, tg, i * d, d);
        }
        Artefacts.writeDistilledSet(run.initFile(), NdArray.of(images, k, data.channels(), data.size(), data.size()), NdArray.of(tg, k, d),
                c.distill().alphaInit(), data.dataset().normalization(), stamp);
        out.printf("init: %s subset of %d images written to %s%n", c.init().method(), k, run.initFile());
        run.metric("init", Map.of("method", c.init().method(), "images", k));
        return 0;
    }
}
