package io.checkpointd.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point: {@code checkpointd <command>}. Each command parses, loads config, runs, and exits. */
@Command(name = "checkpointd", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {
                "Continuous checkpointing (Remus-style) high availability for virtual machines.",
                "Every epoch the primary pauses the guest, copies its dirty pages, resumes it, and ships the",
                "checkpoint to a backup; guest output is held until the backup has acknowledged it.",
                "bin/checkpointd also runs 'demo' and 'tools' (kv-client, guest-log, e2e-failover), from bench/."},
        subcommands = {ProtectCommand.class, PrimaryCommand.class, BackupCommand.class, StatusCommand.class,
                CertsCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        return commandLine(new Main());
    }

    /**
     * A command line for {@code root} that reports a failed command as one line naming it, not a stack trace;
     * the harness's {@code ToolsMain} uses it too.
     */
    public static CommandLine commandLine(Object root) {
        CommandLine cli = new CommandLine(root);
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            // The qualified name, so a subcommand's errors read "checkpointd primary: ...".
            commandLine.getErr().println(commandLine.getCommandSpec().qualifiedName() + ": " + messageOf(ex));
            return 1;
        });
        return cli;
    }

    private static String messageOf(Throwable ex) {
        String message = ex.getMessage();
        return message == null ? ex.toString() : message;
    }

    /** The version from the jar's manifest; the harness names it on its commands too. */
    public static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"checkpointd " + (v == null ? "(development build)" : v)};
        }
    }
}
