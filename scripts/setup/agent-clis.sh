#!/usr/bin/env bash
# Agent CLIs for harness mode, from npm, into a project-local prefix (.agent-clis/, git-ignored):
# OpenCode and Gemini CLI at pinned versions. peerwatch's built-in profiles find them there
# (or on PATH, or wherever PEERWATCH_AGENT_CLIS points). Usage: bash scripts/setup/agent-clis.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PREFIX="${PEERWATCH_AGENT_CLIS:-.agent-clis}"
OPENCODE="opencode-ai@1.18.33"
GEMINI="@google/gemini-cli@0.61.0"
if [ "${PEERWATCH_SKIP_AGENT_CLIS:-0}" = "1" ]; then
  echo "agent-clis: skipped (PEERWATCH_SKIP_AGENT_CLIS=1)"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "agent-clis: npm not found; install Node.js 20+ and npm first" >&2
  exit 1
fi
if [ -x "$PREFIX/node_modules/.bin/opencode" ] && [ -x "$PREFIX/node_modules/.bin/gemini" ]; then
  exit 0
fi
mkdir -p "$PREFIX"
npm install --silent --no-fund --no-audit --prefix "$PREFIX" "$OPENCODE" "$GEMINI" 2>&1 | grep -v "Unknown user config" || true
"$PREFIX/node_modules/.bin/opencode" --version
"$PREFIX/node_modules/.bin/gemini" --version
