package io.checkpointd.disk.nbd;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What one {@link NbdServer} serves and how.
 *
 * @param exportName      the name clients ask for (NBD_OPT_GO / EXPORT_NAME); at most 4096 UTF-8 bytes
 * @param image           the raw image file; the export's size is the file's size when the server starts
 * @param listen          where to listen
 * @param maxPayloadBytes the largest READ or WRITE accepted, advertised to clients as the maximum block
 *                        size; larger requests get EINVAL. Between 4 KiB and 1 GiB; 32 MiB is what clients
 *                        assume when nothing is advertised
 * @param readOnly        serve the image read-only: writes, trims and zeroing get EPERM
 */
public record NbdServerConfig(String exportName, Path image, ListenAddress listen, int maxPayloadBytes,
                              boolean readOnly) {
    public static final int DEFAULT_MAX_PAYLOAD_BYTES = Nbd.DEFAULT_MAX_PAYLOAD_BYTES;
    static final int MIN_PAYLOAD_BYTES = 4096;
    static final int MAX_PAYLOAD_BYTES = 1 << 30;

    public NbdServerConfig {
        Objects.requireNonNull(exportName, "exportName");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(listen, "listen");
        int nameBytes = exportName.getBytes(StandardCharsets.UTF_8).length;
        if (nameBytes > Nbd.MAX_STRING_BYTES || exportName.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("export name must be at most " + Nbd.MAX_STRING_BYTES
                    + " UTF-8 bytes without NUL: '" + exportName + "'");
        }
        if (maxPayloadBytes < MIN_PAYLOAD_BYTES || maxPayloadBytes > MAX_PAYLOAD_BYTES) {
            throw new IllegalArgumentException("maxPayloadBytes " + maxPayloadBytes + " is outside ["
                    + MIN_PAYLOAD_BYTES + ", " + MAX_PAYLOAD_BYTES + "]");
        }
    }

    /** A writable export with the default 32 MiB payload limit. */
    public static NbdServerConfig of(String exportName, Path image, ListenAddress listen) {
        return new NbdServerConfig(exportName, image, listen, DEFAULT_MAX_PAYLOAD_BYTES, false);
    }

    public NbdServerConfig withMaxPayloadBytes(int bytes) {
        return new NbdServerConfig(exportName, image, listen, bytes, readOnly);
    }

    public NbdServerConfig withReadOnly(boolean value) {
        return new NbdServerConfig(exportName, image, listen, maxPayloadBytes, value);
    }
}
