package io.checkpointd.libvirt;

import static org.assertj.core.api.Assertions.assertThat;

import io.checkpointd.config.LibvirtConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/** What a backup checks at HELLO so it never accepts a domain it could not restore. */
class LibvirtRestorerTest {
    private static final String DESCRIPTION = new LibvirtDescription(
            "<domain type='qemu'><name>web1</name></domain>", "52:54:00:00:00:01", "", 128L << 20, 0).toJson();

    private static String cannotRestore(LibvirtConfig config, String description) {
        return new LibvirtRestorer(config, null, new SimpleMeterRegistry()).cannotRestore(description);
    }

    @Test
    void aBackupWithoutATapSaysSo() {
        assertThat(cannotRestore(LibvirtConfig.defaults(), DESCRIPTION)).contains("libvirt.tap is not set here");
        assertThat(cannotRestore(LibvirtConfig.defaults().withTap("cpnosuch9"), DESCRIPTION))
                .contains("tap device 'cpnosuch9' (libvirt.tap) does not exist here");
    }

    @Test
    void anUnreadableDescriptionIsNamed() {
        assertThat(cannotRestore(LibvirtConfig.defaults().withTap("lo"), "{\"driver\":\"libvirt\"}"))
                .contains("not a libvirt domain description");
        String notXml = new LibvirtDescription("<domain", "52:54:00:00:00:01", "", 1, 0).toJson();
        assertThat(cannotRestore(LibvirtConfig.defaults().withTap("lo"), notXml)).contains("unreadable domain XML");
    }

    @Test
    void aDescriptionRoundTripsAndIsRecognised() {
        LibvirtDescription d = LibvirtDescription.parse(DESCRIPTION);
        assertThat(d.mac()).isEqualTo("52:54:00:00:00:01");
        assertThat(d.ramBytes()).isEqualTo(128L << 20);
        assertThat(LibvirtDescription.describes(DESCRIPTION)).isTrue();
        assertThat(LibvirtDescription.describes("{\"driver\":\"sim\"}")).isFalse();
        assertThat(LibvirtDescription.describes("not json")).isFalse();
    }
}
