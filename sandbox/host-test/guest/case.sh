#!/usr/bin/env bash
# Runs inside the host-test VM, in the project copy, after the harness has set the case up (e.g. a
# daemon.json and a docker restart for the cgroupfs case). Measures; never concludes: the harness
# reads OUT back and decides. Every step has a deadline.
#   case.sh OUT_DIR [STEPS]   STEPS: any of facts,start,learner,limits,routes,verify (default: all)
set -u
OUT=$1
STEPS=${2:-facts,start,learner,limits,routes,verify}
cd "$(dirname "$0")/../../.."
mkdir -p "$OUT"
has() { [[ ",$STEPS," == *",$1,"* ]]; }
say() { echo "[case $(date +%T)] $*"; }
PORT=8080

# ---- facts: what this host is ---------------------------------------------------------------
if has facts; then
  {
    echo "kernel=$(uname -r)"
    echo "cmdline=$(cat /proc/cmdline)"
    echo "os=$(. /etc/os-release; echo "$ID-$VERSION_ID")"
    echo "cgroup_fs=$(stat -fc %T /sys/fs/cgroup)"
    echo "cgroup_mount=$(findmnt -no OPTIONS /sys/fs/cgroup)"
    echo "apparmor_enabled=$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null || echo absent)"
    echo "selinux=$( [ -d /sys/fs/selinux ] && echo present || echo absent)"
    echo "lsm=$(cat /sys/kernel/security/lsm 2>/dev/null)"
    echo "docker_version=$(timeout 60 docker version --format '{{.Server.Version}}' 2>&1)"
    echo "docker_driver=$(timeout 60 docker info --format '{{.CgroupDriver}}' 2>&1)"
    echo "docker_cgroup_version=$(timeout 60 docker info --format '{{.CgroupVersion}}' 2>&1)"
    echo "docker_security=$(timeout 60 docker info --format '{{json .SecurityOptions}}' 2>&1)"
    echo "daemon_json=$(cat /etc/docker/daemon.json 2>/dev/null | tr -d '\n' || true)"
    echo "docker_service=$(systemctl is-active docker 2>&1)"
    echo "node=$(node --version)"
    echo "apparmor_profiles=$(aa-status --profiled 2>/dev/null)"
  } >"$OUT/facts.txt" 2>&1
  say "facts: $(grep -E '^(os|docker_driver|apparmor_enabled|cgroup_fs)=' "$OUT/facts.txt" | tr '\n' ' ')"
fi

# ---- start: npm start as the README says; the learner session runs against it -----------------
server_pgid=
stop_server() {
  [ -n "$server_pgid" ] || return 0
  say "stopping the server"
  kill -INT -- "-$server_pgid" 2>/dev/null
  for _ in $(seq 1 60); do kill -0 -- "-$server_pgid" 2>/dev/null || break; sleep 1; done
  kill -KILL -- "-$server_pgid" 2>/dev/null
  server_pgid=
}
trap stop_server EXIT
if has start; then
  say "npm start (log: $OUT/npm-start.log)"
  setsid npm start >"$OUT/npm-start.log" 2>&1 </dev/null &
  server_pgid=$!
  t0=$(date +%s)
  started=0
  # setup.sh, build:web, then the server; first start under TCG takes minutes.
  while [ $(( $(date +%s) - t0 )) -lt 1800 ]; do
    if grep -q 'listening on' "$OUT/npm-start.log"; then started=1; break; fi
    kill -0 "$server_pgid" 2>/dev/null || break
    sleep 3
  done
  echo "listening=$started seconds=$(( $(date +%s) - t0 ))" >"$OUT/start.txt"
  say "npm start: listening=$started after $(( $(date +%s) - t0 )) s"
  grep -vE '^\s*$' "$OUT/npm-start.log" | grep -viE '^\[setup\]|^> |esbuild|built web' | head -20 | sed 's/^/  | /'
  if has learner && [ "$started" = 1 ]; then
    say "learner session (log: $OUT/learner.log)"
    timeout 3600 node --import tsx sandbox/host-test/guest/learner.ts --url "http://127.0.0.1:$PORT" --lab "${LEARNER_LAB:-01-normal-build}" --out "$OUT/learner.json" >"$OUT/learner.log" 2>&1
    echo "exit=$?" >>"$OUT/learner.log"
    sed 's/^/  | /' "$OUT/learner.log" | tail -20
  fi
  stop_server
  cp .data/*.log "$OUT/" 2>/dev/null || true
fi
# Sandboxes the server left (it keeps them over a restart): not ours to measure any more.
docker ps -aq --filter label=io.lablab.kind=sandbox | xargs -r timeout 300 docker rm -f >/dev/null 2>&1

node_test() { # name files…
  local name=$1; shift
  say "node --test $* (log: $OUT/$name.tap)"
  timeout 3600 node --import tsx --test --test-reporter=tap --test-concurrency=1 "$@" >"$OUT/$name.tap" 2>&1
  echo "# exit $?" >>"$OUT/$name.tap"
  grep -E '^# (tests|pass|fail|skipped|cancelled|exit)' "$OUT/$name.tap" | tr '\n' ' '; echo
  grep -E '^not ok|# SKIP' "$OUT/$name.tap" | head -20 | sed 's/^/  | /'
}
has limits && node_test limits sandbox/driver/cgroups.integration.test.ts
has routes && node_test routes sandbox/security/*.test.ts
if has verify; then
  say "npm run labs:verify -- 03-multi-stage (log: $OUT/labs-verify.log)"
  timeout 3600 npm run labs:verify -- 03-multi-stage >"$OUT/labs-verify.log" 2>&1
  echo "exit=$?" >"$OUT/labs-verify.exit"
  tail -5 "$OUT/labs-verify.log" | sed 's/^/  | /'
fi
say "done"
