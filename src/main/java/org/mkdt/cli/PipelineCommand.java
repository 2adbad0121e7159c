package org.mkdt.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.mkdt.config.RunConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * All four stages and the evaluation for one configuration, in order, in this process: teacher,
 * experts (finished ones kept), init, distill (resumed when a checkpoint exists), eval. Stops at
 * the first stage that fails, with that stage's one-line error.
 */
@Command(name = "pipeline", description = "Run teacher, experts, init, distill and eval for a preset (--preset NAME) and print the results table.")
public class PipelineCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    RunOptions options;

    @Override
    public Integer call() throws Exception {
        return runAll(spec, options, List.of());
    }

    /** All stages; {@code evalArgs} are added to the eval stage's arguments (the demo's label fractions). */
    static int runAll(CommandSpec spec, RunOptions options, List<String> evalArgs) throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        RunConfig c = options.load(); // fails early, in one line, on a bad configuration
        long t0 = System.nanoTime();
        List<String> common = new ArrayList<>(List.of("--preset", options.preset, "--runs-dir", options.runsDir.toString()));
        if (options.config != null) common.addAll(List.of("--config", options.config.toString()));
        if (options.device != null) common.addAll(List.of("--device", options.device));
        for (String s : options.overrides) common.addAll(List.of("--set", s));
        boolean resume = Files.exists(options.runsDir.resolve(c.name()).resolve("distill").resolve("checkpoint.safetensors"));
        // The teacher's quick probe is skipped: eval measures the teacher beside random init, over seeds.
        String[][] stages = {{"teacher", "--no-probe"}, {"experts"}, {"init"}, resume ? new String[] {"distill", "--resume"} : new String[] {"distill"}, {"eval"}};
        for (String[] stage : stages) {
            long ts = System.nanoTime();
            out.printf("%n== %s ==%n", String.join(" ", stage));
            out.flush();
            List<String> args = new ArrayList<>(List.of(stage));
            args.addAll(common);
            if (stage[0].equals("eval")) args.addAll(evalArgs);
            CommandLine cl = Main.commandLine();
            cl.setOut(spec.commandLine().getOut());
            cl.setErr(spec.commandLine().getErr());
            int code = cl.execute(args.toArray(String[]::new));
            if (code != 0) {
                spec.commandLine().getErr().printf("mkdt: %s failed (exit %d); later stages not run%n", stage[0], code);
                return code;
            }
            out.printf("(%s: %.0f s)%n", stage[0], (System.nanoTime() - ts) / 1e9);
        }
        out.printf("%npipeline: all stages done in %.1f min; results in %s%n", (System.nanoTime() - t0) / 60e9,
                options.runsDir.resolve(c.name()).resolve("eval"));
        return 0;
    }
}
