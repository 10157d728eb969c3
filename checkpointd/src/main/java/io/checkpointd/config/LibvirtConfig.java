package io.checkpointd.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The {@code libvirt} driver: how the daemon reaches libvirt and the host resources it puts between the
 * guest and the world (see conf/libvirt/ and docs/qemu-recipe.md).
 *
 * @param uri          the libvirt connection, e.g. {@code qemu:///system}
 * @param tap          the tap device the guest's frames leave and enter by (on the backup: the restored
 *                     guest's); empty means none: the guest's NIC then has no outside network
 * @param diskImage    on the primary, the raw image the guest's NBD disk is served from; empty when the
 *                     domain has no NBD disk. The backup serves its disk replica instead.
 * @param guestIpv4    the guest's IPv4 address, announced by gratuitous ARP after a failover; empty
 *                     announces nothing (the guest's own traffic teaches the switches, later)
 * @param qemuUser     the user QEMU runs as: the sockets QEMU connects to (NBD, device state) are given
 *                     to it
 * @param runDir       where the daemon puts those sockets; QEMU must be able to reach it
 * @param restoredName the domain's name when restored on the backup; empty keeps the primary's name (two
 *                     hosts). On one host (tests) it must differ, as libvirt allows one domain per name.
 * @param warmStandby  on the backup: create the domain, paused and waiting, as soon as its primary connects,
 *                     so a failover does not spend its time creating it
 */
public record LibvirtConfig(String uri, String tap, Path diskImage, String guestIpv4, String qemuUser, Path runDir,
                            String restoredName, boolean warmStandby) {

    /** Linux interface names are at most 15 bytes (IFNAMSIZ - 1). */
    static final int MAX_TAP_CHARS = 15;

    public LibvirtConfig {
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(tap, "tap");
        Objects.requireNonNull(guestIpv4, "guestIpv4");
        Objects.requireNonNull(qemuUser, "qemuUser");
        Objects.requireNonNull(runDir, "runDir");
        Objects.requireNonNull(restoredName, "restoredName");
    }

    public static LibvirtConfig defaults() {
        return new LibvirtConfig("qemu:///system", "", null, "", "libvirt-qemu", Path.of("/run/checkpointd"), "",
                true);
    }

    public boolean hasDisk() {
        return diskImage != null;
    }

    public LibvirtConfig withTap(String tap) {
        return new LibvirtConfig(uri, tap, diskImage, guestIpv4, qemuUser, runDir, restoredName, warmStandby);
    }

    public LibvirtConfig withDiskImage(Path diskImage) {
        return new LibvirtConfig(uri, tap, diskImage, guestIpv4, qemuUser, runDir, restoredName, warmStandby);
    }

    public LibvirtConfig withRestoredName(String restoredName) {
        return new LibvirtConfig(uri, tap, diskImage, guestIpv4, qemuUser, runDir, restoredName, warmStandby);
    }

    public LibvirtConfig withWarmStandby(boolean warmStandby) {
        return new LibvirtConfig(uri, tap, diskImage, guestIpv4, qemuUser, runDir, restoredName, warmStandby);
    }
}
