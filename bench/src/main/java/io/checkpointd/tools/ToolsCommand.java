package io.checkpointd.tools;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code checkpointd tools ...}: programs for testing a protected guest from outside, not part of the daemon. */
@Command(name = "tools", mixinStandardHelpOptions = true,
        description = {"Tools for end-to-end tests of a protected guest (kv-client, guest-log, e2e-failover).",
                "A client of its key-value service, and a checker of the log it leaves on disk."},
        subcommands = {KvClientCommand.class, GuestLogCommand.class, E2eFailoverCommand.class,
                CommandLine.HelpCommand.class})
final class ToolsCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a tool: kv-client or guest-log");
    }
}
