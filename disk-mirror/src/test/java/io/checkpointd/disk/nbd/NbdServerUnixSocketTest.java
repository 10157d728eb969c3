package io.checkpointd.disk.nbd;

import io.checkpointd.disk.Images;
import io.checkpointd.disk.WriteListener;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(60)
class NbdServerUnixSocketTest {
    @TempDir
    Path dir;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private NbdServer start(Path socket) throws IOException {
        Path image = dir.resolve("disk.img");
        if (!Files.exists(image)) {
            Images.create(image, 1 << 20);
        }
        return NbdServer.start(NbdServerConfig.of("vda", image, new ListenAddress.UnixSocket(socket)),
                WriteListener.NONE, registry, Tags.empty());
    }

    private static void assertServes(NbdServer server) throws IOException {
        try (RawNbdClient client = RawNbdClient.open(server.localAddress(), "vda")) {
            client.sendRequest(0, Nbd.CMD_READ, 1, 0, 8);
            assertThat(client.readReply(8).error()).isZero();
        }
    }

    @Test
    void theSocketIsOwnerOnlyAndRemovedOnClose() throws IOException {
        Path socket = dir.resolve("vda.sock");
        try (NbdServer server = start(socket)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-------");
            assertThat(server.uri()).isEqualTo("nbd+unix:///vda?socket=" + socket);
            assertServes(server);
            try (var files = Files.list(dir)) {
                assertThat(files.map(p -> p.getFileName().toString())).as("no staging directory left")
                        .containsExactlyInAnyOrder("disk.img", "vda.sock");
            }
        }
        assertThat(socket).doesNotExist();
    }

    @Test
    void aStaleSocketIsReplacedButALiveOneOrAnotherFileIsNot() throws IOException {
        Path socket = dir.resolve("vda.sock");
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(socket)); // closing leaves the file behind: a stale socket
        }
        assertThat(socket).exists();
        try (NbdServer server = start(socket)) {
            assertServes(server);
            assertThatThrownBy(() -> start(socket)).isInstanceOf(IOException.class)
                    .hasMessageContaining("running server");
            assertServes(server);
        }

        Path file = Files.writeString(dir.resolve("not-a-socket"), "keep me");
        assertThatThrownBy(() -> start(file)).isInstanceOf(IOException.class).hasMessageContaining("not a socket");
        assertThat(file).hasContent("keep me");
    }
}
