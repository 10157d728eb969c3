package io.checkpointd.disk.nbd;

import io.checkpointd.disk.Images;
import io.checkpointd.disk.LogCapture;
import io.checkpointd.disk.QemuTools;
import io.checkpointd.disk.RecordingListener;
import io.checkpointd.disk.nbd.RawNbdClient.OptionReply;
import io.checkpointd.disk.nbd.RawNbdClient.SimpleReply;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.checkpointd.disk.QemuTools.qemuIo;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Malformed, oversized and out-of-range input from a raw client: each gets the protocol's answer or a clean
 * disconnect, is logged, changes nothing on the image, and the server goes on serving (checked with qemu-io
 * after each case).
 */
@Timeout(60)
class NbdServerBadInputTest {
    private static final int SIZE = 1 << 20;
    private static final int MAX_PAYLOAD = 256 << 10;
    private static final byte FILL = 0x42;

    @TempDir
    Path dir;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final RecordingListener listener = new RecordingListener();
    private final LogCapture logs = new LogCapture();
    private Path image;
    private NbdServer server;

    @BeforeEach
    void setUp(TestInfo test) throws IOException {
        QemuTools.assumeInstalled(test);
        image = dir.resolve("disk.img");
        Files.write(image, Images.filled(SIZE, FILL));
    }

    @AfterEach
    void tearDown() {
        if (server != null) {
            server.close();
        }
        logs.close();
    }

    private void start(Transport transport, boolean readOnly) throws IOException {
        NbdServerConfig config = NbdServerConfig.of("disk0", image, transport.address(dir))
                .withMaxPayloadBytes(MAX_PAYLOAD).withReadOnly(readOnly);
        server = NbdServer.start(config, listener, registry, Tags.empty());
    }

    private void start(Transport transport) throws IOException {
        start(transport, false);
    }

    private RawNbdClient handshaken() throws IOException {
        RawNbdClient client = RawNbdClient.connect(server.localAddress());
        client.readGreeting();
        client.sendClientFlags(Nbd.CLIENT_FLAG_FIXED_NEWSTYLE | Nbd.CLIENT_FLAG_NO_ZEROES);
        return client;
    }

    /** The image still holds only its initial bytes, and a real client can still read it. */
    private void assertUnchangedAndStillServing() throws Exception {
        assertThat(Files.readAllBytes(image)).containsOnly(FILL);
        assertThat(listener.writes()).isEmpty();
        qemuIo(server.uri(), "read -P 0x42 0 4k", "read -P 0x42 1020k 4k");
    }

    private double errors(String error) {
        return registry.get(NbdMetrics.ERRORS).tag("error", error).counter().count();
    }

    // ---- handshake -------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Transport.class)
    void truncatedHandshakeIsDroppedAndLogged(Transport transport) throws Exception {
        start(transport);
        try (RawNbdClient client = handshaken()) {
            client.send(new byte[] {0x49, 0x48, 0x41, 0x56, 0x45, 0x4f}); // the first 6 bytes of IHAVEOPT
        }
        qemuIo(server.uri(), "read -P 0x42 0 4k"); // served after the truncated one went away
        assertThat(logs.messages()).anyMatch(m -> m.contains("client left during the handshake"));
        assertUnchangedAndStillServing();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void oversizedOptionGetsTooBigAndItsDataIsSkipped(Transport transport) throws Exception {
        start(transport);
        try (RawNbdClient client = handshaken()) {
            byte[] junk = new byte[HandshakeDecoder.DEFAULT_MAX_OPTION_BYTES + 1];
            client.sendOption(Nbd.OPT_GO, junk);
            OptionReply reply = client.readOptionReply();
            assertThat(reply.option()).isEqualTo(Nbd.OPT_GO);
            assertThat(reply.type()).isEqualTo(Nbd.REP_ERR_TOO_BIG);

            // Still in step: the same connection goes on to transmission.
            client.sendOption(Nbd.OPT_GO, RawNbdClient.goData("disk0"));
            client.readInfoUntilAck(Nbd.OPT_GO);
            client.sendRequest(0, Nbd.CMD_READ, 7, 0, 16);
            assertThat(client.readReply(16).data()).containsOnly(FILL);
        }
        try (RawNbdClient client = handshaken()) {
            // A 4 GiB option: answered at once, nothing waits for or holds its data.
            client.sendOptionHeader(Nbd.IHAVEOPT, Nbd.OPT_INFO, 0xFFFF_FFF0L);
            assertThat(client.readOptionReply().type()).isEqualTo(Nbd.REP_ERR_TOO_BIG);
        }
        assertThat(logs.messages()).anyMatch(m -> m.contains("too large"));
        assertUnchangedAndStillServing();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void unknownOptionGetsUnsupAndHagglingGoesOn(Transport transport) throws Exception {
        start(transport);
        try (RawNbdClient client = handshaken()) {
            client.sendOption(99, new byte[] {1, 2, 3});
            assertThat(client.readOptionReply()).extracting(OptionReply::option, OptionReply::type)
                    .containsExactly(99, Nbd.REP_ERR_UNSUP);
            client.sendOption(Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
            assertThat(client.readOptionReply().type()).isEqualTo(Nbd.REP_ERR_UNSUP);
            client.sendOption(Nbd.OPT_GO, RawNbdClient.goData("disk0"));
            client.readInfoUntilAck(Nbd.OPT_GO);
        }
        assertThat(logs.messages()).anyMatch(m -> m.contains("option 99 rejected"));
        assertUnchangedAndStillServing();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void unknownExportWithGoOrInfoGetsUnknownAndHagglingGoesOn(Transport transport) throws Exception {
        start(transport);
        try (RawNbdClient client = handshaken()) {
            client.sendOption(Nbd.OPT_GO, RawNbdClient.goData("nope"));
            OptionReply unknown = client.readOptionReply();
            assertThat(unknown.type()).isEqualTo(Nbd.REP_ERR_UNKNOWN);
            assertThat(unknown.text()).contains("nope");

            client.sendOption(Nbd.OPT_INFO, RawNbdClient.goData("nope"));
            assertThat(client.readOptionReply().type()).isEqualTo(Nbd.REP_ERR_UNKNOWN);

            client.sendOption(Nbd.OPT_INFO, RawNbdClient.goData("disk0", Nbd.INFO_NAME, Nbd.INFO_BLOCK_SIZE));
            ByteBuffer export = client.readInfoUntilAck(Nbd.OPT_INFO);
            assertThat(export.getLong()).isEqualTo(SIZE);
            assertThat(export.getShort() & 0xffff).isEqualTo(Nbd.TX_FLAG_HAS_FLAGS | Nbd.TX_FLAG_SEND_FLUSH
                    | Nbd.TX_FLAG_SEND_FUA | Nbd.TX_FLAG_SEND_TRIM | Nbd.TX_FLAG_SEND_WRITE_ZEROES
                    | Nbd.TX_FLAG_SEND_FAST_ZERO);

            client.sendOption(Nbd.OPT_GO, RawNbdClient.goData("disk0"));
            client.readInfoUntilAck(Nbd.OPT_GO);
        }
        assertUnchangedAndStillServing();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void unknownExportWithExportNameIsDisconnected(Transport transport) throws Exception {
        start(transport);
        try (RawNbdClient client = handshaken()) {
            client.sendOption(Nbd.OPT_EXPORT_NAME, "nope".getBytes(StandardCharsets.UTF_8));
            client.assertClosedByServer();
        }
        assertThat(logs.messages()).anyMatch(m -> m.contains("unknown export 'nope'"));
        assertUnchangedAndStillServing();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void malformedGoDataGetsInvalid(Transport transport) throws Exception {
        start(transport);
        try (RawNbdClient client = handshaken()) {
            client.sendOption(Nbd.OPT_GO, new byte[] {0, 0, 0, 100, 'd', 'i', 's', 'k', '0', 0, 0});
            assertThat(client.readOptionReply().type()).isEqualTo(Nbd.REP_ERR_INVALID);
            client.sendOption(Nbd.OPT_LIST, new byte[] {1});
            assertThat(client.readOptionReply().type()).isEqualTo(Nbd.REP_ERR_INVALID);
        }
        assertUnchangedAndStillServing();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void listAnswersTheExportAndAbortIsAcknowledged(Transport transport) throws Exception {
        start(transport);
        try (RawNbdClient client = handshaken()) {
            client.sendOption(Nbd.OPT_LIST, new byte[0]);
            OptionReply entry = client.readOptionReply();
            assertThat(entry.type()).isEqualTo(Nbd.REP_SERVER);
            assertThat(ByteBuffer.wrap(entry.data()).getInt()).isEqualTo(5);
            assertThat(new String(entry.data(), 4, 5, StandardCharsets.UTF_8)).isEqualTo("disk0");
            assertThat(client.readOptionReply().type()).isEqualTo(Nbd.REP_ACK);

            client.sendOption(Nbd.OPT_ABORT, new byte[0]);
            assertThat(client.readOptionReply().type()).isEqualTo(Nbd.REP_ACK);
            client.assertClosedByServer();
        }
        assertUnchangedAndStillServing();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void unknownClientFlagsOrABrokenOptionHeaderAreDisconnected(Transport transport) throws Exception {
        start(transport);
        try (RawNbdClient client = RawNbdClient.connect(server.localAddress())) {
            client.readGreeting();
            client.sendClientFlags(0x100);
            client.assertClosedByServer();
        }
        try (RawNbdClient client = handshaken()) {
            client.sendOptionHeader(0x1122334455667788L, Nbd.OPT_GO, 0);
            client.assertClosedByServer();
        }
        assertThat(logs.messages()).anyMatch(m -> m.contains("unknown client flags"))
                .anyMatch(m -> m.contains("IHAVEOPT"));
        assertUnchangedAndStillServing();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void exportNameEntersTransmission(Transport transport) throws Exception {
        start(transport);
        try (RawNbdClient client = RawNbdClient.connect(server.localAddress())) {
            client.readGreeting();
            client.sendClientFlags(Nbd.CLIENT_FLAG_FIXED_NEWSTYLE); // zeroes wanted
            client.sendOption(Nbd.OPT_EXPORT_NAME, "disk0".getBytes(StandardCharsets.UTF_8));
            DataReader reply = new DataReader(client, 8 + 2 + 124);
            assertThat(reply.buffer().getLong()).isEqualTo(SIZE);
            reply.buffer().getShort();
            assertThat(reply.rest()).containsOnly(0);
            client.sendRequest(0, Nbd.CMD_READ, 1, 4096, 8);
            assertThat(client.readReply(8).data()).containsOnly(FILL);
        }
        assertUnchangedAndStillServing();
    }

    /** Reads a fixed number of raw bytes through a tiny READ-free path: a zero-error reply's worth. */
    private record DataReader(ByteBuffer buffer) {
        DataReader(RawNbdClient client, int bytes) throws IOException {
            this(ByteBuffer.wrap(client.readRaw(bytes)));
        }

        byte[] rest() {
            byte[] rest = new byte[buffer.remaining()];
            buffer.get(rest);
            return rest;
        }
    }

    // ---- transmission ------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Transport.class)
    void oversizedRequestsGetEinvalAndAnOversizedWriteIsSkippedWhole(Transport transport) throws Exception {
        start(transport);
        try (RawNbdClient client = RawNbdClient.open(server.localAddress(), "disk0")) {
            client.sendRequest(0, Nbd.CMD_READ, 1, 0, MAX_PAYLOAD + 1);
            assertThat(client.readReply(0)).extracting(SimpleReply::error, SimpleReply::cookie)
                    .containsExactly(Nbd.EINVAL, 1L);

            client.sendWrite(0, 2, 0, Images.filled(MAX_PAYLOAD + 4096, 0x66));
            assertThat(client.readReply(0)).extracting(SimpleReply::error, SimpleReply::cookie)
                    .containsExactly(Nbd.EINVAL, 2L);

            // The skipped payload was not parsed as requests: the next one is answered normally.
            client.sendRequest(0, Nbd.CMD_READ, 3, 0, 4096);
            SimpleReply read = client.readReply(4096);
            assertThat(read.error()).isZero();
            assertThat(read.data()).containsOnly(FILL);
        }
        assertThat(errors("EINVAL")).isEqualTo(2);
        assertThat(logs.messages()).anyMatch(m -> m.contains("exceeds the payload limit"));
        assertUnchangedAndStillServing();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void rangesPastTheEndGetEinvalOrEnospcAndChangeNothing(Transport transport) throws Exception {
        start(transport);
        try (RawNbdClient client = RawNbdClient.open(server.localAddress(), "disk0")) {
            client.sendRequest(0, Nbd.CMD_READ, 1, SIZE - 2048, 4096);
            assertThat(client.readReply(4096).error()).isEqualTo(Nbd.EINVAL);
            client.sendWrite(0, 2, SIZE - 2048, Images.filled(4096, 0x66));
            assertThat(client.readReply(0).error()).isEqualTo(Nbd.ENOSPC);
            client.sendRequest(0, Nbd.CMD_WRITE_ZEROES, 3, SIZE, 1);
            assertThat(client.readReply(0).error()).isEqualTo(Nbd.ENOSPC);
            client.sendRequest(0, Nbd.CMD_TRIM, 4, SIZE - 1, 2);
            assertThat(client.readReply(0).error()).isEqualTo(Nbd.EINVAL);
            // Offsets that wrap around when added to the length, or are "negative" as signed longs.
            client.sendRequest(0, Nbd.CMD_READ, 5, -1L, 16);
            assertThat(client.readReply(16).error()).isEqualTo(Nbd.EINVAL);
            client.sendWrite(0, 6, Long.MAX_VALUE - 8, Images.filled(16, 0x66));
            assertThat(client.readReply(0).error()).isEqualTo(Nbd.ENOSPC);

            client.sendRequest(0, Nbd.CMD_READ, 7, SIZE - 16, 16);
            assertThat(client.readReply(16).data()).containsOnly(FILL);
        }
        assertThat(errors("ENOSPC")).isEqualTo(3);
        assertThat(errors("EINVAL")).isEqualTo(3);
        assertThat(logs.messages()).anyMatch(m -> m.contains("past the end"));
        assertUnchangedAndStillServing();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void unknownCommandsAndFlagsGetEinval(Transport transport) throws Exception {
        start(transport);
        try (RawNbdClient client = RawNbdClient.open(server.localAddress(), "disk0")) {
            client.sendRequest(0, 42, 1, 0, 0);
            assertThat(client.readReply(0)).extracting(SimpleReply::error, SimpleReply::cookie)
                    .containsExactly(Nbd.EINVAL, 1L);
            client.sendRequest(0, 7, 2, 0, 4096); // BLOCK_STATUS: never negotiated
            assertThat(client.readReply(0).error()).isEqualTo(Nbd.EINVAL);
            client.sendRequest(1 << 2, Nbd.CMD_READ, 3, 0, 16); // DF without structured replies
            assertThat(client.readReply(16).error()).isEqualTo(Nbd.EINVAL);
            client.sendWrite(Nbd.CMD_FLAG_NO_HOLE, 4, 0, Images.filled(16, 0x66)); // NO_HOLE is for zeroes
            assertThat(client.readReply(0).error()).isEqualTo(Nbd.EINVAL);

            client.sendRequest(0, Nbd.CMD_READ, 5, 0, 16);
            assertThat(client.readReply(16).error()).isZero();
        }
        assertThat(logs.messages()).anyMatch(m -> m.contains("unknown command 42"));
        assertUnchangedAndStillServing();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void badRequestMagicClosesThatConnectionOnly(Transport transport) throws Exception {
        start(transport);
        try (RawNbdClient other = RawNbdClient.open(server.localAddress(), "disk0");
             RawNbdClient client = RawNbdClient.open(server.localAddress(), "disk0")) {
            client.send(new byte[28]); // zeroes: no magic
            client.assertClosedByServer();

            other.sendRequest(0, Nbd.CMD_READ, 9, 0, 16);
            assertThat(other.readReply(16).data()).containsOnly(FILL);
        }
        assertThat(logs.messages()).anyMatch(m -> m.contains("NBD_REQUEST_MAGIC"));
        assertThat(registry.get(NbdMetrics.DISCONNECTS).tag("reason", "protocol").counter().count()).isEqualTo(1);
        assertUnchangedAndStillServing();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void requestsSentRightBehindGoAreServed(Transport transport) throws Exception {
        start(transport);
        try (RawNbdClient client = handshaken()) {
            ByteBuffer both = ByteBuffer.allocate(16 + 11 + 28 + 28);
            both.putLong(Nbd.IHAVEOPT).putInt(Nbd.OPT_GO).putInt(11).put(RawNbdClient.goData("disk0"));
            both.putInt(Nbd.REQUEST_MAGIC).putShort((short) 0).putShort((short) Nbd.CMD_READ).putLong(1).putLong(0)
                    .putInt(8);
            both.putInt(Nbd.REQUEST_MAGIC).putShort((short) 0).putShort((short) Nbd.CMD_READ).putLong(2).putLong(8)
                    .putInt(8);
            client.send(both.array()); // one write: the decoder hand-over must keep the bytes behind GO
            client.readInfoUntilAck(Nbd.OPT_GO);
            assertThat(client.readReply(8).cookie()).isEqualTo(1);
            assertThat(client.readReply(8).cookie()).isEqualTo(2);
        }
        assertUnchangedAndStillServing();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void readOnlyExportRefusesChangesWithEperm(Transport transport) throws Exception {
        start(transport, true);
        try (RawNbdClient client = RawNbdClient.open(server.localAddress(), "disk0")) {
            client.sendWrite(0, 1, 0, Images.filled(16, 0x66));
            assertThat(client.readReply(0).error()).isEqualTo(Nbd.EPERM);
            client.sendRequest(0, Nbd.CMD_TRIM, 2, 0, 16);
            assertThat(client.readReply(0).error()).isEqualTo(Nbd.EPERM);
            client.sendRequest(0, Nbd.CMD_WRITE_ZEROES, 3, 0, 16);
            assertThat(client.readReply(0).error()).isEqualTo(Nbd.EPERM);
        }
        assertThat(errors("EPERM")).isEqualTo(3);
        assertThat(Files.readAllBytes(image)).containsOnly(FILL);
        QemuTools.Result read = QemuTools.run(java.util.List.of(QemuTools.find("qemu-io").orElseThrow().toString(),
                "-r", "-f", "raw", server.uri(), "-c", "read -P 0x42 0 4k"));
        assertThat(read.exitCode()).as(read.output()).isZero();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void discClosesWithoutReplyAfterEarlierReplies(Transport transport) throws Exception {
        start(transport);
        try (RawNbdClient client = RawNbdClient.open(server.localAddress(), "disk0")) {
            client.sendRequest(Nbd.CMD_FLAG_FUA, Nbd.CMD_WRITE_ZEROES, 1, 0, 4096);
            client.sendRequest(0, Nbd.CMD_DISC, 2, 0, 0);
            assertThat(client.readReply(0)).extracting(SimpleReply::error, SimpleReply::cookie)
                    .containsExactly(0, 1L);
            client.assertClosedByServer();
        }
        assertThat(Images.read(image, 0, 4096)).containsOnly(0);
        assertThat(registry.get(NbdMetrics.SYNCS).tag("reason", "fua").counter().count()).isEqualTo(1);
        qemuIo(server.uri(), "read -P 0 0 4k", "read -P 0x42 4k 4k");
    }
}
