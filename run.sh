#!/usr/bin/env bash
# Starts Pyth-On with defaults on this machine: installs and starts Docker when missing, builds the sandbox
# runtime image and the package installer image when missing, builds the solution, then runs the sandbox
# agent and the server until Ctrl-C.
#   REST  http://127.0.0.1:8080   (PYTH_ON_REST_URL)
#   gRPC  http://127.0.0.1:8081   (PYTH_ON_GRPC_URL)
#   data  ./data                  (PYTH_ON_DATA_DIR)
set -euo pipefail
cd "$(dirname "$0")"

REST_URL="${PYTH_ON_REST_URL:-http://127.0.0.1:8080}"
GRPC_URL="${PYTH_ON_GRPC_URL:-http://127.0.0.1:8081}"
DATA_DIR="$(realpath -m "${PYTH_ON_DATA_DIR:-data}")"
AGENT_SOCKET="${PYTH_ON_AGENT_SOCKET:-/run/pyth-on/agent.sock}"
# Package stores (read-only in sandboxes). Installs run in their own container with no network ("none"): the
# agent's egress proxy reaches only the configured index hosts.
STORE_ROOT="$(realpath -m "${PYTH_ON_PACKAGE_STORE:-/var/lib/pyth-on/packages}")"
INSTALL_NETWORK="${PYTH_ON_INSTALL_NETWORK:-none}"

./scripts/ensure-dotnet.sh
./scripts/ensure-docker.sh
IMAGE="$(./scripts/build-runtime-image.sh)"
INSTALLER_IMAGE="$(./scripts/build-installer-image.sh)"

echo "run.sh: building (Release)…" >&2
dotnet build PythOn.sln -c Release -nologo -clp:ErrorsOnly

mkdir -p "$DATA_DIR"
pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

# The content root is the build output, where appsettings.json is (it sets the endpoints' protocols: gRPC is HTTP/2 only).
AGENT_BIN="$PWD/src/Sandbox.Agent/bin/Release/net10.0"
SERVER_BIN="$PWD/src/Server/bin/Release/net10.0"

Agent__SocketPath="$AGENT_SOCKET" Agent__Image="$IMAGE" \
Agent__Packages__InstallerImage="$INSTALLER_IMAGE" Agent__Packages__StoreRoot="$STORE_ROOT" \
Agent__Packages__Network="$INSTALL_NETWORK" \
  dotnet "$AGENT_BIN/PythOn.Sandbox.Agent.dll" --contentRoot "$AGENT_BIN" &
pids+=($!)

PythOn__DataDirectory="$DATA_DIR" PythOn__Agents__0="unix:$AGENT_SOCKET" \
Kestrel__Endpoints__Rest__Url="$REST_URL" Kestrel__Endpoints__Grpc__Url="$GRPC_URL" \
  dotnet "$SERVER_BIN/PythOn.Server.dll" --contentRoot "$SERVER_BIN" &
pids+=($!)

echo "run.sh: Pyth-On is starting — REST $REST_URL, gRPC $GRPC_URL, docs $REST_URL/docs, data $DATA_DIR (Ctrl-C stops)" >&2
# Exit when either process exits (the trap stops the other).
wait -n "${pids[@]}"
