package io.checkpointd.netbuffer.bridge;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Names are checked before any system call, so these run anywhere. */
class TapNameTest {
    @ParameterizedTest
    @ValueSource(strings = {"", "sixteen-chars-xx", "a/b", "a:b", "a b", "tab\there", ".", "..", "tâp"})
    void invalidNamesAreRefused(String name) {
        assertThatThrownBy(() -> TapDevice.open(name)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tap name");
    }

    @Test
    void aMissingNameIsRefused() {
        assertThatThrownBy(() -> TapDevice.open(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void fifteenCharactersAreAllowed() {
        TapDevice.checkName("fifteen-chars-x");
    }
}
