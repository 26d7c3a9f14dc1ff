#!/bin/bash
# Runs a command as the learner: root, but without CAP_SYS_ADMIN in its bounding set, so neither it
# nor anything it starts can mount (debugfs, tracefs, securityfs, configfs, a host disk) or unshare
# a new mount namespace. The inner dockerd keeps the capability: it was started by init, not here.
# There is no LSM on the hosts we know to filter mounts by type; see sandbox/README.md for what
# this does not cover (a privileged inner container).
exec setpriv --bounding-set -sys_admin --inh-caps -sys_admin -- "$@"
