#!/usr/bin/python3
# SPIKE TOOL (libvirt spike, docs/libvirt-notes.md); not part of checkpointd. Needs python3-libvirt
# (apt-get install python3-libvirt) and /usr/bin/python3; run as root.
# SPIKE: times suspend / migrate(device state to unix socket) / resume through libvirt-python (C libvirt, as libvirt-java).
import libvirt, libvirt_qemu, json, socket, os, pwd, sys, time, threading, statistics
name, n, sock = sys.argv[1], int(sys.argv[2]), sys.argv[3]
conn = libvirt.open('qemu:///system'); dom = conn.lookupByName(name)
def qmp(cmd, **args):
    r = libvirt_qemu.qemuMonitorCommand(dom, json.dumps({'execute': cmd, 'arguments': args} if args else {'execute': cmd}), 0)
    return json.loads(r)
print('caps', qmp('migrate-set-capabilities', capabilities=[{'capability': 'x-ignore-shared', 'state': True}]))
try: os.unlink(sock)
except FileNotFoundError: pass
ls = socket.socket(socket.AF_UNIX); ls.bind(sock); os.chmod(sock, 0o600); os.chown(sock, pwd.getpwnam('libvirt-qemu').pw_uid, -1); ls.listen(1)
rows = []
for i in range(n):
    got = {}
    def reader():
        c, _ = ls.accept(); b = 0
        while True:
            d = c.recv(1 << 20)
            if not d: break
            b += len(d)
        got['bytes'] = b; got['eof'] = time.perf_counter(); c.close()
    t = threading.Thread(target=reader); t.start()
    t0 = time.perf_counter(); dom.suspend(); t1 = time.perf_counter()
    r = qmp('migrate', uri='unix:' + sock); t2 = time.perf_counter()
    polls = 0
    while True:
        q = qmp('query-migrate')['return']; polls += 1
        if q['status'] in ('completed', 'failed', 'cancelled'): break
        time.sleep(0.0005)
    t3 = time.perf_counter(); t.join(); t4 = time.perf_counter()
    st = qmp('query-status')['return']['status']
    dom.resume(); t5 = time.perf_counter()
    rows.append(((t1-t0)*1e3, (t4-t1)*1e3, (t5-t4)*1e3, (t5-t0)*1e3, got['bytes'], q['status'], q.get('downtime'), polls, st))
    time.sleep(0.05)
for r in rows[:3]: print('sample', r)
assert all(r[5] == 'completed' for r in rows), [r[5] for r in rows]
def s(k): v = sorted(r[k] for r in rows); return f'median {statistics.median(v):.2f} min {v[0]:.2f} max {v[-1]:.2f} ms'
print(f'n={n} suspend {s(0)}; migrate+read-to-EOF+completed {s(1)}; resume {s(2)}; total {s(3)}')
print('device-state bytes', sorted(set(r[4] for r in rows)), 'state after migrate', set(r[8] for r in rows), 'domstate', dom.state())
os.unlink(sock)
