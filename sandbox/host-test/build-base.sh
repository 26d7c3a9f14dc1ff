#!/usr/bin/env bash
# Builds the base disk of the host-test VM from Debian's packages: a Debian root filesystem made by
# debootstrap plus apt-get in a chroot, packed into an ext4 image (mkfs.ext4 -d, no loop mount) and
# converted to qcow2; the kernel and initrd are copied beside it for QEMU's direct kernel boot.
# Docker is installed as Debian ships it: no daemon.json, the packaged service enabled.
#   build-base.sh OUT_DIR SUITE MIRROR SSH_PUBKEY_FILE PACKAGE...
set -euo pipefail
out=$1 suite=$2 mirror=$3 pubkey=$4
shift 4
pkgs=("$@")
say() { echo "[build-base] $(date +%T) $*"; }

work=$(mktemp -d "${out}.work.XXXXXX")
root=$work/root
mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
  rm -rf --one-file-system "$work"  # never through a mount left behind
}
trap cleanup EXIT

say "debootstrap $suite (minbase) from $mirror"
debootstrap --variant=minbase --include=systemd-sysv,ca-certificates "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }

for m in proc sys dev dev/pts; do
  case $m in
    proc) mount -t proc proc "$root/proc" ;;
    sys) mount -t sysfs sys "$root/sys" ;;
    dev) mount --bind /dev "$root/dev" ;;
    dev/pts) mount -t devpts devpts "$root/dev/pts" ;;
  esac
  mounted+=("$root/$m")
done
# No service may start inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"; chmod 0755 "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cat >"$root/etc/apt/sources.list" <<SRC
deb $mirror $suite main
deb $mirror $suite-updates main
SRC

say "apt-get install ${pkgs[*]}"
chroot "$root" apt-get update -qq
DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >"$work/apt.log" 2>&1 \
  || { tail -n 40 "$work/apt.log" >&2; exit 1; }
chroot "$root" apt-get clean
rm -f "$root/usr/sbin/policy-rc.d"

say "configuring"
echo lablab-host >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 lablab-host\n' >"$root/etc/hosts"
printf '/dev/vda / ext4 defaults,errors=remount-ro 0 1\n' >"$root/etc/fstab"
# User-mode networking: DHCP on the one NIC; QEMU's resolver.
mkdir -p "$root/etc/systemd/network"
printf '[Match]\nName=en* eth*\n[Network]\nDHCP=yes\n' >"$root/etc/systemd/network/20-wired.network"
chroot "$root" systemctl enable systemd-networkd.service >/dev/null 2>&1
rm -f "$root/etc/resolv.conf"; echo 'nameserver 10.0.2.3' >"$root/etc/resolv.conf"
# The harness drives the VM over ssh with its own key (root, key only).
mkdir -p -m 0700 "$root/root/.ssh"
install -m 0600 "$pubkey" "$root/root/.ssh/authorized_keys"
printf 'PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n' >"$root/etc/ssh/sshd_config.d/host-test.conf"
chroot "$root" systemctl enable ssh.service >/dev/null 2>&1
# Services the tests start on their own (setup.sh installs them for the replica tests): not at boot,
# the emulated CPU is scarce. Docker's own service stays as packaged.
for s in postgresql.service redis-server.service; do chroot "$root" systemctl disable "$s" >/dev/null 2>&1 || true; done
# A console on the serial line, for boot logs and debugging.
chroot "$root" systemctl enable serial-getty@ttyS0.service >/dev/null 2>&1 || true
rm -rf "$root/var/lib/apt/lists/"* "$root/tmp/"*

say "kernel and initrd"
kernel=$(ls "$root"/boot/vmlinuz-* | sort -V | tail -1)
initrd=$(ls "$root"/boot/initrd.img-* | sort -V | tail -1)
cp "$kernel" "$work/vmlinuz"; cp "$initrd" "$work/initrd.img"
chroot "$root" dpkg-query -W -f '${Package} ${Version}\n' >"$work/packages.txt"

for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}"; done
mounted=()

say "ext4 image (mkfs.ext4 -d) and qcow2"
mkfs.ext4 -q -F -L lablab-root -d "$root" "$work/root.raw" 40G
qemu-img convert -O qcow2 "$work/root.raw" "$work/base.qcow2"
rm -f "$work/root.raw"
mkdir -p "$out.new"
mv "$work/base.qcow2" "$work/vmlinuz" "$work/initrd.img" "$work/packages.txt" "$work/debootstrap.log" "$work/apt.log" "$out.new/"
rm -rf "$out"; mv "$out.new" "$out"
say "done: $out"
