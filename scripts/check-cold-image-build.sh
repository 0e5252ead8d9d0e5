#!/usr/bin/env bash
# Proves the first-run path of both image builds: builds the runtime and installer images from an EMPTY cache
# directory (debootstrap, the Node.js download, assembly, import) under throwaway repository names, checks that
# their interpreters start, then removes the images and the cache. A warm cache on a developer's machine (or CI's)
# can hide a broken first run; test.sh runs this every time, so that class of bug cannot land again.
#   PYTH_ON_SKIP_COLD_BUILD=1  skip it (local loops only; CI never sets it)
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf 'check-cold-image-build: %s\n' "$*" >&2; }

if [ "${PYTH_ON_SKIP_COLD_BUILD:-0}" = 1 ]; then
  log "skipped (PYTH_ON_SKIP_COLD_BUILD=1)"
  exit 0
fi

cache="$(mktemp -d /var/tmp/pyth-on-cold-cache.XXXXXX)"
suffix="cold-check-$$"
images=()
cleanup() {
  for image in "${images[@]}"; do docker rmi -f "$image" "${image%%:*}:current" >/dev/null 2>&1 || true; done
  rm -rf "$cache"
}
trap cleanup EXIT

start=$(date +%s)
runtime="$(PYTH_ON_CACHE="$cache" PYTH_ON_RUNTIME_REPO="pyth-on-runtime-$suffix" ./scripts/build-runtime-image.sh)"
images+=("$runtime")
installer="$(PYTH_ON_CACHE="$cache" PYTH_ON_INSTALLER_REPO="pyth-on-installer-$suffix" ./scripts/build-installer-image.sh)"
images+=("$installer")

run() { docker run --rm --network none --log-driver none "$@"; }
[ "$(run "$runtime" /usr/bin/python3 -c 'import seccomp, nacl, argon2; print("ok")')" = ok ] || { log "runtime python broken"; exit 1; }
run "$runtime" /usr/local/bin/node -e 'process.exit(process.versions.node.startsWith("22.") ? 0 : 1)' || { log "runtime node broken"; exit 1; }
run "$installer" /usr/bin/python3 -m pip --version >/dev/null || { log "installer pip broken"; exit 1; }
run "$installer" /usr/bin/npm --version >/dev/null || { log "installer npm broken"; exit 1; }
log "both images built from an empty cache and start ($(( $(date +%s) - start )) s)"
