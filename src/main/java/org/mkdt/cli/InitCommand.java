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
import org.mkdt.run.RunDir;
import org.mkdt.stages.InitialSubset;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Stage 3: the initial synthetic set, written as a distilled-set artefact. */
@Command(name = "init", description = "Stage 3: pick the initial synthetic set (high-loss under the experts, or random) into runs/NAME/init.safetensors.")
public final class InitCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    RunOptions options;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        RunConfig c = options.load();
        Devices.Selection device = RunOptions.backend(c);
        RunDir run = RunDir.open(options.runsDir, c, device.backend().name());
        out.println(device.line());
        Backend backend = device.backend();
        StageData data = StageData.load(c, backend);
        int n = data.dataset().train().count();
        NdArray reps = Artefacts.readRepresentations(run.teacherFile(), n);
        Tensor targets = Tensor.of(backend, Shape.of(reps.shape()), reps.toFloats());
        int k = Math.max(1, (int) Math.round(c.init().fraction() * n));
        int[] chosen;
        if (c.init().method().equals("random")) {
            var train = data.dataset().train();
            chosen = InitialSubset.balanced(train.labels(), train.classes().size(), k, c.seed());
        } else {
            ConvNet student = data.student(reps.shape()[1]);
            List<Tensor> epoch1 = new ArrayList<>();
            for (int i = 0; i < c.experts().count(); i++) {
                if (!Files.exists(run.expertFile(i))) continue;
                float[] snaps = Artefacts.readTrajectory(run.expertFile(i), student.layout()).snapshots().toFloats();
                epoch1.add(Tensor.of(backend, Shape.of(student.numParams()), Arrays.copyOfRange(snaps, student.numParams(), 2 * student.numParams())));
            }
            if (epoch1.isEmpty()) throw new IllegalArgumentException(run.expertsDir() + ": no expert trajectories; run 'mkdt experts' first (or set init.method=random)");
            chosen = InitialSubset.highLoss(student, epoch1, data.images(), targets, k, 256);
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
                c.distill().alphaInit(), data.dataset().normalization(), run.configHash());
        out.printf("init: %s subset of %d images written to %s%n", c.init().method(), k, run.initFile());
        run.metric("init", Map.of("method", c.init().method(), "images", k));
        return 0;
    }
}
