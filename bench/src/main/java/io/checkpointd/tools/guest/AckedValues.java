package io.checkpointd.tools.guest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The last acknowledged value per key: what {@code tools kv-client --acked-out} writes and
 * {@code tools guest-log --acked} reads. One {@code key value} pair per line, both decimal; blank lines
 * and lines starting with {@code #} are ignored. A JSON object ({@code {"17": 42, ...}}) is read as well.
 */
public final class AckedValues {
    private static final String HEADER = "# key last-acknowledged-value (checkpointd tools kv-client --acked-out)\n";

    private AckedValues() {
    }

    public static String format(SortedMap<Integer, Long> acked) {
        StringBuilder s = new StringBuilder(HEADER);
        acked.forEach((key, value) -> s.append(key).append(' ').append(value).append('\n'));
        return s.toString();
    }

    public static SortedMap<Integer, Long> read(Path file) throws IOException {
        return parse(Files.readString(file), file.toString());
    }

    /**
     * @param source named in every error, with the line: {@code acked.txt:3: ...}
     * @throws IllegalArgumentException on a malformed line, a negative key, a value below 1 or a key given twice
     */
    public static SortedMap<Integer, Long> parse(String text, String source) {
        SortedMap<Integer, Long> acked = new TreeMap<>();
        if (text.stripLeading().startsWith("{")) {
            parseJson(text, source, acked);
            return Collections.unmodifiableSortedMap(acked);
        }
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = source + ":" + (i + 1);
            String[] fields = line.split("\\s+");
            if (fields.length != 2) {
                throw new IllegalArgumentException(where + ": '" + line + "' is not 'key value'");
            }
            put(acked, number(fields[0], where), number(fields[1], where), where);
        }
        return Collections.unmodifiableSortedMap(acked);
    }

    private static void parseJson(String text, String source, SortedMap<Integer, Long> acked) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(source + ": not valid JSON: " + e.getOriginalMessage());
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = root.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String where = source + ": key \"" + e.getKey() + "\"";
            if (!e.getValue().canConvertToLong() || !e.getValue().isIntegralNumber()) {
                throw new IllegalArgumentException(where + ": value " + e.getValue() + " is not an integer");
            }
            put(acked, number(e.getKey(), where), e.getValue().asLong(), where);
        }
    }

    private static long number(String text, String where) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + ": '" + text + "' is not an integer");
        }
    }

    private static void put(SortedMap<Integer, Long> acked, long key, long value, String where) {
        if (key < 0 || key > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(where + ": key " + key + " is out of range (0 to " + Integer.MAX_VALUE + ")");
        }
        if (value < 1) {
            throw new IllegalArgumentException(where + ": value " + value + " is below 1, the first value kv-client writes");
        }
        if (acked.put((int) key, value) != null) {
            throw new IllegalArgumentException(where + ": key " + key + " is given twice");
        }
    }
}
