#!/usr/bin/env bash
# Idle memory of a sandbox agent with its default pools, per process (scripts/lib/idle-memory.py): builds the agent
# (Release) and the runtime image like scripts/bench.sh, starts the agent alone on a temporary socket and state
# directory, waits until every slot is idle, prints RSS, PSS and anonymous PSS of the agent and of every slot process, and stops it.
#   scripts/idle-memory.sh
#   IDLE_POOL_PYTHON / IDLE_POOL_JAVASCRIPT   slots per language (default: the agent's appsettings.json, 4 and 2)
#   IDLE_IMAGE                                another runtime image (default: scripts/build-runtime-image.sh)
#   IDLE_AGENT_BIN                            another build of the agent (e.g. a `dotnet publish` output)
#   IDLE_SETTLE=0                             seconds to wait after the slots are idle before measuring
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/ensure-dotnet.sh >&2
./scripts/ensure-docker.sh >&2
IMAGE="${IDLE_IMAGE:-$(./scripts/build-runtime-image.sh)}"
dotnet build src/Sandbox.Agent -c Release -nologo -clp:ErrorsOnly -v:q >&2
AGENT_BIN="${IDLE_AGENT_BIN:-$PWD/src/Sandbox.Agent/bin/Release/net10.0}"

POOL_PY="${IDLE_POOL_PYTHON:-4}"
POOL_JS="${IDLE_POOL_JAVASCRIPT:-2}"
TMP="$(mktemp -d /tmp/pyth-on-idle.XXXXXX)"
AGENT_ID="idle-$$"
agent=""
stop() {
  trap - INT TERM EXIT
  if [ -n "$agent" ]; then kill -TERM "$agent" 2>/dev/null || true; wait "$agent" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap stop INT TERM EXIT

# exec: the measured pid is the agent's .NET process itself, not a shell around it.
Agent__SocketPath="$TMP/agent.sock" Agent__StateDir="$TMP" Agent__InstanceId="$AGENT_ID" Agent__Image="$IMAGE" \
Agent__Pool__Python="$POOL_PY" Agent__Pool__JavaScript="$POOL_JS" \
  dotnet "$AGENT_BIN/PythOn.Sandbox.Agent.dll" --contentRoot "$AGENT_BIN" >"$TMP/agent.log" 2>&1 &
agent=$!

if ! python3 scripts/lib/idle-memory.py "$agent" "$AGENT_ID" --wait $((POOL_PY + POOL_JS)) --quiet >/dev/null; then
  tail -n 30 "$TMP/agent.log" >&2; exit 1
fi
sleep "${IDLE_SETTLE:-0}"
python3 scripts/lib/idle-memory.py "$agent" "$AGENT_ID"
