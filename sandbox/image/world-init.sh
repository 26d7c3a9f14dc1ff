#!/bin/bash
# The init of the learner's world (sandbox/image/lablab/sbin/outer-init builds the world and starts
# this under docker-init as its pid 1). Runs as the world's root: uid 0 here, an unprivileged uid on
# the host, in the world's own user, mount, network and pid namespaces. Mounts the world's proc and
# sysfs, starts the inner dockerd on a unix socket only, then the learner's shell, and supervises
# dockerd.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LAB=/run/lab
log() { echo "[lablab-world] $*" >&2; }

if [ "$(cat /.lablab/run/mode 2>/dev/null)" != host ]; then
  # proc and sysfs of this world's pid and network namespaces, made fresh by host root (outer-init).
  mount --rbind /.lablab/run/proc /proc || log "cannot bind the world's proc"
  mount --rbind /.lablab/run/sys /sys || log "cannot bind the world's sysfs"
  # Docker's usual masks: files that tell about the host's kernel and hardware. (Writes to host-global
  # files are refused by the user namespace itself: they belong to host root.)
  for f in kcore keys timer_list timer_stats sched_debug latency_stats; do
    [ -e "/proc/$f" ] && mount --bind /dev/null "/proc/$f" 2>/dev/null
  done
  for d in /proc/acpi /proc/scsi /proc/asound /sys/firmware /sys/devices/virtual/powercap; do
    [ -d "$d" ] && mount -t tmpfs -o ro,nosuid,nodev,noexec,size=0 lablab-mask "$d" 2>/dev/null
  done
fi

dockerd_pid=
start_dockerd() {
  rm -f "$LAB/docker.sock"
  dockerd --host="unix://$LAB/docker.sock" --data-root=/var/lib/docker --storage-driver=overlay2 --group=root \
    ${LABLAB_REGISTRY_MIRROR:+--registry-mirror="$LABLAB_REGISTRY_MIRROR"} \
    >>/var/log/dockerd.log 2>&1 &
  dockerd_pid=$!
}

stop_all() {
  [ -n "$dockerd_pid" ] && kill -TERM "$dockerd_pid" 2>/dev/null
  wait "$dockerd_pid" 2>/dev/null
  exit 0
}
trap stop_all TERM INT

mkdir -p "$LAB" /var/lib/docker /root /tmp
# Tools that ignore DOCKER_HOST look for /var/run/docker.sock.
ln -sfn "$LAB/docker.sock" /run/docker.sock
# /root may be an empty mount: give it the shell's dotfiles without clobbering lab assets.
cp -rn /etc/lablab/skel/. /root/ 2>/dev/null || true
start_dockerd
/usr/local/sbin/lablab-shell || log "shell did not start"
echo ready >"$LAB/init.state"

# Supervise the inner engine: if a learner kills it, bring it back.
while true; do
  wait "$dockerd_pid"
  log "dockerd exited ($?); restarting"
  sleep 1
  start_dockerd
done
