package io.checkpointd.replication.wire;

/** How the data of a {@link Pages} frame is encoded. The wire code is the ordinal's fixed byte. */
public enum PageEncoding {
    /** The pages' bytes as they are. */
    RAW(0),
    /** One LZ4 block holding all pages of the batch (better ratio than page by page). */
    LZ4(1);

    private final int code;

    PageEncoding(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The encoding of a wire code, or null when the code is unknown. */
    public static PageEncoding ofCode(int code) {
        for (PageEncoding e : values()) {
            if (e.code == code) {
                return e;
            }
        }
        return null;
    }
}
