#!/bin/sh
# `docker compose …` as a Docker CLI plugin in front of Debian's docker-compose (bookworm ships
# Compose 1.29 only). The CLI first asks for metadata, then calls us as `docker-compose compose ARGS`.
if [ "${1:-}" = docker-cli-plugin-metadata ]; then
  printf '{"SchemaVersion":"0.1.0","Vendor":"lablab","Version":"1.29.2","ShortDescription":"Docker Compose (Debian docker-compose)"}\n'
  exit 0
fi
[ "${1:-}" = compose ] && shift
exec /usr/bin/docker-compose "$@"
