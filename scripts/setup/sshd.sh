#!/usr/bin/env bash
# OpenSSH server and client, rsync, strace (the record of the agent's processes) and the system python3 (the servers'
# file tools) for harness mode: peerwatch starts its own sshd processes on 127.0.0.1 high
# ports with their own host keys and config; the Debian service itself is never started (policy-rc.d keeps
# apt from starting it). Needs root for apt-get; harness runs need root to create the isolated agent user.
set -euo pipefail
have_all=1
for tool in /usr/sbin/sshd /usr/bin/ssh /usr/bin/scp /usr/bin/rsync /usr/bin/strace /usr/bin/python3; do
  [ -x "$tool" ] || have_all=0
done
if [ "$have_all" = "1" ]; then
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
apt-get install -y -qq openssh-server openssh-client rsync strace python3 >/dev/null
if [ "$created_policy" = "1" ]; then
  rm -f /usr/sbin/policy-rc.d
fi
/usr/sbin/sshd -V 2>&1 | head -1 || true
