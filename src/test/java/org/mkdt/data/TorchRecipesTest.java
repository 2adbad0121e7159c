package org.mkdt.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.simple.RandomSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.check.GradCheck;
import org.mkdt.io.NdArray;
import org.mkdt.io.Npy;
import org.mkdt.nn.ConvNet;
import org.mkdt.ops.Loss;
import org.mkdt.stages.Experts;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;
import org.mkdt.testing.Python;

/**
 * docs/formats.md's PyTorch recipes, run as written there (the two python blocks under
 * "In PyTorch") from a folder laid out like the repository root with a run in runs/demo: the
 * expert snapshot in scripts/torch's nn.Module gives mkdt's outputs and KD loss on the distilled
 * set, and pre-training a fresh module on that set gives a finite, falling loss.
 */
class TorchRecipesTest {
    @TempDir
    Path root;

    @Test
    void theDocumentedRecipesLoadMkdtsFilesAndTrainOnTheDistilledSet() throws Exception {
        String python = Python.assumeTorch();
        List<String> blocks = recipeBlocks();
        assertEquals(2, blocks.size(), "docs/formats.md should hold the two python blocks of 'In PyTorch'");
        Path scripts = Files.createDirectories(root.resolve("scripts/torch"));
        Files.copy(Path.of("scripts/torch/mkdt_torch.py"), scripts.resolve("mkdt_torch.py"));
        Path run = Files.createDirectories(root.resolve("runs/demo/experts"));

        ConvNet net = new ConvNet(1, 8, 8, 2, 6);
        UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(7);
        int m = 12;
        Tensor images = Tensor.of(CpuBackend.INSTANCE, net.inputShape(m), gaussian(rng, net.inputShape(m).numel()));
        Tensor targets = Tensor.of(CpuBackend.INSTANCE, Shape.of(m, net.outDim()), gaussian(rng, m * net.outDim()));
        NdArray snapshots = Experts.train(net, images, targets, new Experts.Settings(2, 4, 0.05, 0.9, 1e-4, 3), 0);
        Artefacts.writeTrajectory(run.resolve("expert_000.safetensors"), snapshots, net.layout(), Artefacts.stamp("test"));
        Artefacts.writeDistilledSet(run.getParent().resolve("distilled.safetensors"), NdArray.of(images), NdArray.of(targets), 0.05,
                new Normalization(new double[] {0.5}, new double[] {0.25}), Artefacts.stamp("test"));

        String code = blocks.get(0) + "\n" + blocks.get(1) + "\n"
                + "import math, numpy as np\n"
                + "np.save('outputs.npy', outputs.numpy())\n"
                + "print('LOSSES', losses[0], losses[-1], all(map(math.isfinite, losses)))\n";
        Python.Result r = Python.runIn(python, root, code);
        assertEquals(0, r.exit(), r.out());

        int p = net.numParams();
        float[] all = snapshots.toFloats();
        Tensor last = Tensor.of(CpuBackend.INSTANCE, Shape.of(p), java.util.Arrays.copyOfRange(all, 2 * p, 3 * p));
        Tensor outputs = net.forward(last, images);
        double[] mine = outputs.toDoubleArray();
        double[] theirs = Npy.read(root.resolve("outputs.npy")).toDoubles();
        assertTrue(GradCheck.relativeError(List.of(mine), List.of(theirs)) <= 1e-5,
                "outputs differ by " + GradCheck.relativeError(List.of(mine), List.of(theirs)));
        Matcher printed = Pattern.compile("\\(12, 6\\) (\\S+)").matcher(r.out());
        assertTrue(printed.find(), "the first recipe prints the outputs' shape and the KD loss: " + r.out());
        double kd = Loss.mse(outputs, targets).toDoubleArray()[0];
        assertEquals(kd, Double.parseDouble(printed.group(1)), 1e-5 * kd, r.out());
        Matcher losses = Pattern.compile("LOSSES (\\S+) (\\S+) (True|False)").matcher(r.out());
        assertTrue(losses.find(), r.out());
        double first = Double.parseDouble(losses.group(1)), lastLoss = Double.parseDouble(losses.group(2));
        assertEquals("True", losses.group(3), "non-finite pre-training loss: " + r.out());
        assertTrue(lastLoss < first, "pre-training loss did not fall: " + r.out());
    }

    /** The python blocks of docs/formats.md's "In PyTorch" section, in order. */
    static List<String> recipeBlocks() throws Exception {
        String doc = Files.readString(Path.of("docs/formats.md"));
        int from = doc.indexOf("### In PyTorch");
        assertTrue(from >= 0, "docs/formats.md has no 'In PyTorch' section");
        int to = doc.indexOf("\n## ", from);
        Matcher b = Pattern.compile("```python\n(.*?)```", Pattern.DOTALL).matcher(doc.substring(from, to < 0 ? doc.length() : to));
        List<String> out = new ArrayList<>();
        while (b.find()) out.add(b.group(1));
        return out;
    }

    private static float[] gaussian(UniformRandomProvider rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (rng.nextDouble() * 2 - 1);
        return v;
    }
}
