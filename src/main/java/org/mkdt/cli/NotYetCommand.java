package org.mkdt.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** The later stages' names, so the command list is complete; each says it has not landed yet. */
final class NotYetCommand {
    private NotYetCommand() {}

    private abstract static class Base implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            spec.commandLine().getErr().println("mkdt " + spec.name() + ": not yet available (arrives with the distillation and evaluation issue)");
            return 2;
        }
    }

    @Command(name = "distill", description = "Stage 4: trajectory matching (not yet available).")
    static final class Distill extends Base {}

    @Command(name = "eval", description = "Evaluation: pre-train on a distilled set, linear probe (not yet available).")
    static final class Eval extends Base {}

    @Command(name = "pipeline", description = "All stages for a preset (not yet available).")
    static final class Pipeline extends Base {}

    @Command(name = "demo", description = "The Fashion-MNIST demo (not yet available).")
    static final class Demo extends Base {}
}
