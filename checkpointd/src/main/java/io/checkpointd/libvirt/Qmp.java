package io.checkpointd.libvirt;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;

/**
 * QMP commands sent through libvirt ({@code virDomainQemuMonitorCommand}), for a domain the daemon has
 * no monitor of its own on: a standby left by an earlier backup daemon, asked whether it still waits for
 * its state. Everything on the epoch's or the failover's path goes over {@link QmpMonitor} instead.
 */
final class Qmp {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Domain domain;
    private final String domainName;

    Qmp(Domain domain, String domainName) {
        this.domain = domain;
        this.domainName = domainName;
    }

    static ObjectNode args() {
        return JSON.createObjectNode();
    }

    /** Runs {@code command}; returns its {@code return} value, or throws with QEMU's error description. */
    JsonNode execute(String command, ObjectNode arguments) {
        ObjectNode request = JSON.createObjectNode().put("execute", command);
        if (arguments != null) {
            request.set("arguments", arguments);
        }
        String reply;
        try {
            reply = domain.qemuMonitorCommand(request.toString(), 0);
        } catch (LibvirtException e) {
            throw new IllegalStateException(domainName + ": QMP " + command + " failed: " + e.getMessage(), e);
        }
        JsonNode node;
        try {
            node = JSON.readTree(reply);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(domainName + ": QMP " + command + " answered unreadable JSON: " + reply, e);
        }
        if (node.has("error")) {
            throw new IllegalStateException(domainName + ": QMP " + command + " refused: "
                    + node.path("error").path("desc").asText(node.path("error").toString()));
        }
        return node.path("return");
    }

    /** {@code query-status}'s status: running, paused, postmigrate, inmigrate, prelaunch, ... */
    String runState() {
        return execute("query-status", null).path("status").asText();
    }
}
