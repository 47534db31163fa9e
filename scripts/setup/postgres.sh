#!/usr/bin/env bash
# PostgreSQL server binaries for the audit-log backend tests (the tests start their own throwaway cluster on
# 127.0.0.1 as an unprivileged user and stop it themselves).
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq postgresql >/dev/null
ls /usr/lib/postgresql/*/bin/initdb
