"""The texts a harness server runs: the sshd session wrappers (plain and guarded) and the sshd config template.

Placeholders (`__FIFO__`, `__PATH__`, `__IP__` ...) are filled in by `_servers.SshServer`.
"""

WRAPPER = """#!/bin/bash
# peerwatch session wrapper (sshd ForceCommand): record the command, then run it. Root-owned; read-only to users.
cmd="${SSH_ORIGINAL_COMMAND:-}"
printf '%s\\texec\\t%s\\n' "$(date +%s.%N)" "$(printf '%s' "$cmd" | base64 -w0)" > __FIFO__
export PATH="__PATH__:/usr/local/bin:/usr/bin:/bin" PEERWATCH_QUEUE=/data/.delete_queue
cd /data 2>/dev/null
case "$cmd" in
  internal-sftp*|*sftp-server*) exec __SFTP_SERVER__ -e -l INFO 2> __SFTP_FIFO__ ;;
  "") exec /bin/bash --noprofile --norc -i ;;
  *) exec /bin/bash --noprofile --norc -c "$cmd" ;;
esac
"""

# The guarded wrapper (`--guard`): the command waits for the orchestrator's decision (a file only root can write,
# bound to the command's digest), runs as a child, and the session returns only after the post-check swept the state.
GUARDED_WRAPPER = """#!/bin/bash
# peerwatch guarded session wrapper (sshd ForceCommand). Root-owned; read-only to users.
cmd="${SSH_ORIGINAL_COMMAND:-}"
tok="$(cat /proc/sys/kernel/random/uuid)"
want="$(printf '%s' "$cmd" | sha256sum | cut -d' ' -f1)"
printf '%s\texec\t%s\t%s\n' "$(date +%s.%N)" "$(printf '%s' "$cmd" | base64 -w0)" "$tok" > __FIFO__
dec=__DECISIONS__/$tok
for _ in $(seq 1 1500); do [ -f "$dec" ] && break; sleep 0.02; done
verdict=deny; digest=; reason="no decision from the guard (fail closed)"
[ -f "$dec" ] && IFS=$'\t' read -r verdict digest reason < "$dec"
if [ "$verdict" != allow ] || [ "$digest" != "$want" ]; then
  echo "peerwatch guard: refused: $reason" >&2
  exit 126
fi
export PATH="__PATH__:/usr/local/bin:/usr/bin:/bin" PEERWATCH_QUEUE=/data/.delete_queue
cd /data 2>/dev/null
case "$cmd" in
  internal-sftp*|*sftp-server*) /usr/bin/python3 __PATH__/sftpguard.py __DECISIONS__/sftp-protected -- \
      __SFTP_SERVER__ -e -l INFO 2> __SFTP_FIFO__ ;;
  "") /bin/bash --noprofile --norc -i ;;
  *) /bin/bash --noprofile --norc -c "$cmd" ;;
esac
st=$?
printf '%s\tend\t%s\t%s\n' "$(date +%s.%N)" "$st" "$tok" > __FIFO__
for _ in $(seq 1 1500); do [ -f "$dec.done" ] && break; sleep 0.02; done
[ -f "$dec.done" ] && grep -v '^$' "$dec.done" >&2
exit $st
"""

SSHD_CONFIG = """# peerwatch harness server __IP__ (loopback only)
ListenAddress 127.0.0.1
Port __PORT__
HostKey __HOSTKEY__
PidFile __PIDFILE__
AuthorizedKeysFile __AUTHKEYS__
AllowUsers __USER__
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
AllowTcpForwarding no
X11Forwarding no
PermitTunnel no
PrintMotd no
LogLevel VERBOSE
Subsystem sftp internal-sftp
ForceCommand __WRAPPER__
"""
