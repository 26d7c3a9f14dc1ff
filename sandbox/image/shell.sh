#!/bin/bash
# Starts the learner's shell as a detached dtach master on /run/lab/term.sock.
# The host attaches with its own dtach binary (`dtach -a <socketDir>/term.sock`).
set -eu
sock=/run/lab/term.sock
rm -f "$sock"
cd /root
# C.UTF-8 (built into glibc): without it readline takes each byte of a non-ASCII character typed or
# clicked as a Meta key, and programs print "?" for them.
export TERM=xterm-256color HOME=/root SHELL=/bin/bash LANG=C.UTF-8
# -z: no suspend key; -E: no detach char, so no key combination drops a learner out of the shell.
# quick-wake: the master and the shell answer keystrokes first on a busy host (quick-wake.sh).
exec dtach -n "$sock" -E -z /usr/local/sbin/lablab-quick-wake bash -l
