package io.checkpointd.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.checkpointd.driver.GuestRestorer;
import io.checkpointd.replication.wire.GuestSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The backup asks each guest's own driver, and refuses a driver it does not have by name. */
class DriverRestorersTest {
    private final List<String> asked = new ArrayList<>();

    private GuestRestorer recording(String driver) {
        return new GuestRestorer() {
            @Override
            public AutoCloseable restore(String domain, GuestSpec guest, java.nio.file.Path replica, byte[] state,
                                         java.nio.file.Path disk, java.nio.file.Path ramInPlace) {
                asked.add(driver + " restores " + domain);
                return () -> { };
            }

            @Override
            public String cannotRestore(GuestSpec guest) {
                asked.add(driver + " checks");
                return null;
            }
        };
    }

    @Test
    void eachGuestGoesToItsOwnDriver() throws Exception {
        DriverRestorers restorers = new DriverRestorers(Map.of("sim", recording("sim"), "libvirt", recording("libvirt")));
        assertThat(restorers.cannotRestore(new GuestSpec("libvirt", 4096, 4096, 0, "{}"))).isNull();
        restorers.restore("web1", new GuestSpec("sim", 4096, 4096, 0, "{}"), null, new byte[0], null, null).close();
        assertThat(asked).containsExactly("libvirt checks", "sim restores web1");
    }

    @Test
    void aDriverThisBackupDoesNotHaveIsRefusedByName() {
        DriverRestorers restorers = new DriverRestorers(Map.of("sim", recording("sim")));
        GuestSpec xen = new GuestSpec("xen", 4096, 4096, 0, "{}");
        assertThat(restorers.cannotRestore(xen)).isEqualTo("this backup has no driver 'xen' (it has [sim])");
        assertThatThrownBy(() -> restorers.restore("web1", xen, null, new byte[0], null, null))
                .hasMessage("this backup has no driver 'xen' (it has [sim])");
        assertThat(asked).isEmpty();
    }
}
