#!/usr/bin/env bash
# Host setup, run by `npm start` and `npm test`. Idempotent: a second run only checks and exits.
#  1. OS packages   2. node_modules   3. a running Docker engine
#  4. offline base images (debian:bookworm-slim, golang:1.19, busybox, redis:7)   5. the sandbox image
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DATA_DIR=${DATA_DIR:-$ROOT/.data}
case $DATA_DIR in /*) ;; *) DATA_DIR=$ROOT/$DATA_DIR ;; esac
CACHE=$DATA_DIR/cache
SANDBOX_REPO=lablab/sandbox
LABEL_ARGS=(--label io.lablab.managed=1)
export DOCKER_BUILDKIT=0 # the classic builder works with every client/engine pair we meet

say() { echo "[setup] $*"; }
die() { echo "[setup] ERROR: $*" >&2; exit 1; }

# ---- 1. OS packages ------------------------------------------------------------------------------
need_pkgs() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v dtach >/dev/null || missing+=(dtach)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  { [ -x /bin/busybox ] && file_is_static /bin/busybox; } || missing+=(busybox-static)
  command -v mkfs.ext4 >/dev/null || missing+=(e2fsprogs)
  command -v chromium >/dev/null || missing+=(chromium)
  [ -e /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
  command -v losetup >/dev/null || missing+=(mount)
  command -v ip >/dev/null || missing+=(iproute2)         # network namespaces in the egress tests
  command -v iptables >/dev/null || missing+=(iptables)   # egress rules (DOCKER-USER)
  command -v curl >/dev/null || missing+=(curl)
  [ -x /usr/lib/git-core/git-daemon ] || missing+=(git)  # LABS_REPOS clones; its test serves a repository with git daemon
  command -v ps >/dev/null || missing+=(procps)
  [ -x /usr/sbin/sshd ] || missing+=(openssh-server)    # the ssh:// engine test runs an sshd of its own
  command -v ssh >/dev/null || missing+=(openssh-client)  # the ssh access test logs in with Debian's client
  command -v openssl >/dev/null || missing+=(openssl)    # the tcp:// engine test makes TLS certificates
  command -v systemd-analyze >/dev/null || missing+=(systemd)  # the service test verifies its unit
  command -v caddy >/dev/null || missing+=(caddy)          # the TLS e2e test runs the README's Caddy recipe
  command -v certutil >/dev/null || missing+=(libnss3-tools) # ...and has Chromium trust its test CA
  command -v haproxy >/dev/null || missing+=(haproxy)      # the replica e2e test runs behind HAProxy
  # Replicas' shared state (tests start their own cluster and redis-server when these are absent).
  [ -x /usr/lib/postgresql/15/bin/pg_ctl ] || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  echo "${missing[@]}"
}
file_is_static() { ! LC_ALL=C ldd "$1" >/dev/null 2>&1; }
# systemd is PID 1 here (sd_booted(3)); not so in CI and in containers.
systemd_host() { [ -d /run/systemd/system ]; }

missing=$(need_pkgs)
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    die "missing host packages: $missing
  This project needs root on Debian 12 (it runs a Docker engine and mounts loop filesystems).
  Run as root:   apt-get update && apt-get install -y $missing
  then run this script again as root (it starts the Docker engine: the docker service where systemd runs)."
  fi
  say "installing: $missing"
  apt-get update -qq
  if systemd_host; then
    # systemd manages this host's services: packages start theirs as they would for anyone (docker
    # among them, which section 3 wants); the ones only the tests use are stopped just below.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null || die "apt-get install $missing failed"
  else
    # No init to manage services (CI, a container): no package may start its service while it
    # installs (sshd on port 22, a system PostgreSQL and Redis, a second dockerd); the tests start
    # their own, and section 3 starts dockerd itself.
    policy=/usr/sbin/policy-rc.d
    own_policy=
    if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 0755 "$policy" && own_policy=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null || { [ -n "$own_policy" ] && rm -f "$policy"; die "apt-get install $missing failed"; }
    [ -n "$own_policy" ] && rm -f "$policy"
  fi
  # Only the tests use these, each starting its own on 127.0.0.1 or a unix socket: the system
  # services their packages just enabled (sshd on port 22 for everyone, a second PostgreSQL, Redis,
  # Caddy and HAProxy on the web ports) are stopped and disabled again. Never docker.
  for pkg_unit in openssh-server:ssh postgresql:postgresql redis-server:redis-server caddy:caddy haproxy:haproxy; do
    case " $missing " in *" ${pkg_unit%%:*} "*) command -v systemctl >/dev/null && systemctl disable --now "${pkg_unit#*:}.service" >/dev/null 2>&1 || true ;; esac
  done
else
  say "host packages present"
fi
[ "$(id -u)" = 0 ] || die "run as root: sandboxes need loop devices and mounts (sudo npm start / sudo npm test)"

# ---- 2. node_modules ---------------------------------------------------------------------------
cd "$ROOT"
# npm writes node_modules/.package-lock.json on every install: older than the lockfile means stale.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  if [ -f package-lock.json ]; then say "npm ci"; npm ci --no-audit --no-fund; else say "npm install"; npm install --no-audit --no-fund; fi
else
  say "node_modules up to date"
fi

# ---- 3. Docker engine ----------------------------------------------------------------------------
mkdir -p "$DATA_DIR" "$CACHE"
wait_engine() { for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && return 0; sleep 1; done; return 1; }
if systemd_host; then
  # The packaged docker service, enabled so it is back after a reboot. A dockerd started by hand
  # (an earlier run of this script) would keep its pid file and make the service fail with "pid
  # file found": it is stopped first, once.
  stray=$(cat /var/run/docker.pid 2>/dev/null || true)
  if [ -n "$stray" ] && kill -0 "$stray" 2>/dev/null && [ "$(systemctl show -p MainPID --value docker.service 2>/dev/null)" != "$stray" ]; then
    say "stopping dockerd (pid $stray), started outside systemd, so the docker service takes over"
    kill "$stray"
    for _ in $(seq 1 30); do kill -0 "$stray" 2>/dev/null || break; sleep 1; done
    ! kill -0 "$stray" 2>/dev/null || die "dockerd (pid $stray) did not stop; stop it, then run this again"
  fi
  if ! systemctl is-enabled --quiet docker.service 2>/dev/null || ! systemctl is-active --quiet docker.service; then
    say "enabling and starting the docker service"
    systemctl enable --now docker.service || die "systemctl enable --now docker failed; see journalctl -u docker"
  fi
  wait_engine || die "the docker service did not answer within 60 s; see journalctl -u docker"
elif ! docker info >/dev/null 2>&1; then
  # No systemd to run it (CI, a container): this script starts the engine itself.
  say "starting dockerd (log: $DATA_DIR/dockerd.log)"
  nohup setsid dockerd >>"$DATA_DIR/dockerd.log" 2>&1 </dev/null &
  wait_engine || die "dockerd did not answer within 60 s; see $DATA_DIR/dockerd.log"
fi
say "docker engine $(docker version --format '{{.Server.Version}}') answers"

# AppArmor: sandboxes get our own profile (docker-default denies the mounts Docker-in-Docker needs).
if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; then
  if command -v apparmor_parser >/dev/null && apparmor_parser -r -W "$ROOT/sandbox/host/apparmor/lablab-sandbox" 2>"$CACHE/apparmor.log"; then
    say "AppArmor profile lablab-sandbox loaded"
  else
    say "warning: could not load the AppArmor profile lablab-sandbox (see $CACHE/apparmor.log); sandboxes will run unconfined by AppArmor"
  fi
fi

# Loop devices back the per-sandbox disks; make sure the driver can allocate them.
[ -e /dev/loop-control ] || modprobe loop 2>/dev/null || say "warning: no /dev/loop-control; sandboxes cannot get a disk"
# Modules a sandbox needs in the host kernel but cannot load itself: overlay (image storage),
# br_netfilter (egress rules see bridged traffic) and ip_vs (Swarm's routing mesh). Best effort: a
# kernel without them (or without modprobe) is named by the server's start-up lines.
if command -v modprobe >/dev/null; then
  for m in overlay br_netfilter ip_vs; do modprobe "$m" 2>/dev/null || say "note: modprobe $m failed (the server's start-up lines say what is missing)"; done
fi

# ---- 4. offline base images ------------------------------------------------------------------
have_image() { docker image inspect "$1" >/dev/null 2>&1; }
label_of() { docker image inspect -f "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null || true; }
# Hash of a build recipe: its files plus any extra words (e.g. the parent image id).
recipe_hash() { { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); echo "${@:2}"; } | sha256sum | cut -c1-12; }
# needs_build IMAGE RECIPE: absent, or ours and built from another recipe. An image we did not
# build (e.g. the real one, pulled on an online host) is left alone.
needs_build() {
  have_image "$1" || return 0
  [ "$(label_of "$1" io.lablab.managed)" = 1 ] || return 1
  [ "$(label_of "$1" io.lablab.recipe)" != "$2" ]
}
# build TAG CONTEXT KIND RECIPE: quiet on success, the build's tail on failure.
build() {
  local log=$CACHE/build-${1//[:\/]/_}.log
  docker build "${LABEL_ARGS[@]}" --label "io.lablab.kind=$3" --label "io.lablab.recipe=$4" -t "$1" "$2" >"$log" 2>&1 \
    || { tail -n 30 "$log" >&2; die "building $1 failed; full log: $log"; }
}

# The Debian mirror this host already uses (never hard-coded): first deb822 or one-line source for Debian.
debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  {
    grep -hsE '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources | awk '{for (i = 2; i <= NF; i++) print $i}'
    grep -hsE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | sed -E 's/\[[^]]*\]//' | awk '{print $2}'
  } | grep -E '/debian/?$' | head -1 || true
}

DEBIAN_RECIPE=bookworm-minbase-1
if needs_build debian:bookworm-slim "$DEBIAN_RECIPE"; then
  rootfs_tar=$CACHE/bookworm-minbase.tar
  if [ ! -s "$rootfs_tar" ]; then
    mirror=$(debian_mirror)
    [ -n "$mirror" ] || die "no Debian mirror found in /etc/apt/sources*; set DEBIAN_MIRROR=<url>"
    say "debootstrap bookworm (minbase) from the host's Debian mirror"
    work=$(mktemp -d "$CACHE/rootfs.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    debootstrap --variant=minbase bookworm "$work" "$mirror" >"$CACHE/debootstrap.log" 2>&1 \
      || die "debootstrap failed; see $CACHE/debootstrap.log"
    rm -rf "$work"/var/cache/apt/archives/*.deb "$work"/var/lib/apt/lists/* "$work"/tmp/*
    tar -C "$work" --numeric-owner -cf "$rootfs_tar.tmp" . && mv "$rootfs_tar.tmp" "$rootfs_tar"
    rm -rf "$work"; trap - EXIT
  fi
  say "importing debian:bookworm-slim"
  docker import --change 'CMD ["bash"]' --change "LABEL io.lablab.managed=1 io.lablab.kind=base-image io.lablab.recipe=$DEBIAN_RECIPE" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$rootfs_tar" debian:bookworm-slim >/dev/null
fi

golang_recipe=$(recipe_hash "$ROOT/sandbox/base/golang" "$(docker image inspect -f '{{.Id}}' debian:bookworm-slim)")
if needs_build golang:1.19 "$golang_recipe"; then
  say "building golang:1.19 (Debian's Go 1.19)"
  build golang:1.19 "$ROOT/sandbox/base/golang" base-image "$golang_recipe"
fi

busybox_recipe=$(recipe_hash "$ROOT/sandbox/base/busybox" "$(sha256sum </bin/busybox | cut -c1-12)")
if needs_build busybox:latest "$busybox_recipe"; then
  say "building busybox (static busybox on scratch)"
  ctx=$(mktemp -d)
  mkdir -p "$ctx/rootfs/bin" "$ctx/rootfs/etc" "$ctx/rootfs/root" "$ctx/rootfs/tmp" "$ctx/rootfs/var"
  cp /bin/busybox "$ctx/rootfs/bin/busybox"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$ctx/rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$ctx/rootfs/etc/group"
  chmod 1777 "$ctx/rootfs/tmp"; chmod 700 "$ctx/rootfs/root"
  cp "$ROOT/sandbox/base/busybox/Dockerfile" "$ctx/Dockerfile"
  build busybox:latest "$ctx" base-image "$busybox_recipe"
  rm -rf "$ctx"
fi
# A service image for Compose labs, from Debian's redis-server (also tagged redis:latest unless a real one is there).
redis_recipe=$(recipe_hash "$ROOT/sandbox/base/redis" "$(docker image inspect -f '{{.Id}}' debian:bookworm-slim)")
if needs_build redis:7 "$redis_recipe"; then
  say "building redis:7 (Debian's redis-server)"
  build redis:7 "$ROOT/sandbox/base/redis" base-image "$redis_recipe"
fi
if ! have_image redis:latest || [ "$(label_of redis:latest io.lablab.managed)" = 1 ]; then docker tag redis:7 redis:latest; fi
say "base images: debian:bookworm-slim golang:1.19 busybox redis:7"

# ---- 5. the sandbox image, tagged by the hash of its definition -----------------------------------
# Built from image/, then every owner in it is moved into the sandboxes' user namespace range
# (host/shift-rootfs.mjs; /.lablab stays host root's): root in a sandbox is an unprivileged host uid.
SANDBOX_UID_BASE=1048576 # keep in step with image/lablab/sbin/outer-init and driver/userns.ts
hash=$(recipe_hash "$ROOT/sandbox/image" "$(docker image inspect -f '{{.Id}}' debian:bookworm-slim)" \
  "$(sha256sum <"$ROOT/sandbox/host/shift-rootfs.mjs" | cut -c1-12)" "$SANDBOX_UID_BASE")
tag=$SANDBOX_REPO:$hash
if ! have_image "$tag"; then
  say "building $tag"
  build "$SANDBOX_REPO-build:latest" "$ROOT/sandbox/image" sandbox-build "$hash"
  say "shifting its owners into the sandbox user namespace range (base $SANDBOX_UID_BASE)"
  cid=$(docker create --label io.lablab.managed=1 "$SANDBOX_REPO-build:latest")
  changes=()
  while IFS= read -r e; do [ -n "$e" ] && changes+=(--change "ENV $e"); done \
    < <(docker image inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$SANDBOX_REPO-build:latest")
  changes+=(--change "WORKDIR $(docker image inspect -f '{{.Config.WorkingDir}}' "$SANDBOX_REPO-build:latest")")
  changes+=(--change "ENTRYPOINT $(docker image inspect -f '{{json .Config.Entrypoint}}' "$SANDBOX_REPO-build:latest")")
  changes+=(--change "LABEL io.lablab.managed=1 io.lablab.kind=sandbox-image io.lablab.recipe=$hash io.lablab.uid-base=$SANDBOX_UID_BASE")
  if ! docker export "$cid" | node "$ROOT/sandbox/host/shift-rootfs.mjs" "$SANDBOX_UID_BASE" \
      | docker import "${changes[@]}" - "$tag" >/dev/null; then
    docker rm -f "$cid" >/dev/null 2>&1
    die "shifting the sandbox image failed"
  fi
  docker rm -f "$cid" >/dev/null
fi
docker tag "$tag" "$SANDBOX_REPO:latest"
echo "$tag" >"$ROOT/sandbox/.image-tag" # the driver uses this build, whatever "latest" becomes
# Builds older than a day go once nothing uses them (rmi refuses while a sandbox still runs on one).
# Newer ones stay: another checkout on this engine (a worktree, a second server) may still use them.
day_ago=$(( $(date +%s) - 86400 ))
for old in $(docker images "$SANDBOX_REPO" --format '{{.Tag}}' | grep -vxE "$hash|latest" || true); do
  created=$(date -d "$(docker image inspect -f '{{.Created}}' "$SANDBOX_REPO:$old")" +%s 2>/dev/null || echo 0)
  [ "$created" -lt "$day_ago" ] && { docker rmi "$SANDBOX_REPO:$old" >/dev/null 2>&1 || true; }
done
say "sandbox image $tag (also $SANDBOX_REPO:latest)"
say "done"
