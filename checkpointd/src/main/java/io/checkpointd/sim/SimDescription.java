package io.checkpointd.sim;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.checkpointd.config.HostPort;
import io.checkpointd.config.SimConfig;

/**
 * What a backup needs to start a sim guest after failover, sent in HELLO: the guest's shape and workload
 * and the address its service answers on (the backup takes that address over). JSON.
 */
public record SimDescription(String driver, SimConfig sim, String serviceHost, int servicePort, long diskBytes) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public SimDescription(SimConfig sim, String serviceHost, int servicePort) {
        this("sim", sim, serviceHost, servicePort, sim.diskBytes());
    }

    /**
     * The disk size any description states in its top-level {@code diskBytes} field (the backup reads it
     * without knowing the driver); 0 when there is none.
     */
    public static long diskBytesOf(String descriptionJson) {
        try {
            return JSON.readTree(descriptionJson).path("diskBytes").asLong(0);
        } catch (JsonProcessingException e) {
            return 0;
        }
    }

    public HostPort service() {
        return new HostPort(serviceHost, servicePort);
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot describe the sim guest", e);
        }
    }

    /** Parses a description; the message says what is wrong when it is not a sim description. */
    public static SimDescription parse(String json) {
        try {
            SimDescription d = JSON.readValue(json, SimDescription.class);
            if (!"sim".equals(d.driver()) || d.sim() == null || d.serviceHost() == null) {
                throw new IllegalArgumentException("not a sim guest description: " + abbreviate(json));
            }
            return d;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("unreadable sim guest description (" + e.getOriginalMessage() + "): "
                    + abbreviate(json));
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }
}
