#!/usr/bin/env bash
# Builds the service images from the top-level Dockerfile, on this machine with no image registry: the base images
# are the local stand-ins from scripts/build-dotnet-base-images.sh, given as build arguments. Prints the two tags.
#
#   scripts/build-service-images.sh     pyth-on-server:<version> and pyth-on-agent:<version>, both also :current
#
# The build's RUN steps restore from NuGet, so they run on the host network (dockerd here has no default bridge).
# Labels: org.opencontainers.image.version (Directory.Build.props), .revision (git HEAD, "-dirty" with local
# changes), .source (PYTH_ON_IMAGE_SOURCE, else the git remote "origin", else empty).
#   PYTH_ON_SERVER_REPO / PYTH_ON_AGENT_REPO  image repositories (default pyth-on-server / pyth-on-agent)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { printf 'build-service-images: %s\n' "$*" >&2; }

SERVER_REPO="${PYTH_ON_SERVER_REPO:-pyth-on-server}"
AGENT_REPO="${PYTH_ON_AGENT_REPO:-pyth-on-agent}"

# SDK_IMAGE=... and ASPNET_IMAGE=... lines.
bases="$(scripts/build-dotnet-base-images.sh)"
SDK_IMAGE="$(sed -n 's/^SDK_IMAGE=//p' <<<"$bases")"
ASPNET_IMAGE="$(sed -n 's/^ASPNET_IMAGE=//p' <<<"$bases")"

VERSION="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -n1)"
[ -n "$VERSION" ] || { log "error: no <Version> in Directory.Build.props"; exit 1; }
REVISION="unknown"
if git rev-parse --git-dir >/dev/null 2>&1; then
  REVISION="$(git rev-parse HEAD)"
  git diff --quiet HEAD -- 2>/dev/null || REVISION="$REVISION-dirty"
fi
SOURCE="${PYTH_ON_IMAGE_SOURCE:-$(git remote get-url origin 2>/dev/null || true)}"

build() {
  local target="$1" repo="$2" out
  log "building target $target as $repo:$VERSION (base $SDK_IMAGE / $ASPNET_IMAGE)"
  out="$(mktemp)"
  if ! docker build --network host --target "$target" \
      --build-arg SDK_IMAGE="$SDK_IMAGE" --build-arg ASPNET_IMAGE="$ASPNET_IMAGE" \
      --build-arg VERSION="$VERSION" --build-arg REVISION="$REVISION" --build-arg SOURCE="$SOURCE" \
      -t "$repo:$VERSION" -t "$repo:current" . >"$out" 2>&1; then
    tail -n 40 "$out" >&2
    rm -f "$out"
    log "error: docker build --target $target failed"
    exit 1
  fi
  rm -f "$out"
  log "image ready: $repo:$VERSION (also $repo:current)"
  echo "$repo:$VERSION"
}

build server "$SERVER_REPO"
build agent "$AGENT_REPO"
# The builds these replaced (every commit is a new revision label) are dangling now.
for title in "Pyth-On server" "Pyth-On sandbox agent"; do
  docker image prune -f --filter "label=org.opencontainers.image.title=$title" >/dev/null 2>&1 || true
done
