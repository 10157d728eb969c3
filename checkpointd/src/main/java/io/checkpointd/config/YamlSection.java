package io.checkpointd.config;

import java.util.Map;
import java.util.LinkedHashMap;
import java.util.ArrayList;
import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One YAML mapping of the config file, read key by key. Every getter names the key it reads, so an error
 * can say exactly where it is, and so that {@link #rejectUnknownKeys} can report the keys nobody read.
 *
 * <p>A getter returns the default when its key is absent, and throws {@link ConfigException} when the key
 * is present but empty, of the wrong type, unparseable or out of range. Not thread-safe; lives for one load.
 */
final class YamlSection {

    private static final int MAX_SHOWN_CHARS = 40;
    private static final java.util.regex.Pattern PLAIN_NAME =
            java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private final String source;
    private final String path;
    private final JsonNode node;
    private final Set<String> known = new LinkedHashSet<>();

    private YamlSection(String source, String path, JsonNode node) {
        this.source = source;
        this.path = path;
        this.node = node;
    }

    /** The top-level mapping; a missing or empty document is an empty section. */
    static YamlSection top(String source, JsonNode root) throws ConfigException {
        if (isEmpty(root)) {
            return new YamlSection(source, "", null);
        }
        if (!root.isObject()) {
            throw new ConfigException(source, null, "expected sections such as 'epoch:' at the top level, got "
                    + describe(root) + "; start from conf/checkpointd.yaml");
        }
        return new YamlSection(source, "", root);
    }

    /** A nested mapping. Absent or written with nothing under it ({@code epoch:}) means all defaults. */
    YamlSection section(String key) throws ConfigException {
        JsonNode value = lookUp(key);
        if (isEmpty(value)) {
            return new YamlSection(source, pathOf(key), null);
        }
        if (!value.isObject()) {
            throw error(key, "expected a section of keys, got " + describe(value) + "; write '" + key
                    + ":' alone on its line and its keys indented below it");
        }
        return new YamlSection(source, pathOf(key), value);
    }

    /** A non-empty string. Numbers and booleans are refused: YAML turns {@code yes} or {@code 0750} into them. */
    String text(String key, String defaultValue) throws ConfigException {
        JsonNode value = scalar(key, "a string", defaultValue);
        if (value == null) {
            return defaultValue;
        }
        if (!value.isTextual()) {
            throw error(key, "expected a string, got " + describe(value) + "; put it in quotes: \""
                    + value.asText() + "\"");
        }
        return value.asText();
    }

    /** A string that may be empty, for settings where empty means "none" ({@code key: ""} or {@code key:}). */
    String optionalText(String key, String defaultValue) throws ConfigException {
        JsonNode value = lookUp(key);
        if (value == null || isEmpty(value)) {
            return value == null ? defaultValue : "";
        }
        return text(key, defaultValue);
    }

    /** One of {@code choices}, matched ignoring case and returned as spelt in {@code choices}. */
    String choice(String key, String defaultValue, List<String> choices) throws ConfigException {
        String either = String.join(" or ", choices);
        JsonNode value = scalar(key, either, defaultValue);
        if (value == null) {
            return defaultValue;
        }
        for (String choice : choices) {
            if (value.isTextual() && choice.equalsIgnoreCase(value.asText().strip())) {
                return choice;
            }
        }
        String hint = Suggestions.closest(value.asText(), choices).map(c -> "did you mean '" + c + "'? ").orElse("");
        throw error(key, "'" + clip(value.asText()) + "' is not one of " + String.join(", ", choices) + "; "
                + hint + "write " + either);
    }

    boolean bool(String key, boolean defaultValue) throws ConfigException {
        JsonNode value = scalar(key, "true or false", Boolean.toString(defaultValue));
        if (value == null) {
            return defaultValue;
        }
        if (!value.isBoolean()) {
            throw error(key, "expected true or false, got " + describe(value) + "; write true or false");
        }
        return value.asBoolean();
    }

    int integer(String key, int defaultValue, Range range) throws ConfigException {
        // Ranges of int fields lie within int, so the narrowing cannot lose anything.
        return (int) whole(key, defaultValue, range);
    }

    long whole(String key, long defaultValue, Range range) throws ConfigException {
        JsonNode value = scalar(key, "a whole number", Long.toString(defaultValue));
        if (value == null) {
            return defaultValue;
        }
        if (!value.isIntegralNumber()) {
            throw error(key, "expected a whole number, got " + describe(value)
                    + "; write digits only, without quotes or a decimal point, e.g. " + defaultValue);
        }
        if (!value.canConvertToLong() || !range.contains(value.asLong())) {
            throw error(key, range.outOfRange(value.asText()));
        }
        return value.asLong();
    }

    /** A number from {@code min} to {@code max}, for shares and probabilities. */
    double fraction(String key, double defaultValue, double min, double max) throws ConfigException {
        JsonNode value = scalar(key, "a number", plain(defaultValue));
        if (value == null) {
            return defaultValue;
        }
        if (!value.isNumber()) {
            throw error(key, "expected a number, got " + describe(value) + "; write a number from " + plain(min)
                    + " to " + plain(max) + " without quotes, e.g. " + plain(defaultValue));
        }
        double d = value.asDouble();
        if (!(d >= min && d <= max)) {
            throw error(key, "'" + value.asText() + "' is out of range; write a number from " + plain(min)
                    + " to " + plain(max));
        }
        return d;
    }

    long durationNs(String key, long defaultNs, Range range) throws ConfigException {
        return quantity(key, Units.formatDuration(defaultNs), defaultNs, range, true);
    }

    long bytes(String key, long defaultBytes, Range range) throws ConfigException {
        return quantity(key, Units.formatBytes(defaultBytes), defaultBytes, range, false);
    }

    HostPort hostPort(String key, HostPort defaultValue) throws ConfigException {
        JsonNode value = scalar(key, "host:port", defaultValue.toString());
        if (value == null) {
            return defaultValue;
        }
        if (!value.isTextual()) {
            String fix = value.isArray() ? "quote an IPv6 address: \"[::1]:" + defaultValue.port() + "\""
                                         : "write host:port, e.g. " + defaultValue;
            throw error(key, "expected host:port, got " + describe(value) + "; " + fix);
        }
        try {
            return HostPort.parse(value.asText());
        } catch (IllegalArgumentException e) {
            throw error(key, e.getMessage());
        }
    }

    /** A path; a relative one is taken relative to {@code baseDir}, the directory of the config file. */
    Path path(String key, Path defaultValue, Path baseDir) throws ConfigException {
        JsonNode value = scalar(key, "a directory", defaultValue.toString());
        if (value == null) {
            return defaultValue;
        }
        if (!value.isTextual()) {
            throw error(key, "expected a directory, got " + describe(value) + "; put it in quotes: \""
                    + value.asText() + "\"");
        }
        String text = value.asText();
        try {
            return baseDir.resolve(Path.of(text.strip())).normalize();
        } catch (InvalidPathException e) {
            throw error(key, "'" + clip(text) + "' is not a valid path (" + e.getReason()
                    + "); write a directory such as " + defaultValue);
        }
    }

    /**
     * A mapping of plain names to lists of plain names ({@code web1: [primary-a, primary-b]}), for
     * allowlists; empty when absent. Each name must match {@code [A-Za-z0-9][A-Za-z0-9._-]*}.
     */
    Map<String, List<String>> nameLists(String key) throws ConfigException {
        JsonNode value = lookUp(key);
        if (isEmpty(value)) {
            return Map.of();
        }
        if (!value.isObject()) {
            throw error(key, "expected names, each with a list of names (web1: [primary]), got " + describe(value));
        }
        Map<String, List<String>> result = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : value.properties()) {
            String where = key + "." + e.getKey();
            if (!PLAIN_NAME.matcher(e.getKey()).matches()) {
                throw error(key, "'" + clip(e.getKey()) + "' is not a plain name ([A-Za-z0-9._-])");
            }
            if (!e.getValue().isArray() || e.getValue().isEmpty()) {
                throw error(where, "expected a list of names in brackets, e.g. [primary], got " + describe(e.getValue()));
            }
            List<String> names = new ArrayList<>();
            for (JsonNode n : e.getValue()) {
                if (!n.isTextual() || !PLAIN_NAME.matcher(n.asText()).matches()) {
                    throw error(where, "'" + clip(n.asText()) + "' is not a plain name ([A-Za-z0-9._-])");
                }
                names.add(n.asText());
            }
            result.put(e.getKey(), List.copyOf(names));
        }
        return result;
    }

    /** A path, or null when the key is absent or empty (a setting that may be left unset). */
    Path optionalPath(String key, Path baseDir) throws ConfigException {
        JsonNode value = lookUp(key);
        if (isEmpty(value)) {
            return null;
        }
        return path(key, Path.of("."), baseDir);
    }

    /** Throws for the first key in this section that no getter asked for, suggesting the nearest known key. */
    void rejectUnknownKeys() throws ConfigException {
        if (node == null) {
            return;
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name)) {
                String fix = Suggestions.closest(name, known).map(k -> "did you mean '" + k + "'?")
                        .orElse((path.isEmpty() ? "the sections are " : "the keys of " + path + " are ")
                                + String.join(", ", known));
                throw error(name, "unknown key; " + fix);
            }
        }
    }

    private long quantity(String key, String defaultShown, long defaultValue, Range range, boolean duration)
            throws ConfigException {
        JsonNode value = scalar(key, duration ? "a duration" : "a size", defaultShown);
        if (value == null) {
            return defaultValue;
        }
        // A number reaches Units as text, so that a bare 25 gets "has no unit; write 25ms".
        String text = value.asText().strip();
        long parsed;
        try {
            parsed = duration ? Units.parseDurationNs(text) : Units.parseBytes(text);
        } catch (IllegalArgumentException e) {
            throw error(key, e.getMessage());
        }
        if (!range.contains(parsed)) {
            throw error(key, range.outOfRange(text));
        }
        return parsed;
    }

    /** The value of a scalar key: null when absent; an error when empty, a list or a section. */
    private JsonNode scalar(String key, String expected, String example) throws ConfigException {
        JsonNode value = lookUp(key);
        if (value == null) {
            return null;
        }
        if (isEmpty(value)) {
            throw error(key, "no value; write " + expected + (example == null ? "" : " such as " + example)
                    + ", or delete the line to use the default");
        }
        if (value.isContainerNode()) {
            throw error(key, "expected " + expected + ", got " + describe(value) + "; write a single value"
                    + (example == null ? "" : ", e.g. " + example));
        }
        return value;
    }

    private JsonNode lookUp(String key) {
        known.add(key);
        return node == null ? null : node.get(key);
    }

    private ConfigException error(String key, String detail) {
        return new ConfigException(source, pathOf(key), detail);
    }

    private String pathOf(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** YAML writes "nothing here" as null or, for {@code key:} with no value, as an empty string. */
    private static boolean isEmpty(JsonNode value) {
        return value == null || value.isMissingNode() || value.isNull()
                || (value.isTextual() && value.asText().isBlank());
    }

    static String describe(JsonNode value) {
        if (value.isObject()) {
            return "a section of keys";
        }
        if (value.isArray()) {
            return "a list";
        }
        if (value.isTextual()) {
            return "a string ('" + clip(value.asText()) + "')";
        }
        if (value.isBoolean()) {
            return "a boolean (" + value.asText() + ")";
        }
        if (value.isNumber()) {
            return "a number (" + value.asText() + ")";
        }
        return value.getNodeType().name().toLowerCase(Locale.ROOT);
    }

    /** {@code 1} rather than {@code 1.0}: the way a person writes the number in YAML. */
    static String plain(double d) {
        if (!Double.isFinite(d)) {
            return Double.toString(d);
        }
        return BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
    }

    private static String clip(String text) {
        return text.length() <= MAX_SHOWN_CHARS ? text : text.substring(0, MAX_SHOWN_CHARS) + "...";
    }
}
