#!/usr/bin/python3
# SPIKE TOOL (docs/libvirt-notes.md): listens on a unix socket QEMU (user libvirt-qemu) can connect to for one
# `migrate` and reads to EOF.   devlisten.py SOCKET [OWNER [OUTFILE]]
import socket, os, sys, time
path=sys.argv[1]; owner=sys.argv[2] if len(sys.argv)>2 else None
try: os.unlink(path)
except FileNotFoundError: pass
s=socket.socket(socket.AF_UNIX); s.bind(path); os.chmod(path,0o600)
if owner: import pwd; os.chown(path, pwd.getpwnam(owner).pw_uid, -1)
s.listen(1); print('listening',flush=True)
s.settimeout(10)
try: c,_=s.accept()
except socket.timeout: print('no connection'); sys.exit(1)
n=0; out=open(sys.argv[3],'wb') if len(sys.argv)>3 else None
while True:
  b=c.recv(1<<20)
  if not b: break
  n+=len(b)
  if out: out.write(b)
print('bytes',n,flush=True)
