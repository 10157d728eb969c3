package io.checkpointd.libvirt;

import static org.assertj.core.api.Assertions.assertThat;

import io.checkpointd.config.LibvirtConfig;
import io.checkpointd.replication.wire.GuestSpec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/** What a backup checks at HELLO so it never accepts a domain it could not restore. */
class LibvirtRestorerTest {
    private static final String DESCRIPTION = new LibvirtDescription(
            "<domain type='qemu'><name>web1</name></domain>", "52:54:00:00:00:01", "", 128L << 20).toJson();

    private static String cannotRestore(LibvirtConfig config, String description) {
        return new LibvirtRestorer(config, null, new SimpleMeterRegistry())
                .cannotRestore(new GuestSpec(LibvirtDriver.NAME, 128L << 20, 4096, 0, description));
    }

    @Test
    void aBackupWithoutATapSaysSo() {
        assertThat(cannotRestore(LibvirtConfig.defaults(), DESCRIPTION)).contains("libvirt.tap is not set here");
        assertThat(cannotRestore(LibvirtConfig.defaults().withTap("cpnosuch9"), DESCRIPTION))
                .contains("tap device 'cpnosuch9' (libvirt.tap) does not exist here");
    }

    @Test
    void anUnreadableDescriptionIsNamed() {
        assertThat(cannotRestore(LibvirtConfig.defaults().withTap("lo"), "{}"))
                .contains("not a libvirt domain description");
        String notXml = new LibvirtDescription("<domain", "52:54:00:00:00:01", "", 1).toJson();
        assertThat(cannotRestore(LibvirtConfig.defaults().withTap("lo"), notXml)).contains("unreadable domain XML");
    }

    @Test
    void aDescriptionRoundTrips() {
        LibvirtDescription d = LibvirtDescription.parse(DESCRIPTION);
        assertThat(d.mac()).isEqualTo("52:54:00:00:00:01");
        assertThat(d.ramBytes()).isEqualTo(128L << 20);
        assertThat(LibvirtDescription.parse(d.toJson())).isEqualTo(d);
    }

    @Test
    void aSimGuestsDescriptionIsNotTakenForALibvirtOne() {
        String sim = "{\"sim\":{},\"serviceHost\":\"127.0.0.1\",\"servicePort\":7000}";
        assertThat(cannotRestore(LibvirtConfig.defaults().withTap("lo"), sim)).contains("libvirt domain description");
    }
}
