package io.checkpointd.tools.demo;

import io.checkpointd.testing.HostCommand;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small LAN on this host for the end-to-end scenario: a bridge joining the primary's and the backup's
 * tap devices (as two hosts' switch), and a client in its own network namespace on the bridge through a
 * veth pair. Names carry a tag so concurrent runs do not collide; {@link #close()} removes everything.
 */
public final class ScenarioLan implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ScenarioLan.class);

    private final String bridge;
    private final String primaryTap;
    private final String backupTap;
    private final String clientNamespace;
    private final String veth;
    private final List<List<String>> undo = new ArrayList<>();

    /**
     * @param tag        a few characters making the names unique (interface names have at most 15)
     * @param clientCidr the client's address on the LAN, e.g. 10.77.0.1/24
     */
    public ScenarioLan(String tag, String clientCidr) throws IOException, InterruptedException {
        bridge = "cpbr" + tag;
        primaryTap = "cptp" + tag;
        backupTap = "cptb" + tag;
        clientNamespace = "cpc" + tag;
        veth = "cpv" + tag;
        try {
            HostCommand.run("ip", "link", "add", bridge, "type", "bridge");
            undo.add(List.of("ip", "link", "del", bridge));
            // Forward at once: a new port would otherwise wait out the STP forward delay.
            HostCommand.run("ip", "link", "set", bridge, "type", "bridge", "stp_state", "0", "forward_delay", "0");
            for (String tap : List.of(primaryTap, backupTap)) {
                HostCommand.run("ip", "tuntap", "add", "dev", tap, "mode", "tap");
                undo.add(List.of("ip", "link", "del", tap));
                HostCommand.run("ip", "link", "set", tap, "master", bridge, "up");
            }
            HostCommand.run("ip", "netns", "add", clientNamespace);
            undo.add(List.of("ip", "netns", "del", clientNamespace));
            HostCommand.run("ip", "link", "add", veth, "type", "veth", "peer", "name", veth + "c");
            undo.add(List.of("ip", "link", "del", veth));
            HostCommand.run("ip", "link", "set", veth + "c", "netns", clientNamespace);
            HostCommand.run("ip", "link", "set", veth, "master", bridge, "up");
            HostCommand.run("ip", "-n", clientNamespace, "addr", "add", clientCidr, "dev", veth + "c");
            HostCommand.run("ip", "-n", clientNamespace, "link", "set", veth + "c", "up");
            HostCommand.run("ip", "-n", clientNamespace, "link", "set", "lo", "up");
            // Gratuitous ARP updates the client's neighbour entry for the guest after a failover.
            HostCommand.run("ip", "netns", "exec", clientNamespace, "sysctl", "-q", "-w", "net.ipv4.conf.all.arp_accept=1");
            HostCommand.run("ip", "link", "set", bridge, "up");
        } catch (IOException | InterruptedException e) {
            close();
            throw e;
        }
    }

    public String primaryTap() {
        return primaryTap;
    }

    public String backupTap() {
        return backupTap;
    }

    /** The wrapper that runs a command inside the client's namespace. */
    public List<String> inClientNamespace() {
        return List.of("ip", "netns", "exec", clientNamespace);
    }

    @Override
    public void close() {
        for (int i = undo.size() - 1; i >= 0; i--) {
            try {
                HostCommand.run(undo.get(i).toArray(String[]::new));
            } catch (IOException e) {
                LOG.warn("cleanup: {}", e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        undo.clear();
    }
}
