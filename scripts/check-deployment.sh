#!/usr/bin/env bash
# The deployment checks (./test.sh runs this): builds the service images from the Dockerfile here, checks them,
# brings compose.yaml up with Debian's docker-compose, serves a run through it end to end, takes it down, and
# validates the Kubernetes manifests (scripts/check-kubernetes-manifests.sh). One PASS/FAIL line per check, then
# "deployment checks: N passed, N failed"; exit 1 when any failed.
#
# The compose project runs beside anything else on this Docker host: its own project name, agent instance id,
# host directories and free loopback ports; everything it started is removed on exit, however it exits.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { printf 'check-deployment: %s\n' "$*" >&2; }

passed=0
failed=0
pass() { echo "check-deployment: PASS $*"; passed=$((passed + 1)); }
fail() { echo "check-deployment: FAIL $*"; failed=$((failed + 1)); }
# check NAME EXPECTED ACTUAL
check() { if [ "$2" = "$3" ]; then pass "$1 ($3)"; else fail "$1: expected '$2', got '$3'"; fi; }

if ! command -v docker-compose >/dev/null 2>&1; then
  [ "$(id -u)" -eq 0 ] || { log "need root to install docker-compose"; exit 1; }
  log "installing: docker-compose"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
fi
scripts/ensure-docker.sh

# ---- images ----
scripts/build-runtime-image.sh >/dev/null
scripts/build-installer-image.sh >/dev/null
mapfile -t images < <(scripts/build-service-images.sh)
SERVER_IMAGE="${images[0]}"
AGENT_IMAGE="${images[1]}"
VERSION="${SERVER_IMAGE##*:}"
REVISION="$(git rev-parse HEAD)"
git diff --quiet HEAD -- || REVISION="$REVISION-dirty"

label() { docker image inspect -f "{{index .Config.Labels \"org.opencontainers.image.$2\"}}" "$1"; }
for image in "$SERVER_IMAGE" "$AGENT_IMAGE"; do
  check "$image label org.opencontainers.image.version" "$VERSION" "$(label "$image" version)"
  check "$image label org.opencontainers.image.revision" "$REVISION" "$(label "$image" revision)"
  if docker image inspect -f '{{json .Config.Labels}}' "$image" | grep -q '"org.opencontainers.image.source"'; then
    pass "$image has label org.opencontainers.image.source ('$(label "$image" source)')"
  else
    fail "$image has no label org.opencontainers.image.source"
  fi
  if [ -n "$(docker image inspect -f '{{if .Config.Healthcheck}}{{join .Config.Healthcheck.Test " "}}{{end}}' "$image")" ]; then
    pass "$image has a HEALTHCHECK"
  else
    fail "$image has no HEALTHCHECK"
  fi
done
# The server runs as the base image's non-root `app` user; the agent as uid 0 with group app (Dockerfile says why).
check "server image user" "1654" "$(docker image inspect -f '{{.Config.User}}' "$SERVER_IMAGE")"
check "server container runs as uid:gid" "1654:1654" "$(docker run --rm --network none --entrypoint sh "$SERVER_IMAGE" -c 'echo "$(id -u):$(id -g)"')"
check "agent container runs as uid:gid" "0:1654" "$(docker run --rm --network none --entrypoint sh "$AGENT_IMAGE" -c 'echo "$(id -u):$(id -g)"')"
# The health probe runs on the image's runtime and says why a target is unhealthy.
probe_out="$(docker run --rm --network none --entrypoint dotnet "$SERVER_IMAGE" /opt/pyth-on/probe/PythOn.HealthProbe.dll http://127.0.0.1:1/ 2>&1)" && probe_rc=0 || probe_rc=$?
if [ "$probe_rc" -eq 1 ] && grep -q '^unhealthy:' <<<"$probe_out"; then
  pass "health probe in the image reports an unreachable target (exit 1: $probe_out)"
else
  fail "health probe in the image: exit $probe_rc, output '$probe_out'"
fi

# ---- compose ----
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PROJECT="pyth-on-check-$$"
INSTANCE="check-$$-$RANDOM"
STATE_DIR="$(mktemp -d /run/pyth-on-check-state.XXXXXX)"
STORE_DIR="$(mktemp -d /var/tmp/pyth-on-check-store.XXXXXX)"
REST_PORT="$(free_port)"
GRPC_PORT="$(free_port)"
REST="http://127.0.0.1:$REST_PORT"
export PYTH_ON_IMAGE_TAG="$VERSION" PYTH_ON_INSTANCE_ID="$INSTANCE" \
  PYTH_ON_HOST_STATE_DIR="$STATE_DIR" PYTH_ON_HOST_PACKAGE_STORE="$STORE_DIR" \
  PYTH_ON_REST_PORT="127.0.0.1:$REST_PORT" PYTH_ON_GRPC_PORT="127.0.0.1:$GRPC_PORT"
compose() { docker-compose -p "$PROJECT" -f compose.yaml "$@"; }
work="$(mktemp -d)"

cleanup() {
  local rc=$?
  if [ "$failed" -gt 0 ] || [ "$rc" -ne 0 ]; then
    log "compose logs (last 40 lines per service):"
    compose logs --no-color --tail 40 >&2 2>&1 || true
  fi
  compose down -v --timeout 60 >/dev/null 2>&1 || true
  # Whatever the agent did not remove (it failed to start, was killed, ...).
  docker ps -aq --filter "label=pyth-on.agent=$INSTANCE" | xargs -r docker rm -f >/dev/null 2>&1 || true
  rm -rf "$STATE_DIR" "$STORE_DIR" "$work"
}
trap cleanup EXIT

# poll DEADLINE_SECONDS COMMAND...: until the command succeeds.
poll() {
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}
http() { curl -s -o "$work/body" -w '%{http_code}' "$@"; }
json() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/body" "$1"; }

log "docker-compose up (project $PROJECT, REST $REST)"
if compose up -d --no-build >"$work/up.log" 2>&1; then
  pass "docker-compose up -d"
else
  fail "docker-compose up -d: $(tail -n 20 "$work/up.log")"
  exit 1
fi

server_ready() { [ "$(http "$REST/api/v1/health")" = 200 ]; }
if poll 120 server_ready; then pass "server answers REST through the published port"; else fail "server did not answer $REST/api/v1/health within 120 s"; fi

server_container="$(compose ps -q server)"
agent_container="$(compose ps -q agent)"
check "server process (pid 1) uid in its container" "1654" \
  "$(docker exec "$server_container" sh -c "awk '/^Uid:/ {print \$2}' /proc/1/status")"
check "agent container capabilities" "CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER" \
  "$(docker inspect -f '{{range .HostConfig.CapAdd}}{{.}} {{end}}' "$agent_container" | xargs -n1 | sed 's/^\(CAP_\)\?/CAP_/' | sort | xargs)"

code="$(http -X POST "$REST/api/register" -H 'content-type: application/json' \
  -d "{\"email\":\"compose-$$@example.com\",\"password\":\"secureP@ss123\"}")"
check "register through compose answers" "201" "$code"
KEY="$(json apiKey 2>/dev/null || true)"

run_python() {
  [ "$(http -X POST "$REST/api/v1/execute" -H "x-api-key: $KEY" -H 'content-type: application/json' \
    -d '{"language":"python","code":"import os\nprint(\"hello from compose\", 6 * 7, os.getuid() != 0)"}')" = 200 ]
}
# The agent's first slots start after it does: a run may answer 503 until then.
if poll 120 run_python; then
  check "python run through compose: output" "hello from compose 42 True" "$(json output | tr -d '\n')"
  check "python run through compose: exit code" "0" "$(json exitCode)"
else
  fail "python run through compose: no 200 within 120 s (last: $(cat "$work/body"))"
fi
# A package install: the install container mounts the agent's HOST paths (the staging directory under the store
# root, the egress socket in the state directory) and the agent chowns the store, all from inside its container.
code="$(http -X POST "$REST/api/v1/packages" -H "x-api-key: $KEY" -H 'content-type: application/json' \
  -d '{"language":"javascript","package":"is-number@7.0.0"}')"
check "add a javascript package through compose answers" "200" "$code"
package_settled() {
  http "$REST/api/v1/packages?language=javascript" -H "x-api-key: $KEY" >/dev/null
  grep -Eq 'PACKAGE_STATUS_(READY|FAILED)' "$work/body"
}
poll 300 package_settled || true
package_status() { python3 -c 'import json, sys; p = json.load(open(sys.argv[1]))["packages"][0]; print(p["status"], p.get("message", ""))' "$work/body"; }
check "javascript package status after the install" "PACKAGE_STATUS_READY" "$(package_status 2>/dev/null | xargs)"
check "owner of the files in the package store on the host (chowned to root by the agent)" "0" \
  "$(find "$STORE_DIR"/js-*/ -mindepth 1 -printf '%U\n' 2>/dev/null | sort -u | xargs)"
run_js() {
  [ "$(http -X POST "$REST/api/v1/execute" -H "x-api-key: $KEY" -H 'content-type: application/json' \
    -d '{"language":"javascript","code":"const isNumber = require(\"is-number\"); console.log(isNumber(5), isNumber(\"x\"))"}')" = 200 ]
}
if poll 60 run_js; then
  check "javascript run with the installed package: output" "true false" "$(json output | tr -d '\n')"
else
  fail "javascript run with the installed package: no 200 within 60 s (last: $(cat "$work/body"))"
fi
check "GET /health/live through compose" "200" "$(http "$REST/health/live")"
check "GET /health/ready through compose (storage writable, an agent with capacity)" "200" "$(http "$REST/health/ready")"
# The images' HEALTHCHECKs (the probe: the server's /health/live, the agent's grpc.health.v1 on its socket);
# Docker runs the first one 30 s after the start.
health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$1"; }
both_healthy() { [ "$(health "$server_container")" = healthy ] && [ "$(health "$agent_container")" = healthy ]; }
poll 120 both_healthy || true
check "Docker health of the server container" "healthy" "$(health "$server_container")"
check "Docker health of the agent container" "healthy" "$(health "$agent_container")"
slots="$(docker ps -q --filter "label=pyth-on.agent=$INSTANCE" | wc -l)"
if [ "$slots" -gt 0 ]; then pass "the agent started $slots slot containers on the host's Docker"; else fail "no slot container labelled pyth-on.agent=$INSTANCE"; fi

log "docker-compose down"
if compose down -v --timeout 60 >"$work/down.log" 2>&1; then pass "docker-compose down"; else fail "docker-compose down: $(tail -n 20 "$work/down.log")"; fi
check "containers of the compose project after down" "0" "$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT" | wc -l)"
check "slot containers of the agent after down (removed by the agent on SIGTERM)" "0" \
  "$(docker ps -aq --filter "label=pyth-on.agent=$INSTANCE" | wc -l)"

# ---- Kubernetes ----
if scripts/check-kubernetes-manifests.sh; then pass "Kubernetes manifests"; else fail "Kubernetes manifests (see above)"; fi

echo "deployment checks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
