#!/bin/bash
# Sandbox entrypoint (runs under docker-init). Makes cgroups writable for the inner engine,
# starts the inner dockerd on a unix socket only, then the learner's shell, and supervises dockerd.
set -u
LAB=/run/lab
log() { echo "[lablab-init] $*" >&2; }

# cgroup v1 is mounted read-only. Mount each hierarchy afresh and bind the sandbox's own subtree
# (from /proc/1/cgroup) over it, so whatever the inner engine starts nests under the sandbox's
# limits. With a private cgroup namespace the subtree is "/", i.e. the namespace root.
setup_cgroups_v1() {
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

# cgroup v2: the namespace root is the sandbox's own cgroup; the hard limits sit on its parent on the
# host, out of reach. A cgroup that hands controllers to children may hold no processes itself, so
# everything here moves to a child "init" first; then the root enables every controller it has, and
# the inner engine can create limited cgroups (/docker/<id>) beside it. `docker exec` processes
# follow PID 1 into init (runc joins the init process's cgroup when the root refuses them).
setup_cgroups_v2() {
  local cg=/sys/fs/cgroup
  # Docker mounts it read-only; we have our own mount namespace and SYS_ADMIN.
  if ! mount -o remount,rw "$cg" 2>/dev/null; then
    # A fresh cgroup2 mount in a private cgroup namespace shows the same subtree, writable.
    if ! { umount "$cg" 2>/dev/null && mount -t cgroup2 cgroup2 "$cg"; }; then
      log "cannot make $cg writable"
      return 0
    fi
  fi
  mkdir -p "$cg/init" || { log "cannot create $cg/init"; return 0; }
  local try pid c missing=
  # An exec arriving meanwhile lands in the root again, so move and enable until it holds.
  for try in 1 2 3 4 5 6 7 8 9 10; do
    while read -r pid; do
      echo "$pid" >"$cg/init/cgroup.procs" 2>/dev/null || true   # it may have exited already
    done <"$cg/cgroup.procs"
    missing=
    for c in $(<"$cg/cgroup.controllers"); do
      case " $(<"$cg/cgroup.subtree_control") " in *" $c "*) continue ;; esac
      echo "+$c" >"$cg/cgroup.subtree_control" 2>/dev/null || missing="$missing $c"
    done
    [ -z "$missing" ] && return 0
    [ "$try" = 10 ] || sleep 0.1
  done
  log "cgroup v2: could not enable$missing for the inner engine; its containers may not start"
}

setup_cgroups() {
  if [ -e /sys/fs/cgroup/cgroup.controllers ]; then setup_cgroups_v2; else setup_cgroups_v1; fi
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
