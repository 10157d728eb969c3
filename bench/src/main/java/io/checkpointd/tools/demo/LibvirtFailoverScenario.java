package io.checkpointd.tools.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.checkpointd.testing.HostCommand;
import io.checkpointd.testing.LibvirtHost;
import io.checkpointd.util.FileTrees;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import io.checkpointd.backup.ReplicaStore;
import io.checkpointd.replication.tls.CertificateAuthority;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end-to-end failover of a real libvirt/QEMU guest, on one host standing for two: a backup daemon and
 * a {@code protect} daemon with the guest image (guest/), a LAN joining their taps and a client in its own
 * network namespace updating the guest's key-value service; then the primary daemon and its QEMU are
 * killed with SIGKILL, and the scenario checks that the backup's restored guest answers on the same
 * address, that no acknowledged update was lost, and that the guest's disk on the backup holds its log
 * exactly: every acknowledged line, nothing after the log's end.
 *
 * <p>Run by {@code scripts/e2e-failover} (for people) and LibvirtFailoverTest (for CI). Needs root, KVM or
 * TCG QEMU, libvirt (started by {@code scripts/libvirt-up}) and the image ({@code guest/build-image}).
 */
public final class LibvirtFailoverScenario {
    private static final Logger LOG = LoggerFactory.getLogger(LibvirtFailoverScenario.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String GUEST_IP = "10.77.0.2";
    private static final String CLIENT_CIDR = "10.77.0.1/24";
    private static final String MAC = "52:54:00:77:00:02";
    private static final long DISK_BYTES = 64L << 20;

    /** What dies: the whole primary host (its daemon and QEMU), or only the guest's QEMU process. */
    public enum Kill { HOST, QEMU }

    /**
     * What to run: guest size, epoch, how long the client runs and when (after it starts) the kill comes,
     * the failure detector's dead-after, and what is killed.
     */
    public record Settings(Path repo, Path workDir, int ramMib, int epochMs, int durationS, int killAtS,
                           int deadAfterMs, Kill kill, long maxFailoverMs, boolean warmStandby) {
        /** The bound CI asserts on kill to first answer at 1 s detection. */
        public static final long DEFAULT_MAX_FAILOVER_MS = 3000;

        public Settings(Path repo, Path workDir, int ramMib, int epochMs, int durationS, int killAtS,
                        int deadAfterMs, Kill kill) {
            this(repo, workDir, ramMib, epochMs, durationS, killAtS, deadAfterMs, kill, DEFAULT_MAX_FAILOVER_MS, true);
        }
    }

    private final Settings settings;
    private final String tag = Integer.toString(ThreadLocalRandom.current().nextInt(1 << 20), 36);
    private final String name = "cpt-e2e-" + tag;
    private final String restoredName = name + "-r";
    // QEMU runs as libvirt-qemu and opens the kernel and initramfs itself, so they must sit where that user
    // can reach them: a repository clone (or test directory) may be private to root.
    private final Path bootDir = Path.of("/var/lib/libvirt/boot", name);
    private final List<String> problems = new ArrayList<>();

    public LibvirtFailoverScenario(Settings settings) {
        this.settings = settings;
    }

    /** Runs the whole scenario; the report's {@code passed} says whether every check held. */
    public ObjectNode run() throws Exception {
        Path work = Files.createDirectories(settings.workDir());
        ObjectNode report = JSON.createObjectNode();
        report.put("ram_mib", settings.ramMib()).put("epoch_ms", settings.epochMs())
                .put("dead_after_ms", settings.deadAfterMs()).put("kill", settings.kill().name().toLowerCase())
                .put("warm_standby", settings.warmStandby());
        LibvirtHost host = LibvirtHost.up(settings.repo(), work.resolve("setup.log"));
        try {
            HostCommand.runLogged(work.resolve("setup.log"), settings.repo().resolve("guest/build-image").toString());
            copyImageWhereQemuReadsIt();
            runScenario(work, report);
        } finally {
            // The killed primary could not remove its sockets' directory.
            FileTrees.delete(Path.of("/run/checkpointd", name));
            FileTrees.delete(bootDir);
            host.close();
        }
        report.put("passed", problems.isEmpty());
        report.set("problems", JSON.valueToTree(problems));
        return report;
    }

    private void runScenario(Path work, ObjectNode report) throws Exception {
        try (ScenarioLan lan = new ScenarioLan(tag, CLIENT_CIDR);
             Domains domains = new Domains(List.of(name, restoredName))) {
            Path image = work.resolve("disk.img");
            try (var file = java.nio.channels.FileChannel.open(image, java.nio.file.StandardOpenOption.CREATE_NEW,
                    java.nio.file.StandardOpenOption.WRITE)) {
                file.truncate(DISK_BYTES);
                file.write(java.nio.ByteBuffer.wrap(new byte[1]), DISK_BYTES - 1);
            }
            // In the boot directory: a backup starts a peer's definition only with files in its own directories.
            Path console = bootDir.resolve("console.log");
            int netPort = freePort();
            domains.define(domainXml(netPort, console));
            Path backupDir = work.resolve("backup");
            writeConfig(work.resolve("backup.yaml"), "");
            // The replication connection is mutual TLS, as an operator runs it: a lab CA made for this run.
            Path tls = work.resolve("tls");
            CertificateAuthority.create("e2e lab CA").writeHosts(tls, List.of("primary", "backup"));
            writeConfig(work.resolve("primary.yaml"), "  guest-ipv4: " + GUEST_IP + "\n");
            try (ChildProcess backup = ChildProcess.start("backup", work.resolve("backup.log"), List.of("backup",
                    "--config", work.resolve("backup.yaml").toString(), "--listen", "127.0.0.1:0",
                    "--dir", backupDir.toString(), "--tap", lan.backupTap(), "--restored-name", restoredName,
                    "--tls-dir", tls.resolve("backup").toString(), "--allow", name + "=primary",
                    "--ready-file", work.resolve("backup.ready").toString(),
                    "--summary-file", work.resolve("backup.json").toString()))) {
                String backupPort = backup.awaitFile(work.resolve("backup.ready"), TimeUnit.SECONDS.toNanos(60));
                try (ChildProcess primary = ChildProcess.start("primary", work.resolve("primary.log"), List.of(
                        "protect", name, "--config", work.resolve("primary.yaml").toString(),
                        "--backup", "127.0.0.1:" + backupPort, "--epoch", settings.epochMs() + "ms",
                        "--tap", lan.primaryTap(), "--disk-image", image.toString(),
                        "--tls-dir", tls.resolve("primary").toString(),
                        "--ready-file", work.resolve("primary.ready").toString(),
                        "--summary-file", work.resolve("primary.json").toString()))) {
                    long qemuPid = Long.parseLong(primary.awaitFile(work.resolve("primary.ready"),
                            TimeUnit.SECONDS.toNanos(120)));
                    awaitGuestService(console, primary);
                    awaitProtection(report, backupDir, primary);
                    runClientAndKill(report, lan, work, primary, qemuPid);
                }
                ObjectNode primarySummary = readJson(work.resolve("primary.json"));
                report.set("primary", primarySummary);
                JsonNode failover = awaitFailover(backupDir.resolve(name).resolve("failover.json"), backup);
                report.set("backup_failover", failover);
                backup.stop(TimeUnit.SECONDS.toNanos(30));
            }
            checkDisk(report, backupDir.resolve(name).resolve("disk").resolve("disk.replica"),
                    work.resolve("acked.txt"), work);
        }
    }

    private void copyImageWhereQemuReadsIt() throws IOException {
        Files.createDirectories(bootDir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x")));
        for (String file : List.of("vmlinuz", "initramfs.cpio.gz")) {
            Files.copy(settings.repo().resolve("guest/build").resolve(file), bootDir.resolve(file),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private String domainXml(int netPort, Path console) throws IOException {
        Path guest = bootDir;
        return Files.readString(settings.repo().resolve("conf/libvirt/protected-domain.xml"))
                .replace("@NAME@", name)
                .replace("@MEMORY_MIB@", Integer.toString(settings.ramMib()))
                .replace("@KERNEL@", guest.resolve("vmlinuz").toAbsolutePath().toString())
                .replace("@INITRD@", guest.resolve("initramfs.cpio.gz").toAbsolutePath().toString())
                .replace("@GUEST_IP@", GUEST_IP + "/24")
                .replace("@MAC@", MAC)
                .replace("@NET_PORT@", Integer.toString(netPort))
                .replace("@NBD_SOCKET@", "/run/checkpointd/" + name + "/disk.sock")
                .replace("@NBD_EXPORT@", "vda")
                .replace("@CONSOLE_LOG@", console.toAbsolutePath().toString());
    }

    private void writeConfig(Path file, String libvirtExtra) throws IOException {
        // Heartbeats ten per dead-after, suspicion at 30% of it: the proportions of the defaults.
        int deadMs = settings.deadAfterMs();
        Files.writeString(file, """
                failure-detector:
                  heartbeat-interval: %dms
                  suspect-after: %dms
                  dead-after: %dms
                """.formatted(Math.max(10, deadMs / 10), Math.max(20, deadMs * 3 / 10), deadMs) + """
                metrics:
                  enabled: false
                libvirt:
                  run-dir: /run/checkpointd
                  warm-standby: %s
                """.formatted(settings.warmStandby()) + libvirtExtra);
    }

    /**
     * The scenario is about a protected guest: the load and the kill begin once the backup has committed the
     * first (full) checkpoint, however long the live pre-copy of RAM and disk takes here.
     */
    private void awaitProtection(ObjectNode report, Path backupDir, ChildProcess primary)
            throws IOException, InterruptedException {
        long startNs = System.nanoTime();
        long deadlineNs = startNs + TimeUnit.SECONDS.toNanos(180);
        while (ReplicaStore.committedEpoch(backupDir, name) < 1) {
            if (System.nanoTime() - deadlineNs > 0 || !primary.isAlive()) {
                throw new IOException("the backup committed no checkpoint within 180 s of the guest's start");
            }
            Thread.sleep(100);
        }
        report.put("protected_after_guest_start_ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs));
    }

    /** The guest's /init starts the service last; its line on the serial console says it listens. */
    private static void awaitGuestService(Path console, ChildProcess primary) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!(Files.exists(console) && Files.readString(console).contains("listening on udp port"))) {
            if (!primary.isAlive() || System.nanoTime() - deadline > 0) {
                throw new IOException("the guest's service did not start; console:\n"
                        + (Files.exists(console) ? HostCommand.tail(Files.readString(console)) : "(none)") + "\nprimary:\n"
                        + primary.logTail());
            }
            Thread.sleep(100);
        }
    }

    private void runClientAndKill(ObjectNode report, ScenarioLan lan, Path work, ChildProcess primary, long qemuPid)
            throws IOException, InterruptedException {
        Path clientLog = work.resolve("client.log");
        try (ChildProcess client = ChildProcess.startWrapped("client", clientLog,
                lan.inClientNamespace(), List.of("tools", "kv-client", "--target", GUEST_IP + ":7000",
                        "--duration", settings.durationS() + "s", "--json",
                        "--acked-out", work.resolve("acked.txt").toString()))) {
            Thread.sleep(TimeUnit.SECONDS.toMillis(settings.killAtS()));
            // Whether the failover will find the domain waiting (libvirt.warm-standby) or must create it.
            report.put("standby_ready_at_kill", Files.readString(work.resolve("backup.log"))
                    .contains("warm standby ready"));
            // What the primary's status showed: the backup's STANDBY frame, as the primary logs it.
            report.put("primary_saw_standby_ready", Files.readString(work.resolve("primary.log"))
                    .contains("standby ready (a failover only loads the last checkpoint)"));
            long killMs = System.currentTimeMillis();
            ProcessHandle.of(qemuPid).ifPresent(ProcessHandle::destroyForcibly);
            if (settings.kill() == Kill.HOST) {
                primary.kill();
                LOG.info("killed the primary daemon and QEMU (pid {})", qemuPid);
            } else {
                // The daemon must notice its guest is gone and hand over to the backup by itself.
                int primaryExit = primary.awaitExit(TimeUnit.SECONDS.toNanos(30));
                report.put("primary_exit", primaryExit);
                LOG.info("killed QEMU (pid {}); the primary daemon exited with status {}", qemuPid, primaryExit);
                if (primaryExit != 70) {
                    problems.add("the primary daemon did not hand over after its QEMU died (exit " + primaryExit
                            + "):\n" + primary.logTail());
                }
            }
            int status = client.awaitExit(TimeUnit.SECONDS.toNanos(settings.durationS() + 120L));
            JsonNode result = jsonIn(clientLog);
            report.set("client", result);
            report.put("client_exit", status);
            long downtimeMs = firstAnswerAfter(result, killMs) - killMs;
            report.put("kill_to_first_answer_ms", downtimeMs);
            if (status != 0) {
                problems.add("client exited with status " + status + ": " + client.logTail());
            }
            if (result.path("lost_acked_writes").asLong(-1) != 0) {
                problems.add("acknowledged writes lost: " + result.path("lost_acked_writes"));
            }
            report.put("max_failover_ms", settings.maxFailoverMs());
            if (downtimeMs < 0) {
                problems.add("no answer from the guest after the kill");
            } else if (downtimeMs > settings.maxFailoverMs()) {
                problems.add("the guest answered " + downtimeMs + " ms after the kill, more than the bound of "
                        + settings.maxFailoverMs() + " ms (--max-failover-ms)");
            }
        }
    }

    /**
     * When the client was answered again after {@code killMs}: the end of the longest silent stretch that
     * ends after the kill. Replies the dying primary had already released may still arrive just after the
     * kill, ending an ordinary short stretch; the outage is the longest one after that. Not simply the end
     * of the longest stretch of the run, which may be an earlier stall (a 512 MiB guest's first pre-copy
     * stalled answers for 1.3 s, longer than a 1.1 s failover). {@code killMs - 1} when none came.
     */
    static long firstAnswerAfter(JsonNode client, long killMs) {
        long bestEndMs = -1;
        long bestLengthMs = -1;
        for (JsonNode gap : client.path("long_gaps")) {
            long endMs = gap.path("end_ms").asLong();
            long lengthMs = endMs - gap.path("start_ms").asLong();
            if (endMs >= killMs && lengthMs > bestLengthMs) {
                bestEndMs = endMs;
                bestLengthMs = lengthMs;
            }
        }
        if (bestEndMs >= 0) {
            return bestEndMs;
        }
        // The longest gap may still be open (the run ended without an answer after it): none came.
        long end = client.path("gap_end_ms").asLong(-1);
        return end >= killMs && client.path("gap_start_ms").asLong() <= killMs ? end : killMs - 1;
    }

    private JsonNode awaitFailover(Path failoverJson, ChildProcess backup) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(failoverJson)) {
            if (System.nanoTime() - deadline > 0) {
                problems.add("the backup wrote no failover.json:\n" + backup.logTail());
                return JSON.nullNode();
            }
            Thread.sleep(100);
        }
        return JSON.readTree(failoverJson.toFile());
    }

    /** The disk replica the restored guest ran on, checked by {@code tools guest-log} against the acked values. */
    private void checkDisk(ObjectNode report, Path replica, Path acked, Path work)
            throws IOException, InterruptedException {
        Path log = work.resolve("guest-log.log");
        try (ChildProcess check = ChildProcess.start("guest-log", log, List.of("tools", "guest-log",
                replica.toString(), "--acked", acked.toString(), "--json"))) {
            int status = check.awaitExit(TimeUnit.MINUTES.toNanos(2));
            JsonNode result = jsonIn(log);
            report.set("disk_log", result);
            if (status != 0) {
                problems.add("guest-log found the disk log wrong (status " + status + "): "
                        + result.path("violation_examples"));
            }
        }
    }

    /** The JSON object a tool printed (its log holds nothing else unless it failed). */
    private static JsonNode jsonIn(Path log) throws IOException {
        String text = Files.readString(log);
        int start = text.indexOf('{');
        int end = text.lastIndexOf('}');
        if (start < 0 || end < start) {
            throw new IOException("no JSON report in " + log + ":\n" + HostCommand.tail(text));
        }
        return JSON.readTree(text.substring(start, end + 1));
    }

    private static ObjectNode readJson(Path file) throws IOException {
        return Files.exists(file) ? (ObjectNode) JSON.readTree(file.toFile()) : JSON.createObjectNode();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
