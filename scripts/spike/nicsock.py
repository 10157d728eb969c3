#!/usr/bin/python3
# SPIKE TOOL (libvirt spike, docs/libvirt-notes.md); not part of checkpointd. Stands in for net-buffer:
# listens on 127.0.0.1:NET_PORT for QEMU's <interface type='client'> connection (frames: 4-byte big-endian
# length + Ethernet frame), logs every frame the guest sends, answers ARP for the host side's address, and
# proxies UDP: a datagram sent to 127.0.0.1:PROXY_PORT goes to GUEST_IP:7000 as a crafted Ethernet/IPv4/UDP
# frame, and the guest's reply is sent back to the proxy client. Accepts a new QEMU connection after the
# old one closes.
#   nicsock.py NET_PORT PROXY_PORT GUEST_MAC GUEST_IP [HOST_IP]
import socket, struct, sys, time, select

net_port, proxy_port = int(sys.argv[1]), int(sys.argv[2])
guest_mac = bytes.fromhex(sys.argv[3].replace(':', ''))
guest_ip = socket.inet_aton(sys.argv[4])
host_ip = socket.inet_aton(sys.argv[5] if len(sys.argv) > 5 else '10.0.0.1')
host_mac = bytes.fromhex('020000000001')
t0 = time.monotonic()

def log(msg):
    print(f'{time.monotonic() - t0:9.3f} {msg}', flush=True)

def mac(b): return ':'.join(f'{x:02x}' for x in b)

def csum(data):
    if len(data) % 2: data += b'\0'
    s = sum(struct.unpack(f'!{len(data)//2}H', data))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def udp_frame(payload, sport, dport):
    udp = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload
    pseudo = host_ip + guest_ip + struct.pack('!BBH', 0, 17, len(udp))
    c = csum(pseudo + udp) or 0xffff
    udp = udp[:6] + struct.pack('!H', c) + udp[8:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0, host_ip, guest_ip)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return guest_mac + host_mac + b'\x08\x00' + ip + udp

def describe(f):
    et = struct.unpack('!H', f[12:14])[0]
    d = f'{mac(f[6:12])} -> {mac(f[0:6])} len {len(f)} '
    if et == 0x0806: 
        op = struct.unpack('!H', f[20:22])[0]
        return d + f'ARP op {op} {socket.inet_ntoa(f[28:32])} asks/tells {socket.inet_ntoa(f[38:42])}'
    if et == 0x8035: return d + 'RARP (QEMU announce)'
    if et == 0x86dd:
        nh = f[20]; icmp = f[54] if nh == 58 else None
        return d + f'IPv6 next {nh} icmp6 type {icmp}'
    if et == 0x0800:
        return d + f'IPv4 proto {f[23]} {socket.inet_ntoa(f[26:30])} -> {socket.inet_ntoa(f[30:34])}'
    return d + f'ethertype {et:#06x}'

ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(('127.0.0.1', net_port)); ls.listen(1)
px = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); px.bind(('127.0.0.1', proxy_port))
log(f'listening on 127.0.0.1:{net_port}, proxy udp 127.0.0.1:{proxy_port}')
conn, buf, client, sport = None, b'', None, 40000
while True:
    r, _, _ = select.select([s for s in (ls, px, conn) if s], [], [])
    if ls in r:
        c, a = ls.accept()
        if conn: conn.close()
        conn, buf = c, b''
        log(f'QEMU connected from {a}')
    if px in r:
        data, client = px.recvfrom(2048)
        if conn:
            f = udp_frame(data, sport, 7000)
            conn.sendall(struct.pack('!I', len(f)) + f)
    if conn and conn in r:
        chunk = conn.recv(65536)
        if not chunk:
            log('QEMU closed the connection'); conn.close(); conn = None; continue
        buf += chunk
        while len(buf) >= 4:
            n = struct.unpack('!I', buf[:4])[0]
            if len(buf) < 4 + n: break
            f, buf = buf[4:4 + n], buf[4 + n:]
            et = struct.unpack('!H', f[12:14])[0]
            if et == 0x0800 and f[23] == 17 and f[30:34] == host_ip and client:
                ihl = (f[14] & 15) * 4
                px.sendto(f[14 + ihl + 8:], client)
                continue
            log(describe(f))
            if et == 0x0806 and struct.unpack('!H', f[20:22])[0] == 1 and f[38:42] == host_ip:
                reply = f[6:12] + host_mac + b'\x08\x06' + f[14:20] + b'\x00\x02' + host_mac + host_ip + f[22:28] + f[28:32]
                conn.sendall(struct.pack('!I', len(reply)) + reply)
