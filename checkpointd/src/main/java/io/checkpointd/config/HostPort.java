package io.checkpointd.config;

import java.util.Objects;

/**
 * A host and a TCP or UDP port, written {@code host:port} or, for IPv6 literals, {@code [v6]:port}.
 *
 * <p>The host is kept as written and not resolved here: a backup's name may not resolve yet when the
 * primary starts, so resolution belongs to the connect attempt. Port 0 is representable because a listen
 * address may ask for an ephemeral port; where 0 makes no sense the validator refuses it.
 *
 * @param host a name, an IPv4 literal, or an IPv6 literal without brackets; never blank
 * @param port 0 to 65535
 */
public record HostPort(String host, int port) {

    public static final int MAX_PORT = 65_535;

    public HostPort {
        Objects.requireNonNull(host, "host");
        if (host.isBlank() || host.chars().anyMatch(c -> Character.isWhitespace(c) || "[]/".indexOf(c) >= 0)) {
            throw new IllegalArgumentException("'" + host + "' is not a host; write a name or an IP address");
        }
        if (port < 0 || port > MAX_PORT) {
            throw new IllegalArgumentException("port " + port + " is out of range; write a port from 0 to " + MAX_PORT);
        }
    }

    /**
     * Parses {@code host:port} or {@code [v6]:port}.
     *
     * @throws IllegalArgumentException with a message {@code <what is wrong>; <how to fix it>} when the text
     *                                  has no port, a bad port, no host, or an unbracketed IPv6 literal
     */
    public static HostPort parse(String text) {
        Objects.requireNonNull(text, "text");
        String s = text.strip();
        if (s.isEmpty()) {
            throw new IllegalArgumentException("empty address; write host:port, e.g. 127.0.0.1:7410");
        }
        String host;
        String port;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException(
                        "'" + s + "' has no closing ']'; write [v6-address]:port, e.g. [::1]:7410");
            }
            host = s.substring(1, close);
            if (close + 1 == s.length() || s.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("'" + s + "' has no port; write [" + host + "]:7410");
            }
            port = s.substring(close + 2);
        } else {
            int colon = s.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("'" + s + "' has no port; write " + s + ":7410");
            }
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
            if (host.indexOf(':') >= 0) {
                throw new IllegalArgumentException("'" + s + "' looks like an IPv6 address without brackets; write ["
                        + host + "]:" + port);
            }
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("'" + s + "' has no host; write one before the port, e.g. 127.0.0.1:"
                    + port + " (0.0.0.0 listens on every interface)");
        }
        return new HostPort(host, parsePort(s, port));
    }

    private static int parsePort(String whole, String port) {
        if (port.isEmpty() || !port.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("'" + whole + "' has no valid port ('" + port
                    + "'); write a port from 0 to " + MAX_PORT + " after the colon");
        }
        if (port.length() > 5 || Integer.parseInt(port) > MAX_PORT) {
            throw new IllegalArgumentException("'" + whole + "' has port " + port + ", above " + MAX_PORT
                    + "; write a port from 0 to " + MAX_PORT);
        }
        return Integer.parseInt(port);
    }

    public HostPort withHost(String host) {
        return new HostPort(host, port);
    }

    public HostPort withPort(int port) {
        return new HostPort(host, port);
    }

    /** {@code host:port}, bracketing an IPv6 literal; {@link #parse} reads it back. */
    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}
