#!/usr/bin/python3
# SPIKE TOOL (libvirt spike, docs/libvirt-notes.md); not part of checkpointd. Needs python3-libvirt
# (apt-get install python3-libvirt) and /usr/bin/python3; run as root.
# SPIKE: restore a checkpoint into a new paused domain started with -incoming defer.
import libvirt, libvirt_qemu, json, socket, os, sys, time, mmap
xmlpath, ck = sys.argv[1], sys.argv[2]
conn = libvirt.open('qemu:///system')
T = [('start', time.perf_counter())]
def mark(s): T.append((s, time.perf_counter()))
dom = conn.createXML(open(xmlpath).read(), libvirt.VIR_DOMAIN_START_PAUSED); mark('createXML(START_PAUSED)')
def qmp(cmd, **args):
    r = json.loads(libvirt_qemu.qemuMonitorCommand(dom, json.dumps({'execute': cmd, **({'arguments': args} if args else {})}), 0))
    return r
print('state after create', dom.state(), qmp('query-status'))
ram = qmp('qom-get', path='/objects/pc.ram', property='mem-path')['return']; mark('qom-get mem-path')
print('ram', ram, os.stat(ram).st_size)
with open(ram, 'r+b') as f, open(ck + '.ram', 'rb') as src:
    m = mmap.mmap(f.fileno(), 0, mmap.MAP_SHARED); m[:] = src.read(); m.close()
mark('write RAM (mmap copy)')
print('caps', qmp('migrate-set-capabilities', capabilities=[{'capability': 'x-ignore-shared', 'state': True}]))
insock = '/tmp/%s-in.sock' % dom.name()
print('migrate-incoming', qmp('migrate-incoming', uri='unix:' + insock)); mark('caps + migrate-incoming')
print('socket', oct(os.stat(insock).st_mode), os.stat(insock).st_uid)
s = socket.socket(socket.AF_UNIX); s.connect(insock); s.sendall(open(ck + '.dev', 'rb').read()); s.close(); mark('stream device state')
seen = []
while True:
    st = qmp('query-status')['return']['status']
    if not seen or seen[-1] != st: seen.append(st)
    if st not in ('inmigrate',): break
    time.sleep(0.001)
mark('query-status leaves inmigrate')
print('status sequence', seen, 'query-migrate', qmp('query-migrate')['return'], 'libvirt state', dom.state())
dom.resume(); mark('resume')
print('after resume', dom.state(), qmp('query-status')['return'])
for (a, t0), (b, t1) in zip(T, T[1:]): print(f'  {b}: {(t1 - t0) * 1e3:.1f} ms')
print(f'  total: {(T[-1][1] - T[0][1]) * 1e3:.1f} ms')
