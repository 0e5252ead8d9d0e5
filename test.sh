#!/usr/bin/env bash
# Runs every test against real parts: installs and starts Docker when missing, starts a throwaway PostgreSQL cluster
# for the PostgreSQL storage tests (scripts/ensure-postgres.sh; installs Debian's postgresql when missing), installs Debian's chromium (for the
# API reference page's browser tests, scripts/ensure-chromium.sh) when missing, proves that both images build from
# an empty cache (scripts/check-cold-image-build.sh), builds the sandbox runtime image and the package installer
# image when missing, builds the solution and runs all xunit projects, then the deployment checks
# (scripts/check-deployment.sh: the Dockerfile's images, docker-compose up/run/down, the Kubernetes manifests).
# Prints "N passed, N failed" last, the xunit tests and the deployment checks added up.
#
#   ./test.sh           everything; the CI command (.ci/run)
#   ./test.sh --fast    only the classes marked [Trait(Tier.Name, Tier.Fast)] (tests/PythOn.TestSupport/Tier.cs):
#                       no Docker, no PostgreSQL, no browser, no images, no root, no deployment checks. Docker is made unreachable for them,
#                       so one that needs it fails.
# Further arguments go to `dotnet test` (e.g. --filter "FullyQualifiedName~SecretMasker").
set -euo pipefail
cd "$(dirname "$0")"

fast=false
if [ "${1:-}" = "--fast" ]; then
  fast=true
  shift
fi

./scripts/ensure-dotnet.sh
if [ "$fast" = false ]; then
  ./scripts/ensure-docker.sh
  ./scripts/ensure-postgres.sh >/dev/null   # the PostgreSQL storage tests; stops test.sh when it cannot start
  ./scripts/ensure-chromium.sh   # the API reference page's browser tests
  # First the cold path (empty cache, as on a fresh machine), then the images the tests use (cached rootfs).
  ./scripts/check-cold-image-build.sh
  ./scripts/build-runtime-image.sh
  ./scripts/build-installer-image.sh
fi

dotnet build PythOn.sln -c Release -nologo -clp:ErrorsOnly

if [ "$fast" = true ]; then
  # Nothing in the fast tier may reach Docker: the CLI, Docker.DotNet and any agent a test starts see no engine.
  export DOCKER_HOST=unix:///nonexistent/pyth-on-fast-tier/docker.sock
  export Agent__DockerEndpoint="$DOCKER_HOST"
  set -- --filter "Tier=Fast" "$@"
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test PythOn.sln -c Release --no-build -nologo --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log" || status=$?

# dotnet test prints one summary per test assembly; add them up into the one closing line CI reads.
count() { { grep -Eo "^ +$1: +[0-9]+" "$log" || true; } | awk '{s+=$2} END {print s+0}'; }
passed=$(count Passed)
failed=$(count Failed)
skipped=$(count Skipped)

# The deployment checks (full tier only): one PASS/FAIL line each, counted with the tests.
if [ "$fast" = false ]; then
  deploy_log=$(mktemp)
  trap 'rm -f "$log" "$deploy_log"' EXIT
  deploy_status=0
  ./scripts/check-deployment.sh 2>&1 | tee "$deploy_log" || deploy_status=$?
  deploy_passed=$(grep -c '^check-deployment: PASS' "$deploy_log" || true)
  deploy_failed=$(grep -c '^check-deployment: FAIL' "$deploy_log" || true)
  if [ "$deploy_status" -ne 0 ] && [ "$deploy_failed" -eq 0 ]; then deploy_failed=1; fi # it stopped before a check
  passed=$((passed + deploy_passed))
  failed=$((failed + deploy_failed))
fi
if [ "$status" -eq 0 ] && [ "$passed" -eq 0 ]; then
  echo "test.sh: no test ran" >&2
  status=1
fi
if [ "$failed" -ne 0 ]; then
  status=1
  # CI shows the end of the output: repeat each failed test with the start of its message just above the count.
  echo "test.sh: the failed tests, again:"
  awk '/^ +Failed [A-Za-z]/ {n=30} /^ +(Passed|Skipped) [A-Za-z]/ {n=0} n>0 {print; n--}' "$log"
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
