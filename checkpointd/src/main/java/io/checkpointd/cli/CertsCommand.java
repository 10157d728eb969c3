package io.checkpointd.cli;

import io.checkpointd.replication.tls.CertificateAuthority;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code checkpointd certs init DIR --hosts a,b}: TLS material for labs and tests. */
@Command(name = "certs", mixinStandardHelpOptions = true,
        description = {"TLS material for the replication connection (mutual TLS 1.3).",
                "Production: bring your own PKI in the same layout, DIR/<host>/{ca.pem,cert.pem,key.pem}."},
        subcommands = {CertsCommand.Init.class, CommandLine.HelpCommand.class})
final class CertsCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a subcommand: init");
    }

    @Command(name = "init", mixinStandardHelpOptions = true,
            description = {"Make a throwaway CA and, per host, DIR/<host>/ca.pem, cert.pem (CN and DNS name = the host)",
                    "and key.pem (PKCS#8, mode 0600). For labs, tests and the demo; give each daemon its host's",
                    "folder with --tls-dir DIR/<host> (or replication.tls-dir)."})
    static final class Init implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "DIR", description = "Where the host folders go (created if absent).")
        Path dir;

        @Option(names = "--hosts", paramLabel = "HOST", split = ",", required = true,
                description = "The hosts to make certificates for, e.g. primary,backup.")
        List<String> hosts;

        @Override
        public Integer call() throws Exception {
            Files.createDirectories(dir);
            CertificateAuthority.create("checkpointd lab CA").writeHosts(dir, hosts);
            for (String host : hosts) {
                System.out.println(dir.resolve(host) + "/  (ca.pem cert.pem key.pem)  --tls-dir " + dir.resolve(host));
            }
            return 0;
        }
    }
}
