#!/bin/sh
# Short scheduler slices for the processes that carry keystrokes, so they are run first on a busy host.
#   quick-wake CMD...     the learner's shell: gives its parent (the dtach master that carries every
#                         keystroke and echo) and itself a short slice, then runs CMD (bash)
#   quick-wake -p PID...  these processes (the server gives its own main thread one at start)
# On a host whose CPUs are kept full by other sandboxes' builds, a waking task with a short slice
# is run ahead of tasks with the default one (the kernel's EEVDF scheduler; custom slices are Linux
# 6.12+), so a typed character echoes at once. What share of the CPU each gets does not change:
# that is the cgroup weight. Reset-on-fork: what these start (a build, `yes`) gets the default
# slice again. Where the kernel has no such slice the call fails or is ignored, and nothing else changes.
if [ "${1:-}" = "-p" ]; then
  shift
  pids="$*"
  set --
else
  pids="$PPID $$"
fi
case "$(uname -m)" in
  x86_64) nr=314 ;;
  aarch64|arm64) nr=274 ;;
  *) nr= ;;
esac
if [ -n "$nr" ] && [ -n "$pids" ]; then
  # struct sched_attr (48 bytes): size, policy SCHED_OTHER, flags RESET_ON_FORK, nice 0, priority 0,
  # runtime = the slice in ns (the kernel keeps it within 0.1-100 ms), deadline 0, period 0.
  # shellcheck disable=SC2086
  perl -e 'my $a = pack("LLQlLQQQ", 48, 0, 1, 0, 0, 100000, 0, 0); my $bad = 0; for (@ARGV[1..$#ARGV]) { syscall($ARGV[0] + 0, $_ + 0, $a, 0) == 0 or $bad = 1 } exit $bad' \
    "$nr" $pids 2>/dev/null || [ $# -gt 0 ] || exit 1
fi
[ $# -gt 0 ] && exec "$@"
exit 0
