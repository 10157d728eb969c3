package io.checkpointd.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class HostPortTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "127.0.0.1:7410     | 127.0.0.1   | 7410",
            "backup.example:1   | backup.example | 1",
            "[::1]:7410         | ::1         | 7410",
            "[2001:db8::2]:0    | 2001:db8::2 | 0",
            "' 10.0.0.2:65535 ' | 10.0.0.2    | 65535",
    })
    void parsesHostAndPort(String text, String host, int port) {
        assertThat(HostPort.parse(text)).isEqualTo(new HostPort(host, port));
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1:7410", "backup:1", "[::1]:7410", "[fe80::1%eth0]:9"})
    void toStringParsesBack(String text) {
        assertThat(HostPort.parse(text).toString()).isEqualTo(text);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "\"\"             | empty address; write host:port, e.g. 127.0.0.1:7410",
            "backup           | 'backup' has no port; write backup:7410",
            "backup:          | 'backup:' has no valid port (''); write a port from 0 to 65535 after the colon",
            "backup:http      | 'backup:http' has no valid port ('http'); write a port from 0 to 65535 after the colon",
            "backup:70000     | 'backup:70000' has port 70000, above 65535; write a port from 0 to 65535",
            ":7410            | ':7410' has no host; write one before the port, e.g. 127.0.0.1:7410 (0.0.0.0 listens on every interface)",
            "::1:7410         | '::1:7410' looks like an IPv6 address without brackets; write [::1]:7410",
            "[::1             | '[::1' has no closing ']'; write [v6-address]:port, e.g. [::1]:7410",
            "[::1]            | '[::1]' has no port; write [::1]:7410",
            "my host:1        | 'my host' is not a host; write a name or an IP address",
    })
    void rejectsMalformedAddressesWithAFix(String text, String message) {
        assertThatThrownBy(() -> HostPort.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message);
    }

    @Test
    void withersReplaceOneField() {
        HostPort hp = new HostPort("a", 1);
        assertThat(hp.withHost("b")).isEqualTo(new HostPort("b", 1));
        assertThat(hp.withPort(2)).isEqualTo(new HostPort("a", 2));
    }
}
