package io.checkpointd.testing;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** One run of a command line in this JVM (the daemon's or the harness's): exit status and what it printed. */
public record ToolRun(int status, String out, String err) {
    public static ToolRun of(CommandLine cli, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int status = cli.execute(args);
        return new ToolRun(status, out.toString(), err.toString());
    }
}
