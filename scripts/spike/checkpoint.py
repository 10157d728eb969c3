#!/usr/bin/python3
# SPIKE TOOL (libvirt spike, docs/libvirt-notes.md); not part of checkpointd. Needs python3-libvirt
# (apt-get install python3-libvirt) and /usr/bin/python3; run as root.
# SPIKE: one checkpoint of a running domain: suspend, migrate device state to a file, copy pc.ram, copy disk, resume.
import libvirt, libvirt_qemu, json, socket, os, pwd, sys, time, threading, shutil
name, sock, out = sys.argv[1], sys.argv[2], sys.argv[3]
conn = libvirt.open('qemu:///system'); dom = conn.lookupByName(name)
def qmp(cmd, **args):
    return json.loads(libvirt_qemu.qemuMonitorCommand(dom, json.dumps({'execute': cmd, **({'arguments': args} if args else {})}), 0))
ram = qmp('qom-get', path='/objects/pc.ram', property='mem-path')['return']
qmp('migrate-set-capabilities', capabilities=[{'capability': 'x-ignore-shared', 'state': True}])
try: os.unlink(sock)
except FileNotFoundError: pass
ls = socket.socket(socket.AF_UNIX); ls.bind(sock); os.chmod(sock, 0o600); os.chown(sock, pwd.getpwnam('libvirt-qemu').pw_uid, -1); ls.listen(1)
dom.suspend()
qmp('migrate', uri='unix:' + sock)
c, _ = ls.accept(); data = b''
while True:
    d = c.recv(1 << 20)
    if not d: break
    data += d
while qmp('query-migrate')['return']['status'] != 'completed': time.sleep(0.001)
open(out + '.dev', 'wb').write(data)
shutil.copyfile(ram, out + '.ram')
shutil.copyfile(sys.argv[4], out + '.disk')   # the NBD server's image (the guest fdatasyncs each SET)
print('checkpoint: ram', ram, 'dev bytes', len(data), 'state', qmp('query-status')['return']['status'])
dom.resume(); os.unlink(sock)
