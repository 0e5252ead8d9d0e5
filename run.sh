#!/usr/bin/env bash
# Starts Pyth-On with defaults on this machine: installs and starts Docker when missing, builds the sandbox
# runtime image and the package installer image when missing, builds the solution, then runs the sandbox
# agent and the server until Ctrl-C. A process that crashes is started again (back-off 1 s doubling to 30 s, back to
# 1 s once it has run a minute), so one crash does not take the local service down.
#   REST  http://127.0.0.1:8080   (PYTH_ON_REST_URL)
#   gRPC  http://127.0.0.1:8081   (PYTH_ON_GRPC_URL)
#   data  ./data                  (PYTH_ON_DATA_DIR)
#   run   /run/pyth-on            (PYTH_ON_RUN_DIR: agent socket, agent files, agent.pid and server.pid)
#   PYTH_ON_AGENT_ID              the agent's instance id (label of its containers; default "default")
#   PYTH_ON_SKIP_BUILD=1          use the existing Release build instead of building
set -euo pipefail
cd "$(dirname "$0")"

REST_URL="${PYTH_ON_REST_URL:-http://127.0.0.1:8080}"
GRPC_URL="${PYTH_ON_GRPC_URL:-http://127.0.0.1:8081}"
DATA_DIR="$(realpath -m "${PYTH_ON_DATA_DIR:-data}")"
RUN_DIR="$(realpath -m "${PYTH_ON_RUN_DIR:-/run/pyth-on}")"
AGENT_SOCKET="${PYTH_ON_AGENT_SOCKET:-$RUN_DIR/agent.sock}"
AGENT_ID="${PYTH_ON_AGENT_ID:-default}"
# Package stores (read-only in sandboxes). Installs run in their own container with no network ("none"): the
# agent's egress proxy reaches only the configured index hosts.
STORE_ROOT="$(realpath -m "${PYTH_ON_PACKAGE_STORE:-/var/lib/pyth-on/packages}")"
INSTALL_NETWORK="${PYTH_ON_INSTALL_NETWORK:-none}"

./scripts/ensure-dotnet.sh
./scripts/ensure-docker.sh
IMAGE="$(./scripts/build-runtime-image.sh)"
INSTALLER_IMAGE="$(./scripts/build-installer-image.sh)"

if [ "${PYTH_ON_SKIP_BUILD:-}" != 1 ]; then
  echo "run.sh: building (Release)…" >&2
  dotnet build PythOn.sln -c Release -nologo -clp:ErrorsOnly
fi

mkdir -p "$DATA_DIR" "$RUN_DIR"

# Runs one process and starts it again whenever it exits while run.sh is not stopping. Its pid is kept in
# $RUN_DIR/NAME.pid. SIGTERM/SIGINT to the supervisor stops the process gracefully (it drains) and ends the loop.
supervise() {
  local name="$1" delay=1 pid="" started rc
  shift
  trap 'stopping=1; [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null' TERM INT
  while [ -z "${stopping:-}" ]; do
    started=$SECONDS
    "$@" &
    pid=$!
    echo "$pid" >"$RUN_DIR/$name.pid"
    rc=0
    # wait returns early when a trapped signal arrives: wait again until the process is really gone.
    while kill -0 "$pid" 2>/dev/null; do wait "$pid" && rc=0 || rc=$?; done
    [ -n "${stopping:-}" ] && break
    if (( SECONDS - started >= 60 )); then delay=1; fi
    echo "run.sh: the $name exited (status $rc); starting it again in ${delay} s" >&2
    sleep "$delay" & wait $! || true
    delay=$(( delay * 2 > 30 ? 30 : delay * 2 ))
  done
  rm -f "$RUN_DIR/$name.pid"
}

supervisors=()
stop() {
  trap - INT TERM EXIT
  for s in "${supervisors[@]}"; do kill -TERM "$s" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

# The content root is the build output, where appsettings.json is (it sets the endpoints' protocols: gRPC is HTTP/2 only).
AGENT_BIN="$PWD/src/Sandbox.Agent/bin/Release/net10.0"
SERVER_BIN="$PWD/src/Server/bin/Release/net10.0"

Agent__SocketPath="$AGENT_SOCKET" Agent__StateDir="$RUN_DIR" Agent__InstanceId="$AGENT_ID" Agent__Image="$IMAGE" \
Agent__Packages__InstallerImage="$INSTALLER_IMAGE" Agent__Packages__StoreRoot="$STORE_ROOT" \
Agent__Packages__Network="$INSTALL_NETWORK" \
  supervise agent dotnet "$AGENT_BIN/PythOn.Sandbox.Agent.dll" --contentRoot "$AGENT_BIN" &
supervisors+=($!)

PythOn__DataDirectory="$DATA_DIR" PythOn__Agents__0="unix:$AGENT_SOCKET" \
Kestrel__Endpoints__Rest__Url="$REST_URL" Kestrel__Endpoints__Grpc__Url="$GRPC_URL" \
  supervise server dotnet "$SERVER_BIN/PythOn.Server.dll" --contentRoot "$SERVER_BIN" &
supervisors+=($!)

echo "run.sh: Pyth-On is starting — REST $REST_URL, gRPC $GRPC_URL, docs $REST_URL/docs, data $DATA_DIR (Ctrl-C stops)" >&2
wait
