package io.checkpointd.tools;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of the harness: {@code checkpointd demo} and {@code checkpointd tools ...}, which
 * {@code bin/checkpointd} runs from here rather than from the daemon ({@code io.checkpointd.cli.Main}). The
 * daemon jar is on this class path, so the demo and the scenarios start their daemons from it.
 */
@Command(name = "checkpointd", mixinStandardHelpOptions = true, versionProvider = ToolsMain.Version.class,
        description = {"The harness around the checkpointd daemon: the demo and the tools for end-to-end tests.",
                "The daemon's own commands (protect, primary, backup, status) are in 'bin/checkpointd --help'."},
        subcommands = {DemoCommand.class, ToolsCommand.class, CommandLine.HelpCommand.class})
public final class ToolsMain {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new ToolsMain());
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            // The qualified name, so a tool's errors read "checkpointd tools kv-client: ...".
            commandLine.getErr().println(commandLine.getCommandSpec().qualifiedName() + ": " + messageOf(ex));
            return 1;
        });
        return cli;
    }

    private static String messageOf(Throwable ex) {
        String message = ex.getMessage();
        return message == null ? ex.toString() : message;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = ToolsMain.class.getPackage().getImplementationVersion();
            return new String[] {"checkpointd " + (v == null ? "(development build)" : v)};
        }
    }
}
