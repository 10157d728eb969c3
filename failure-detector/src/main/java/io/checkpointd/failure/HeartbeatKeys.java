package io.checkpointd.failure;

import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The keys that authenticate one session's heartbeat datagrams: one per direction, so a datagram cannot be
 * reflected back to its sender and taken for the peer's. Both sides derive them from the replication
 * connection's TLS session (exported keying material), so only the two ends of that connection hold them.
 * Each datagram carries an HMAC-SHA256 tag, truncated to {@link #TAG_BYTES}, over all its other bytes.
 */
public final class HeartbeatKeys {
    public static final int KEY_BYTES = 32;
    static final int TAG_BYTES = 16;
    private static final String ALGORITHM = "HmacSHA256";

    private final SecretKeySpec send;
    private final SecretKeySpec receive;

    private HeartbeatKeys(byte[] send, byte[] receive) {
        this.send = new SecretKeySpec(send, ALGORITHM);
        this.receive = new SecretKeySpec(receive, ALGORITHM);
    }

    /**
     * Splits {@code 2 * KEY_BYTES} of exported keying material: the first half authenticates what the
     * primary sends, the second what the backup sends.
     *
     * @param primary whether this side is the primary
     */
    public static HeartbeatKeys fromExportedMaterial(byte[] material, boolean primary) {
        if (material.length != 2 * KEY_BYTES) {
            throw new IllegalArgumentException("expected " + 2 * KEY_BYTES + " bytes of keying material, got "
                    + material.length);
        }
        byte[] fromPrimary = Arrays.copyOfRange(material, 0, KEY_BYTES);
        byte[] fromBackup = Arrays.copyOfRange(material, KEY_BYTES, 2 * KEY_BYTES);
        return primary ? new HeartbeatKeys(fromPrimary, fromBackup) : new HeartbeatKeys(fromBackup, fromPrimary);
    }

    byte[] tagToSend(byte[] data, int length) {
        return tag(send, data, length);
    }

    boolean verifyReceived(byte[] data, int length, byte[] tag) {
        return MessageDigest.isEqual(tag(receive, data, length), tag);
    }

    private static byte[] tag(SecretKeySpec key, byte[] data, int length) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            mac.update(data, 0, length);
            return Arrays.copyOf(mac.doFinal(), TAG_BYTES);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }
}
