#!/bin/bash
# SPIKE TOOL (docs/libvirt-notes.md): renders conf/libvirt/protected-domain.xml into $OUT/NAME.xml.
# render.sh NAME NET_PORT NBD_SOCKET [MEMORY_MIB] [incoming]   (incoming: add -incoming defer for a restore)
W="$(cd "$(dirname "$0")/../.." && pwd)"; OUT="${OUT:-/tmp/spike}"; mkdir -p "$OUT"
sed -e "s|@NAME@|$1|g" -e "s|@MEMORY_MIB@|${4:-128}|g" -e "s|@KERNEL@|$W/guest/build/vmlinuz|" \
    -e "s|@INITRD@|$W/guest/build/initramfs.cpio.gz|" -e "s|@GUEST_IP@|10.0.0.2/24|" -e "s|@MAC@|52:54:00:c0:00:02|" \
    -e "s|@NET_PORT@|$2|" -e "s|@NBD_SOCKET@|$3|" -e "s|@NBD_EXPORT@|disk0|" \
    -e "s|@CONSOLE_LOG@|/var/log/libvirt/qemu/$1-console.log|g" $W/conf/libvirt/protected-domain.xml > $OUT/$1.xml
if [ -n "$5" ]; then
  sed -i -e "s|<domain type='qemu'>|<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>|" \
   -e "s|</devices>|</devices>\n  <qemu:commandline><qemu:arg value='-incoming'/><qemu:arg value='defer'/></qemu:commandline>|" $OUT/$1.xml
fi
echo $OUT/$1.xml
