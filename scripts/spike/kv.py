#!/usr/bin/python3
# SPIKE TOOL: one request to the guest service through nicsock.py's UDP proxy.
#   kv.py PROXY_PORT set KEY VALUE | get KEY      prints the reply; exit 1 on timeout (1 s)
import socket, struct, sys, random
port, op, key = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
value = int(sys.argv[4]) if op == 'set' else 0
rid = random.getrandbits(63)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(float(sys.argv[5]) if len(sys.argv) > 5 else 1.0)
s.sendto(struct.pack('!qbiq', rid, 1 if op == 'set' else 2, key, value), ('127.0.0.1', port))
try:
    r = s.recv(64)
except socket.timeout:
    print('timeout'); sys.exit(1)
rid2, status, op2, key2, val = struct.unpack('!qbbiq', r)
print(f'status {status} op {op2} key {key2} value {val}' + ('' if rid2 == rid else ' (id mismatch)'))
