package io.checkpointd.tools;

import io.checkpointd.cli.Main;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of the harness: {@code checkpointd demo} and {@code checkpointd tools ...}, which
 * {@code bin/checkpointd} runs from here rather than from the daemon ({@code io.checkpointd.cli.Main}). The
 * daemon jar is on this class path, so the demo and the scenarios start their daemons from it.
 */
@Command(name = "checkpointd", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"The harness around the checkpointd daemon: the demo and the tools for end-to-end tests.",
                "The daemon's own commands (protect, primary, backup, status) are in 'bin/checkpointd --help'."},
        subcommands = {DemoCommand.class, ToolsCommand.class, CommandLine.HelpCommand.class})
public final class ToolsMain {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        return Main.commandLine(new ToolsMain());
    }
}
