package io.checkpointd.disk.nbd;

/**
 * Constants of the NBD protocol (NetworkBlockDevice/nbd {@code doc/proto.md}), the subset this server
 * speaks: fixed newstyle handshake, simple replies. All integers are big-endian on the wire.
 */
final class Nbd {
    private Nbd() {
    }

    // ---- handshake -----------------------------------------------------------------------------------
    /** ASCII "NBDMAGIC": first 8 bytes the server sends. */
    static final long NBDMAGIC = 0x4e42444d41474943L;
    /** ASCII "IHAVEOPT": after NBDMAGIC in the greeting, and at the start of every client option. */
    static final long IHAVEOPT = 0x49484156454F5054L;
    /** Starts every option reply. */
    static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;

    static final int FLAG_FIXED_NEWSTYLE = 1;
    static final int FLAG_NO_ZEROES = 1 << 1;
    static final int CLIENT_FLAG_FIXED_NEWSTYLE = 1;
    static final int CLIENT_FLAG_NO_ZEROES = 1 << 1;
    static final int KNOWN_CLIENT_FLAGS = CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES;

    static final int OPT_EXPORT_NAME = 1;
    static final int OPT_ABORT = 2;
    static final int OPT_LIST = 3;
    static final int OPT_STARTTLS = 5;
    static final int OPT_INFO = 6;
    static final int OPT_GO = 7;
    static final int OPT_STRUCTURED_REPLY = 8;
    /** NBD_OPT_EXTENDED_HEADERS: the highest option code the spec defines today. */
    static final int LAST_SPEC_OPTION = 11;

    static final int REP_ACK = 1;
    static final int REP_SERVER = 2;
    static final int REP_INFO = 3;
    static final int REP_ERR_UNSUP = 0x80000000 + 1;
    static final int REP_ERR_INVALID = 0x80000000 + 3;
    static final int REP_ERR_UNKNOWN = 0x80000000 + 6;
    static final int REP_ERR_TOO_BIG = 0x80000000 + 9;

    static final int INFO_EXPORT = 0;
    static final int INFO_NAME = 1;
    static final int INFO_BLOCK_SIZE = 3;

    /** The spec's bound on strings (export names, messages). */
    static final int MAX_STRING_BYTES = 4096;

    // ---- transmission --------------------------------------------------------------------------------
    static final int REQUEST_MAGIC = 0x25609513;
    static final int SIMPLE_REPLY_MAGIC = 0x67446698;

    static final int TX_FLAG_HAS_FLAGS = 1;
    static final int TX_FLAG_READ_ONLY = 1 << 1;
    static final int TX_FLAG_SEND_FLUSH = 1 << 2;
    static final int TX_FLAG_SEND_FUA = 1 << 3;
    static final int TX_FLAG_SEND_TRIM = 1 << 5;
    static final int TX_FLAG_SEND_WRITE_ZEROES = 1 << 6;
    static final int TX_FLAG_SEND_FAST_ZERO = 1 << 11;

    static final int CMD_READ = 0;
    static final int CMD_WRITE = 1;
    static final int CMD_DISC = 2;
    static final int CMD_FLUSH = 3;
    static final int CMD_TRIM = 4;
    static final int CMD_WRITE_ZEROES = 6;

    static final int CMD_FLAG_FUA = 1;
    static final int CMD_FLAG_NO_HOLE = 1 << 1;
    static final int CMD_FLAG_FAST_ZERO = 1 << 4;

    static final int EPERM = 1;
    static final int EIO = 5;
    static final int EINVAL = 22;
    static final int ENOSPC = 28;
    static final int ENOTSUP = 95;

    /** The payload limit clients assume when none is advertised (proto.md, block size constraints). */
    static final int DEFAULT_MAX_PAYLOAD_BYTES = 32 << 20;
}
