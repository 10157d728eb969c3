package io.checkpointd.config;

/**
 * A configuration the daemon cannot run with. The message is one line an operator can act on:
 * {@code <source>: <key path>: <what is wrong>; <how to fix it>}, for example
 * {@code checkpointd.yaml: epoch.interval: '25' has no unit; write 25ms}. Errors about the file as a whole
 * (missing, unreadable, bad YAML) put the file's problem or a line and column where the key path goes.
 *
 * <p>Checked on purpose: a bad config is an expected operator mistake, not a bug, and the compiler should
 * make every caller ({@code main}, a reload command) decide how to report it: print the message and exit,
 * not a stack trace.
 */
public final class ConfigException extends Exception {

    private final String source;
    private final String keyPath;

    /**
     * @param source  the file as the user named it, or another origin such as {@code command line}
     * @param keyPath the dotted YAML path of the offending key, e.g. {@code epoch.interval}; null when the
     *                problem is not about one key
     * @param detail  {@code <what is wrong>; <how to fix it>}
     */
    public ConfigException(String source, String keyPath, String detail) {
        this(source, keyPath, detail, null);
    }

    public ConfigException(String source, String keyPath, String detail, Throwable cause) {
        super(source + ": " + (keyPath == null ? "" : keyPath + ": ") + detail, cause);
        this.source = source;
        this.keyPath = keyPath;
    }

    public String source() {
        return source;
    }

    /** The dotted key path, or null when the error is about the file as a whole. */
    public String keyPath() {
        return keyPath;
    }
}
