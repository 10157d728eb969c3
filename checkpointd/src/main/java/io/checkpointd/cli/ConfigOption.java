package io.checkpointd.cli;

import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.config.ConfigException;
import io.checkpointd.config.ConfigLoader;
import io.checkpointd.config.ConfigValidator;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import picocli.CommandLine.Option;

/** {@code --config FILE}, shared by every command that runs a daemon. Flags given beside it override it. */
public final class ConfigOption {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "YAML configuration (see conf/checkpointd.yaml). Without it, built-in defaults apply.")
    Path file;

    /** The file given, or null for the built-in defaults. */
    public Path file() {
        return file;
    }

    /** The file's config (or the defaults) with {@code overrides} applied, validated again as a whole. */
    public CheckpointdConfig load(UnaryOperator<CheckpointdConfig> overrides) throws ConfigException {
        CheckpointdConfig loaded = ConfigLoader.loadOrDefaults(file);
        return ConfigValidator.validate(overrides.apply(loaded), "command line");
    }
}
