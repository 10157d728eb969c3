package io.checkpointd.sim;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.checkpointd.config.HostPort;
import io.checkpointd.config.SimConfig;

/**
 * The sim driver's description of its guest, sent in HELLO's {@code GuestSpec}: the guest's shape and
 * workload and the address its service answers on (the backup takes that address over). JSON.
 */
public record SimDescription(SimConfig sim, String serviceHost, int servicePort) {
    private static final ObjectMapper JSON = new ObjectMapper();

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
            if (d.sim() == null || d.serviceHost() == null) {
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
