package io.checkpointd.cli;

import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.config.ConfigLoader;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --config FILE}, shared by every command that runs a daemon. Flags given beside it override it. */
final class ConfigOption {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "YAML configuration (see conf/checkpointd.yaml). Without it, built-in defaults apply.")
    Path file;

    CheckpointdConfig load() {
        return ConfigLoader.loadOrDefaults(file);
    }
}
