/**
 * The network path of a real QEMU guest: its NIC joined to a Linux tap device, with the guest's output
 * passing through output commit on the way.
 *
 * <p>The guest's NIC is a socket netdev that connects to us: in libvirt
 * {@code <interface type='client'><source address='127.0.0.1' port='N'/><model type='virtio'/></interface>},
 * i.e. {@code -netdev socket,connect=127.0.0.1:N}. {@link io.checkpointd.netbuffer.bridge.FrameBridge}
 * listens on that port; on the stream each Ethernet frame, both ways, is a 4-byte big-endian length
 * followed by the frame ({@link io.checkpointd.netbuffer.bridge.QemuFraming}; a length of 0 or above
 * {@link io.checkpointd.netbuffer.bridge.TapDevice#MAX_FRAME_BYTES} closes the connection).
 *
 * <pre>
 *  guest ── QEMU ──TCP──► FrameBridge ──fromGuest──► HeldEgress.transmit (held per epoch)
 *                                                        │ released on the backup's ACK
 *  tap ◄──────────────────── FrameBridge.sendToTap ◄─────┘
 *  tap ──(reader thread)──► FrameBridge ──TCP──► QEMU ── guest      (ingress: at once, never held)
 * </pre>
 *
 * <p>The tap ({@link io.checkpointd.netbuffer.bridge.TapDevice}) is where the guest meets the host's
 * network: the operator puts it in a bridge with the uplink, or routes to it. After a failover the backup's
 * bridge {@linkplain io.checkpointd.netbuffer.bridge.FrameBridge#announce announces} the guest's MAC and IP
 * with a gratuitous ARP ({@link io.checkpointd.netbuffer.bridge.ArpFrames}), so switches and neighbours
 * send its traffic to the new host. QEMU's connect-mode socket netdev does not reconnect by itself: the
 * bridge has to be listening before the guest starts, and stays up for its life; a second connection only
 * comes from a new QEMU (a guest restored here).
 */
package io.checkpointd.netbuffer.bridge;
