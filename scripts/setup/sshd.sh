#!/usr/bin/env bash
# OpenSSH server and client (and rsync) for harness mode: peerwatch starts its own sshd processes on 127.0.0.1 high
# ports with their own host keys and config; the Debian service itself is never started (policy-rc.d keeps
# apt from starting it). Needs root for apt-get; harness runs need root to create the isolated agent user.
set -euo pipefail
if command -v /usr/sbin/sshd >/dev/null 2>&1 && command -v ssh >/dev/null 2>&1 && command -v rsync >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  created_policy=1
fi
apt-get update -qq
apt-get install -y -qq openssh-server openssh-client rsync >/dev/null
if [ "$created_policy" = "1" ]; then
  rm -f /usr/sbin/policy-rc.d
fi
/usr/sbin/sshd -V 2>&1 | head -1 || true
