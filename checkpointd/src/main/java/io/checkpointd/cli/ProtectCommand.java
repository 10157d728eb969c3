package io.checkpointd.cli;

import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.config.DomainConfig;
import io.checkpointd.libvirt.LibvirtDriver;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "protect", mixinStandardHelpOptions = true,
        description = {"Start a libvirt domain and protect it with continuous checkpoints to a backup.",
                "The domain must be defined and shut off: QEMU connects to this daemon's network bridge and "
                        + "disk server when it starts (conf/libvirt/protected-domain.xml shows what its XML needs).",
                "Stopping protect (SIGTERM or SIGINT) stops the domain.",
                "Exit status 70: the guest could no longer be checkpointed (e.g. its QEMU died); it was stopped "
                        + "here and handed over to the backup, which resumes it from the last committed checkpoint."})
final class ProtectCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DOMAIN", description = "The libvirt domain's name (domain.name).")
    String domain;

    @Mixin
    ConfigOption configOption;

    @Mixin
    MetricsOptions metricsOptions;

    @Mixin
    ProtectionOptions protection;

    @Option(names = "--tap", paramLabel = "NAME", description = "Tap device for the guest's network (libvirt.tap).")
    String tap;

    @Option(names = "--disk-image", paramLabel = "FILE",
            description = "Raw image served to the domain's NBD disk (libvirt.disk-image).")
    Path diskImage;

    @Option(names = "--ready-file", paramLabel = "FILE",
            description = "Written once the domain runs under protection: QEMU's process id.")
    Path readyFile;

    @Override
    public Integer call() throws Exception {
        CheckpointdConfig config = configOption.load(this::applyOverrides);
        return PrimaryCommand.run(config, metricsOptions, null, readyFile, protection.summaryFile,
                daemon -> LibvirtDriver.qemuPid(daemon.guest()) + "\n");
    }

    CheckpointdConfig applyOverrides(CheckpointdConfig c) {
        c = protection.applyOverrides(metricsOptions.applyOverrides(c));
        c = c.withDomain(c.domain().withName(domain).withDriver(DomainConfig.LIBVIRT));
        if (tap != null) {
            c = c.withLibvirt(c.libvirt().withTap(tap));
        }
        if (diskImage != null) {
            c = c.withLibvirt(c.libvirt().withDiskImage(diskImage.toAbsolutePath()));
        }
        return c;
    }
}
