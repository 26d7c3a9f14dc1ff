#!/usr/bin/env bash
# Loop-filesystem plumbing for sandboxes and templates, one process per operation (the driver calls it).
# Kept in shell because it is a sequence of mount(8)/losetup(8) calls; every step is idempotent.
#
#   disk.sh prepare  <sandboxDir> <sizeGiB> [<templateDir>]   per-sandbox disk, template layers bound read-only
#   disk.sh release  <sandboxDir>                             unmount all, detach loop, remove the dir
#   disk.sh tmpl-new <buildDir> <sizeMiB>                     empty writable ext4 for a template build
#   disk.sh tmpl-seal <buildDir>                              snapshot metadata, unmount, make read-only
#   disk.sh tmpl-mount <templateDir>                          attach read-only loop, mount read-only
#   disk.sh tmpl-unmount <templateDir>
set -euo pipefail

die() { echo "disk.sh: $*" >&2; exit 1; }

# losetup -f can race with a concurrent caller for the same free device; retry.
attach() { # attach <file> [--read-only]
  local dev
  for _ in 1 2 3 4 5 6 7 8; do
    if dev=$(losetup --find --show "${@:2}" "$1" 2>/dev/null); then echo "$dev"; return 0; fi
    sleep 0.05
  done
  losetup --find --show "${@:2}" "$1"
}

mkfs_sparse() { # mkfs_sparse <file> <size>
  rm -f "$1"
  truncate -s "$2" "$1"
  # lazy init + noinit_itable at mount: nothing is zeroed, so the sparse file stays small.
  mkfs.ext4 -q -F -m 0 -E lazy_itable_init=1,lazy_journal_init=1,nodiscard "$1"
}

unmount_under() { # every mount at or below $1, deepest first
  local dir=$1 m
  for m in $(findmnt -rn -o TARGET | awk -v d="$dir" '$0 == d || index($0, d "/") == 1' | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
}

detach_file() { # detach every loop device backed by $1
  local dev
  for dev in $(losetup -j "$1" -O NAME -n 2>/dev/null); do losetup -d "$dev" 2>/dev/null || true; done
}

cmd=${1:-}; shift || true
case $cmd in
prepare)
  dir=$1 size=$2 tmpl=${3:-}
  mkdir -p "$dir/disk"
  mkfs_sparse "$dir/disk.img" "${size}G"
  dev=$(attach "$dir/disk.img")
  mount -o noinit_itable,nodev "$dev" "$dir/disk"
  mkdir -p "$dir/disk/docker" "$dir/disk/root" "$dir/disk/tmp"
  chmod 700 "$dir/disk/root"; chmod 1777 "$dir/disk/tmp"
  if [ -n "$tmpl" ]; then
    tar -C "$dir/disk/docker" -xf "$tmpl/meta.tar"
    while read -r layer; do
      [ -n "$layer" ] || continue
      mkdir -p "$dir/disk/docker/overlay2/$layer/diff"
      mount --bind -o ro "$tmpl/mnt/overlay2/$layer/diff" "$dir/disk/docker/overlay2/$layer/diff"
    done <"$tmpl/layers.txt"
  fi
  ;;
release)
  dir=$1
  [ -d "$dir" ] || exit 0
  unmount_under "$dir"
  for img in "$dir"/*.img; do [ -f "$img" ] && detach_file "$img"; done
  rm -rf --one-file-system "$dir"
  ;;
tmpl-new)
  dir=$1 size=$2
  mkdir -p "$dir/build"
  mkfs_sparse "$dir/layers.img" "${size}M"
  dev=$(attach "$dir/layers.img")
  # discard: the load's temporary tar is freed from the sparse file again
  mount -o noinit_itable,discard "$dev" "$dir/build"
  ;;
tmpl-seal)
  dir=$1
  b=$dir/build
  # Everything but the layer contents is per-sandbox metadata (small); layer diffs stay shared.
  tar -C "$b" --exclude='./overlay2/*/diff/*' --exclude='./containers/*' --exclude='./tmp/*' \
    --exclude='./runtimes/*' --exclude='./lost+found' -cf "$dir/meta.tar" .
  find "$b/overlay2" -mindepth 2 -maxdepth 2 -name diff -type d | awk -F/ '{print $(NF-1)}' | sort >"$dir/layers.txt"
  unmount_under "$b"
  detach_file "$dir/layers.img"
  rmdir "$b"
  chmod 0444 "$dir/layers.img"
  ;;
tmpl-mount)
  dir=$1
  mkdir -p "$dir/mnt"
  # Serialise with other processes mounting the same template.
  exec 9>"$dir/.lock"
  flock 9
  mountpoint -q "$dir/mnt" && exit 0
  # A read-only loop over a file opened read-only: nobody can remount the layers writable.
  dev=$(attach "$dir/layers.img" --read-only)
  mount -t ext4 -o ro,noload,nodev "$dev" "$dir/mnt" || { losetup -d "$dev"; exit 1; }
  ;;
tmpl-unmount)
  dir=$1
  [ -d "$dir/mnt" ] || exit 0
  unmount_under "$dir/mnt"
  detach_file "$dir/layers.img"
  ;;
*)
  die "unknown command '$cmd'"
  ;;
esac
