package io.checkpointd.tools.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class AckedValuesTest {
    @Test
    void whatIsFormattedParsesBack() {
        TreeMap<Integer, Long> acked = new TreeMap<>(Map.of(0, 17L, 5, 1L, 4095, 123_456_789_012L));
        String text = AckedValues.format(acked);
        assertThat(text).startsWith("#").contains("\n0 17\n5 1\n4095 123456789012\n");
        assertThat(AckedValues.parse(text, "acked.txt")).isEqualTo(acked);
    }

    @Test
    void aJsonObjectIsReadToo() {
        assertThat(AckedValues.parse(" {\"3\": 9, \"1\": 2}", "a.json")).containsExactly(Map.entry(1, 2L), Map.entry(3, 9L));
    }

    @Test
    void errorsNameTheFileAndLine() {
        assertThatThrownBy(() -> AckedValues.parse("# header\n1 2\n3\n", "acked.txt"))
                .hasMessage("acked.txt:3: '3' is not 'key value'");
        assertThatThrownBy(() -> AckedValues.parse("1 2\n1 3\n", "acked.txt"))
                .hasMessage("acked.txt:2: key 1 is given twice");
        assertThatThrownBy(() -> AckedValues.parse("1 0\n", "acked.txt")).hasMessageContaining("acked.txt:1: value 0 is below 1");
        assertThatThrownBy(() -> AckedValues.parse("x 1\n", "acked.txt")).hasMessage("acked.txt:1: 'x' is not an integer");
        assertThatThrownBy(() -> AckedValues.parse("{\"1\": \"a\"}", "a.json")).hasMessageContaining("a.json: key \"1\"");
    }
}
