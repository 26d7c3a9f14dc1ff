#!/bin/bash
# Sandbox entrypoint (runs under docker-init). Makes cgroups writable for the inner engine,
# starts the inner dockerd on a unix socket only, then the learner's shell, and supervises dockerd.
set -u
LAB=/run/lab
log() { echo "[lablab-init] $*" >&2; }

# cgroup v1 is mounted read-only. Mount each hierarchy afresh and bind the sandbox's own subtree
# (from /proc/1/cgroup) over it, so whatever the inner engine starts nests under the sandbox's
# limits. With a private cgroup namespace the subtree is "/", i.e. the namespace root.
setup_cgroups() {
  [ -e /sys/fs/cgroup/cgroup.controllers ] && return 0   # pure v2: nothing to do
  local tmp=/run/lablab-cgroup
  mount -o remount,rw /sys/fs/cgroup 2>/dev/null || true
  while IFS=: read -r _ ctrls path; do
    [ -n "$ctrls" ] || continue                         # the v2 line of a hybrid host
    local opts=$ctrls
    case $ctrls in name=*) opts="none,$ctrls" ;; esac
    local dir=/sys/fs/cgroup/${ctrls#name=}
    mkdir -p "$tmp/${ctrls#name=}" "$dir"
    if mount -t cgroup -o "$opts" cgroup "$tmp/${ctrls#name=}"; then
      mountpoint -q "$dir" && umount "$dir"
      mount --bind "$tmp/${ctrls#name=}$path" "$dir" || log "cannot bind cgroup $ctrls"
      umount -l "$tmp/${ctrls#name=}"
    else
      log "cannot mount cgroup $ctrls"
    fi
  done </proc/1/cgroup
  # docker-style aliases for co-mounted controllers (cpu,cpuacct -> cpu and cpuacct)
  for d in /sys/fs/cgroup/*,*; do
    [ -d "$d" ] || continue
    IFS=, read -ra parts <<<"${d##*/}"
    for p in "${parts[@]}"; do [ -e "/sys/fs/cgroup/$p" ] || ln -s "${d##*/}" "/sys/fs/cgroup/$p"; done
  done
  rmdir "$tmp"/* "$tmp" 2>/dev/null || true
}

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
chmod 1777 /tmp
# Tools that ignore DOCKER_HOST look for /var/run/docker.sock.
ln -sfn "$LAB/docker.sock" /run/docker.sock
# /root may be an empty mount: give it the shell's dotfiles without clobbering lab assets.
cp -rn /etc/lablab/skel/. /root/ 2>/dev/null || true
setup_cgroups
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
