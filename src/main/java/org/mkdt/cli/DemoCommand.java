package org.mkdt.cli;

import java.util.concurrent.Callable;
import org.mkdt.data.Datasets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The README's first command: the whole pipeline with the demo preset on Fashion-MNIST (Debian's
 * dataset-fashion-mnist), sized to finish within 15 minutes on a 2-core machine, CPU.
 */
@Command(name = "demo", description = "MKDT end to end on Fashion-MNIST with the demo preset (about 11 minutes on 2 CPU cores): "
        + "all four stages, the evaluation, and the results table. Same options as pipeline; --preset defaults to demo.")
public final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    RunOptions options;

    @Override
    public Integer call() throws Exception {
        if (options.config == null && options.overrides.isEmpty() && "demo".equals(options.preset)) {
            Datasets.load("fashion-mnist", null); // one clear line with the install command where it is missing
        }
        spec.commandLine().getOut().println("mkdt demo: MKDT on Fashion-MNIST, preset '" + options.preset + "', into " + options.runsDir.resolve(options.load().name()));
        return PipelineCommand.runAll(spec, options);
    }
}
