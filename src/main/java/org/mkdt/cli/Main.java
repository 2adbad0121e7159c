package org.mkdt.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of ./mkdt: parses, validates and hands over to the engine; nothing else. */
@Command(name = "mkdt", mixinStandardHelpOptions = true, version = "mkdt 0.1.0",
        description = "MKDT dataset distillation on a pure-JVM autodiff engine.",
        subcommands = {TeacherCommand.class, ExpertsCommand.class, InitCommand.class, DistillCommand.class, EvalCommand.class,
            PipelineCommand.class, DemoCommand.class, CheckCommand.class, BenchCommand.class, DataCommand.class, InfoCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        try {
            org.mkdt.backend.cpu.CpuThreads.configured();
        } catch (IllegalArgumentException e) {
            System.err.println("mkdt: error: " + e.getMessage());
            System.exit(2);
        }
        try {
            System.exit(commandLine().execute(args));
        } catch (OutOfMemoryError e) {
            // Not an input error, but it deserves the same one line instead of a JVM stack trace.
            System.err.printf("mkdt: error: out of memory (Java heap of %d MiB): use a smaller batch, or a larger heap via JAVA_OPTS=-Xmx...%n",
                    Runtime.getRuntime().maxMemory() >> 20);
            System.exit(1);
        }
    }

    /** The configured command line (also used by tests). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            // One line naming the problem, non-zero exit; the stack trace only with MKDT_DEBUG set.
            line.getErr().println("mkdt: error: " + ex.getMessage());
            if (System.getenv("MKDT_DEBUG") != null) ex.printStackTrace(line.getErr());
            return 1;
        });
        // A usage error is the error and where to read more, not the whole usage (32 lines).
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine bad = ex.getCommandLine();
            bad.getErr().println("mkdt: error: " + org.mkdt.io.BadFileException.oneLine(ex.getMessage()));
            bad.getErr().println("Try '" + bad.getCommandSpec().qualifiedName() + " --help' for the options.");
            return bad.getCommandSpec().exitCodeOnInvalidInput();
        });
        // A command's run locks are released when it ends (tests and the pipeline run many in one JVM).
        cl.setExecutionStrategy(parsed -> {
            try {
                return new CommandLine.RunLast().execute(parsed);
            } finally {
                org.mkdt.run.RunDir.releaseLocks();
            }
        });
        // --help and --version after every command, not only after 'mkdt'.
        addHelp(cl);
        return cl;
    }

    private static void addHelp(CommandLine cl) {
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (sub.getCommandSpec().optionsMap().get("--help") == null) {
                sub.getCommandSpec().addOption(CommandLine.Model.OptionSpec.builder("-h", "--help").usageHelp(true)
                        .description("Show this help message and exit.").build());
            }
            addHelp(sub);
        }
    }
}
