package org.mkdt.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.mkdt.data.Artefacts;
import org.mkdt.data.Dataset;
import org.mkdt.data.Datasets;
import org.mkdt.data.ImageSet;
import org.mkdt.io.Idx;
import org.mkdt.io.NdArray;
import org.mkdt.io.Npy;
import org.mkdt.io.SafeTensors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code data info}: what a data set or a file holds. */
@Command(name = "data", description = "Inspect data sets and artefacts.", subcommands = {DataCommand.Info.class})
public final class DataCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "info", description = "Kind, shapes, dtype, classes and counts, value range and metadata of a data set (name or folder) or a file (.safetensors, .npy, IDX).")
    static final class Info implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "<name or path>", description = "fashion-mnist, cifar10, cifar100, tiny-imagenet, a data set folder, or a file")
        String target;

        @Option(names = "--data-dir", description = "Folder of a named data set (default for fashion-mnist: /usr/share/datasets/fashion-mnist).")
        Path dataDir;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            Path p = Path.of(target);
            if (!Datasets.NAMES.contains(target) && Files.isRegularFile(p)) file(out, p);
            else dataset(out, Datasets.load(target, dataDir));
            out.flush();
            return 0;
        }

        private static void dataset(PrintWriter out, Dataset d) {
            out.printf("data set    %s%n", d.name());
            split(out, "train", d.train());
            split(out, "test", d.test());
            out.printf("classes     %d: %s%n", d.train().classes().size(), abbreviate(String.join(", ", d.train().classes())));
            out.printf("normalise   mean %s  std %s  (pixel / 255 scale)%n", fmt(d.normalization().mean()), fmt(d.normalization().std()));
        }

        private static void split(PrintWriter out, String name, ImageSet s) {
            int min = 255, max = 0;
            for (byte b : s.pixels()) {
                min = Math.min(min, b & 0xff);
                max = Math.max(max, b & 0xff);
            }
            out.printf("%-11s %d images, uint8 %s, pixel range [%d, %d], per class %s%n", name, s.count(), s.shape(),
                    s.count() == 0 ? 0 : min, max, java.util.Arrays.toString(s.classCounts()));
        }

        private static void file(PrintWriter out, Path p) {
            String name = p.getFileName().toString();
            if (name.endsWith(".npy")) {
                out.printf("file        %s%nkind        .npy array%n", p);
                array(out, "array", Npy.read(p));
            } else if (name.endsWith(".safetensors")) {
                SafeTensors.Contents c = SafeTensors.read(p);
                Artefacts.Kind kind = Artefacts.kindOf(c);
                out.printf("file        %s%nkind        %s%n", p, kind == null ? "safetensors (not an mkdt artefact)" : kind.format());
                for (Map.Entry<String, NdArray> e : c.tensors().entrySet()) array(out, e.getKey(), e.getValue());
                for (Map.Entry<String, String> e : c.metadata().entrySet()) out.printf("metadata    %s = %s%n", e.getKey(), abbreviate(e.getValue()));
            } else {
                out.printf("file        %s%nkind        IDX array%n", p);
                array(out, "array", Idx.read(p));
            }
        }

        private static void array(PrintWriter out, String name, NdArray a) {
            double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY, sum = 0;
            int nonFinite = 0;
            for (double v : a.toDoubles()) {
                if (!Double.isFinite(v)) {
                    nonFinite++;
                    continue;
                }
                min = Math.min(min, v);
                max = Math.max(max, v);
                sum += v;
            }
            int n = a.numel() - nonFinite;
            out.printf("tensor      %-20s %s  range [%.6g, %.6g]  mean %.6g%s%n", name, a.describe(), n == 0 ? 0 : min, n == 0 ? 0 : max,
                    n == 0 ? 0 : sum / n, nonFinite > 0 ? "  NON-FINITE VALUES: " + nonFinite : "");
        }

        private static String fmt(double[] v) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < v.length; i++) sb.append(i > 0 ? ", " : "").append(String.format("%.4f", v[i]));
            return sb.append(']').toString();
        }

        private static String abbreviate(String s) {
            return s.length() <= 160 ? s : s.substring(0, 157) + "...";
        }
    }
}
