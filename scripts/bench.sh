#!/usr/bin/env bash
# Benchmarks Pyth-On on this machine: makes sure Docker and the runtime image are there (like ./run.sh), builds
# Release, starts a sandbox agent and a server on a temporary directory, socket and free ports, runs
# benchmarks/PythOn.Bench against them (bare interpreters, naive `docker run --rm`, Pyth-On REST and gRPC), then
# benchmarks/PythOn.AgentBench against the agent alone (its timing breakdown and throughput) and
# scripts/lib/sandbox-steps.py in one of its slots (the CPU of each step of a run sandbox), prints the idle memory of
# the agent and its slots, and stops both.
#   scripts/bench.sh [--runs 60] [--concurrency 4] [--warmup 2000]   extra arguments go to pyth-on-bench
#   BENCH_POOL=4            slots per language (Agent__Pool__Python / Agent__Pool__JavaScript)
#   BENCH_AGENT_RUNS=40     sequential runs per language for the agent-only bench, 20 times as many at concurrency 4
#                           (after as many untimed ones; 0 skips it)
set -euo pipefail
cd "$(dirname "$0")/.."

POOL="${BENCH_POOL:-4}"
AGENT_RUNS="${BENCH_AGENT_RUNS:-40}"

./scripts/ensure-dotnet.sh
./scripts/ensure-docker.sh
IMAGE="$(./scripts/build-runtime-image.sh)"

echo "bench.sh: building (Release)…" >&2
for project in src/Sandbox.Agent src/Server benchmarks/PythOn.Bench benchmarks/PythOn.AgentBench benchmarks/PythOn.MaskBench; do
  dotnet build "$project" -c Release -nologo -clp:ErrorsOnly -v:q >&2
done

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

TMP="$(mktemp -d /tmp/pyth-on-bench.XXXXXX)"
SOCKET="$TMP/agent.sock"
REST_PORT="$(free_port)"
GRPC_PORT="$(free_port)"
while [ "$GRPC_PORT" = "$REST_PORT" ]; do GRPC_PORT="$(free_port)"; done
REST_URL="http://127.0.0.1:$REST_PORT"
GRPC_URL="http://127.0.0.1:$GRPC_PORT"

# The content root is the build output: appsettings.json there sets the endpoints' protocols (gRPC needs HTTP/2 only).
AGENT_BIN="$PWD/src/Sandbox.Agent/bin/Release/net10.0"
SERVER_BIN="$PWD/src/Server/bin/Release/net10.0"

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap stop INT TERM EXIT

# The JavaScript baseline is the sandbox's own node binary, started on the host with a clean environment.
node_box="$(docker create "$IMAGE" /bin/true)"
docker cp "$node_box:/usr/local/bin/node" "$TMP/node" >/dev/null
docker rm "$node_box" >/dev/null

Agent__SocketPath="$SOCKET" Agent__StateDir="$TMP" Agent__InstanceId="bench-$$" Agent__Image="$IMAGE" \
Agent__Pool__Python="$POOL" Agent__Pool__JavaScript="$POOL" \
  dotnet "$AGENT_BIN/PythOn.Sandbox.Agent.dll" --contentRoot "$AGENT_BIN" >"$TMP/agent.log" 2>&1 &
pids+=($!)

# The benchmark user makes hundreds of calls a minute at concurrency 4: lift the per-user rate limit and run cap for
# this server. Health shows its details to the operator key.
OPERATOR_KEY="bench-$$-$RANDOM$RANDOM"
PythOn__DataDirectory="$TMP/data" PythOn__Agents__0="unix:$SOCKET" \
PythOn__RateLimits__UserPerMinute=1000000 PythOn__RateLimits__AuthPerMinute=1000 \
PythOn__Limits__MaxConcurrentRunsPerUser=64 PythOn__OperatorKey="$OPERATOR_KEY" \
Kestrel__Endpoints__Rest__Url="$REST_URL" Kestrel__Endpoints__Grpc__Url="$GRPC_URL" ASPNETCORE_ENVIRONMENT=Production \
  dotnet "$SERVER_BIN/PythOn.Server.dll" --contentRoot "$SERVER_BIN" >"$TMP/server.log" 2>&1 &
pids+=($!)

# Ready when health says ok and every slot is idle.
echo "bench.sh: waiting for the agent (pool $POOL per language) and the server…" >&2
deadline=$((SECONDS + 180))
ready() {
  local health
  health="$(curl -fsS -H "x-operator-key: $OPERATOR_KEY" "$REST_URL/api/v1/health" 2>/dev/null)" || return 1
  python3 -c "
import json, sys
h = json.loads(sys.argv[1])
pool = h.get('pool', {})
sys.exit(0 if h.get('status') == 'ok' and pool.get('python', 0) >= $POOL and pool.get('javascript', 0) >= $POOL else 1)" "$health"
}
until ready; do
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "bench.sh: a process exited early" >&2; tail -n 30 "$TMP/agent.log" "$TMP/server.log" >&2; exit 1
    fi
  done
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "bench.sh: not ready within 180 s" >&2; tail -n 30 "$TMP/agent.log" "$TMP/server.log" >&2; exit 1
  fi
  sleep 0.5
done

# Idle memory: the agent process plus every process of its slot containers, per process and role, RSS, PSS and anonymous PSS
# (scripts/lib/idle-memory.py; scripts/idle-memory.sh measures it alone with the default pools).
python3 scripts/lib/idle-memory.py "${pids[0]}" "bench-$$"

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet benchmarks/PythOn.Bench/bin/Release/net10.0/pyth-on-bench.dll --rest "$REST_URL" --grpc "$GRPC_URL" --image "$IMAGE" --node "$TMP/node" "$@"
if [ "$AGENT_RUNS" -gt 0 ]; then
  echo
  echo "Agent alone (benchmarks/PythOn.AgentBench, $AGENT_RUNS sequential runs per language, timings from RunResult.timings):"
  dotnet benchmarks/PythOn.AgentBench/bin/Release/net10.0/PythOn.AgentBench.dll "$SOCKET" "$AGENT_RUNS" "$TMP/node"
fi
echo
# The floor under the slots' share: each step of a run sandbox alone, measured in one of this agent's python slots.
slot="$(docker ps -q --filter "label=pyth-on.agent=bench-$$" --filter label=pyth-on.language=python | head -n 1)"
if [ -n "$slot" ]; then
  docker exec -i -u "$(docker inspect -f '{{.Config.User}}' "$slot")" "$slot" python3 -I - 200 <scripts/lib/sandbox-steps.py \
    || echo "bench.sh: the run sandbox steps could not be measured (the slot was recycled?)"
fi
echo
dotnet benchmarks/PythOn.MaskBench/bin/Release/net10.0/PythOn.MaskBench.dll
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
