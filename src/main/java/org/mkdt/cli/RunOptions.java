package org.mkdt.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.mkdt.backend.Devices;
import org.mkdt.config.ConfigLoader;
import org.mkdt.config.RunConfig;
import picocli.CommandLine.Option;

/** The options every stage command shares: which configuration, and where runs go. */
final class RunOptions {
    @Option(names = "--preset", description = "Base configuration: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).", completionCandidates = Presets.class)
    String preset = "demo";

    @Option(names = "--config", description = "A JSON or YAML file laid over the preset (only the keys it names change).")
    Path config;

    @Option(names = "--set", description = "Override one key, e.g. --set experts.count=8 (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--runs-dir", description = "Where runs/NAME/ folders go (default: ${DEFAULT-VALUE}).")
    Path runsDir = Path.of("runs");

    @Option(names = "--device", description = "cpu, cuda or auto (overrides the configuration's device).")
    String device;

    RunConfig load() {
        List<String> all = new ArrayList<>(overrides);
        if (device != null) all.add("device=\"" + device + "\"");
        return ConfigLoader.load(preset, config, all);
    }

    /** The backend a run uses, with the one line that says which and why. */
    static Devices.Selection backend(RunConfig c) {
        return Devices.select(c.device());
    }

    static final class Presets extends ArrayList<String> {
        private static final long serialVersionUID = 1L;

        Presets() {
            super(ConfigLoader.PRESETS);
        }
    }
}
