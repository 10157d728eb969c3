package io.checkpointd.libvirt;

import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.driver.Driver;
import io.checkpointd.driver.GuestAttachment;
import io.checkpointd.driver.GuestRestorer;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.EventLoop;
import java.io.IOException;

/**
 * The {@code libvirt} driver: a QEMU domain defined in libvirt, its RAM a shared file, its NIC and NBD disk
 * served by the daemon (see docs/qemu-recipe.md). {@link LibvirtAttachment} is its primary side,
 * {@link LibvirtRestorer} its backup side.
 */
public final class LibvirtDriver implements Driver {
    public static final String NAME = "libvirt";

    private final CheckpointdConfig config;

    public LibvirtDriver(CheckpointdConfig config) {
        this.config = config;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean mirrorsDisk() {
        return config.libvirt().hasDisk();
    }

    @Override
    public GuestAttachment attach(Attach attach) throws IOException {
        return LibvirtAttachment.start(config, attach);
    }

    @Override
    public GuestRestorer restorer(EventLoop guestNetwork, MeterRegistry registry) {
        return new LibvirtRestorer(config.libvirt(), guestNetwork, registry);
    }

    /** The QEMU process of a guest this driver attached (for the command line's pid file). */
    public static long qemuPid(GuestAttachment attachment) {
        return ((LibvirtAttachment) attachment).qemuPid();
    }
}
