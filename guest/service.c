/*
 * The guest's service: a key-value table in memory, answered over UDP, with a log of every SET on the
 * guest's disk. It is the program whose state checkpointd protects, so it keeps all of its state in
 * ordinary process memory (captured with guest RAM) and on /dev/vda (captured by disk-mirror).
 *
 * Wire format, all integers big-endian (the same as checkpointd's sim service, io.checkpointd.sim.KvProtocol):
 *
 *   request (21 bytes)                  reply (22 bytes)
 *    0 int64 request id                  0 int64 request id (echoed)
 *    8 int8  op: 1 SET, 2 GET            8 int8  status: 0 OK, 1 BAD_REQUEST
 *    9 int32 key                         9 int8  op (echoed)
 *   13 int64 value (SET only)           10 int32 key
 *                                       14 int64 value: after SET the value written, after GET the value held
 *
 * Disk log record (64 bytes at offset (sequence % records) * 64, records = disk size / 64):
 *
 *    0 int64 magic "ckptlog1"
 *    8 int64 sequence (0 for the first SET)
 *   16 int32 key
 *   20 int64 value
 *   28 zero padding to 64
 *
 * Built with `gcc -static -O2` so the initramfs needs no C library.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PORT 7000
#define KEYS 4096
#define REQUEST_BYTES 21
#define REPLY_BYTES 22
#define OP_SET 1
#define OP_GET 2
#define STATUS_OK 0
#define STATUS_BAD_REQUEST 1
#define RECORD_BYTES 64
#define LOG_MAGIC 0x636b70746c6f6731ULL /* "ckptlog1" */

static int64_t table[KEYS];
static uint64_t set_count;
static int disk_fd = -1;
static uint64_t disk_records;

static uint64_t get_be(const unsigned char *p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

static void put_be(unsigned char *p, uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; i--) {
        p[i] = (unsigned char) v;
        v >>= 8;
    }
}

static void open_disk(const char *path) {
    disk_fd = open(path, O_RDWR);
    if (disk_fd < 0) {
        /* No disk is a valid configuration (a guest without a mirrored disk): serve without a log. */
        fprintf(stderr, "service: no log disk %s: %s\n", path, strerror(errno));
        return;
    }
    off_t size = lseek(disk_fd, 0, SEEK_END);
    if (size < RECORD_BYTES) {
        fprintf(stderr, "service: log disk %s too small (%lld bytes)\n", path, (long long) size);
        close(disk_fd);
        disk_fd = -1;
        return;
    }
    disk_records = (uint64_t) size / RECORD_BYTES;
    fprintf(stderr, "service: logging to %s, %llu records\n", path, (unsigned long long) disk_records);
}

static void log_set(uint64_t sequence, int32_t key, int64_t value) {
    if (disk_fd < 0) {
        return;
    }
    unsigned char record[RECORD_BYTES] = {0};
    put_be(record, LOG_MAGIC, 8);
    put_be(record + 8, sequence, 8);
    put_be(record + 16, (uint32_t) key, 4);
    put_be(record + 20, (uint64_t) value, 8);
    off_t offset = (off_t) ((sequence % disk_records) * RECORD_BYTES);
    if (pwrite(disk_fd, record, RECORD_BYTES, offset) != RECORD_BYTES) {
        fprintf(stderr, "service: log write failed: %s\n", strerror(errno));
        return;
    }
    /* The reply acknowledges the SET, so the record must be on the device before the reply leaves:
       after a failover the backup's disk must hold every acknowledged update. */
    if (fdatasync(disk_fd) != 0) {
        fprintf(stderr, "service: fdatasync failed: %s\n", strerror(errno));
    }
}

static void serve(const unsigned char *request, unsigned char *reply) {
    uint64_t request_id = get_be(request, 8);
    unsigned char op = request[8];
    int32_t key = (int32_t) get_be(request + 9, 4);
    int64_t value = (int64_t) get_be(request + 13, 8);
    unsigned char status = STATUS_OK;
    int64_t reply_value = 0;
    if (key < 0 || key >= KEYS) {
        status = STATUS_BAD_REQUEST;
    } else if (op == OP_SET) {
        table[key] = value;
        reply_value = value;
        /* The sequence lives in memory with the table, so a guest restored from a checkpoint continues
           the log exactly where that checkpoint left it. */
        log_set(set_count++, key, value);
    } else if (op == OP_GET) {
        reply_value = table[key];
    } else {
        status = STATUS_BAD_REQUEST;
    }
    put_be(reply, request_id, 8);
    reply[8] = status;
    reply[9] = op;
    put_be(reply + 10, (uint32_t) key, 4);
    put_be(reply + 14, (uint64_t) reply_value, 8);
}

int main(int argc, char **argv) {
    open_disk(argc > 1 ? argv[1] : "/dev/vda");
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("service: socket");
        return 1;
    }
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(PORT);
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(fd, (struct sockaddr *) &addr, sizeof addr) != 0) {
        perror("service: bind");
        return 1;
    }
    fprintf(stderr, "service: listening on udp port %d\n", PORT);
    for (;;) {
        unsigned char request[REQUEST_BYTES + 1];
        unsigned char reply[REPLY_BYTES];
        struct sockaddr_in peer;
        socklen_t peer_len = sizeof peer;
        ssize_t n = recvfrom(fd, request, sizeof request, 0, (struct sockaddr *) &peer, &peer_len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror("service: recvfrom");
            return 1;
        }
        if (n != REQUEST_BYTES) {
            /* A malformed datagram gets no reply: it has no request id to echo reliably. */
            continue;
        }
        serve(request, reply);
        sendto(fd, reply, REPLY_BYTES, 0, (struct sockaddr *) &peer, peer_len);
    }
}
