# Shared steps of the offline image builds (sourced by scripts/build-runtime-image.sh and
# scripts/build-installer-image.sh; not run on its own). No registry is reachable here, so an image is a
# debootstrap rootfs plus our files, imported with `docker import` and tagged by a hash of its inputs.
#
# The sourcing script sets, then calls `offline_image_main "$@"`:
#   IMAGE_NAME     log prefix, e.g. build-runtime-image
#   SUITE          Debian suite; PACKAGES: debootstrap --include list
#   REPO_NAME      image repository; the build is tagged REPO_NAME:<inputs hash> and REPO_NAME:current
#   INPUT_DIR      folder copied into the image (part of the hash)
#   SELF           the sourcing script (part of the hash: it holds the recipe)
#   ROOTFS_KEY_INPUT  what the cached rootfs depends on (suite + package lists), and ROOTFS_TAR_PREFIX
#   HASH_HEADER    the recipe's settings as text, first part of the hashed inputs
#   IMPORT_CHANGES array of `docker import --change` values; INPUTS_LABEL: image label that carries the hash
# and defines two hooks:
#   customize_rootfs DIR   after debootstrap, before the rootfs is cached
#   assemble_image WORK    on an unpacked copy of the cached rootfs, before the import
set -euo pipefail

MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE="${PYTH_ON_CACHE:-/var/cache/pyth-on}"
OFFLINE_IMAGE_LIB="${BASH_SOURCE[0]}"

log() { printf '%s: %s\n' "$IMAGE_NAME" "$*" >&2; }

# Scratch directories removed when the script exits, however it exits. One EXIT trap for all of them:
# a RETURN trap would outlive its function (bash keeps it for every later return, where its locals are
# unset, which `set -u` turns into "unbound variable"), and a second EXIT trap would replace the first.
SCRATCH_DIRS=()
remove_scratch_dirs() { if [ "${#SCRATCH_DIRS[@]}" -gt 0 ]; then rm -rf "${SCRATCH_DIRS[@]}"; fi; }
trap remove_scratch_dirs EXIT
die() { log "error: $*"; exit 1; }

# Hash of every input, in a stable order; file names are part of it.
inputs_hash() {
  {
    printf '%s' "$HASH_HEADER"
    sha256sum "$SELF" "$OFFLINE_IMAGE_LIB" | cut -d' ' -f1
    (cd "$INPUT_DIR" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-16
}

# The debootstrap rootfs, cached as a tarball keyed by suite + packages only: a change of our own files
# costs an import (seconds), not a debootstrap (a minute or more).
ensure_rootfs() {
  if [ -s "$ROOTFS_TAR" ]; then
    log "using cached rootfs $ROOTFS_TAR"
    return
  fi
  [ "$(id -u)" -eq 0 ] || die "debootstrap needs root"
  command -v debootstrap >/dev/null || die "debootstrap is missing (scripts/ensure-docker.sh installs it)"
  mkdir -p "$CACHE"
  local dir bootstrap_log="$CACHE/$ROOTFS_TAR_PREFIX-debootstrap.log"
  dir="$(mktemp -d "$CACHE/$ROOTFS_TAR_PREFIX.XXXXXX")"
  SCRATCH_DIRS+=("$dir")
  log "debootstrap $SUITE ($PACKAGES) from $MIRROR; this takes a minute or more"
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$dir" "$MIRROR" >"$bootstrap_log" 2>&1 \
    || { tail -n 30 "$bootstrap_log" >&2; die "debootstrap failed (full log: $bootstrap_log)"; }
  customize_rootfs "$dir" "$bootstrap_log"
  # Package caches and docs are dead weight in an image.
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* \
         "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/*
  tar --numeric-owner -C "$dir" -cf "$ROOTFS_TAR.tmp" .
  mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  rm -rf "$dir"
  log "cached rootfs at $ROOTFS_TAR ($(du -h "$ROOTFS_TAR" | cut -f1))"
}

# Copies a folder of ours into the image, root-owned and read-only to everyone else.
install_tree() {
  local source="$1" target="$2"
  mkdir -p "$target"
  cp -a "$source"/. "$target/"
  chown -R 0:0 "$target"
  chmod -R a+rX,go-w "$target"
}

offline_image_main() {
  local mode=build
  case "${1:-}" in
    "") ;;
    --tag) mode=tag ;;
    --rootfs) mode=rootfs ;;
    *) die "unknown option '$1' (use --tag or --rootfs)" ;;
  esac
  [ -d "$INPUT_DIR" ] || die "$(basename "$INPUT_DIR")/ not found at $INPUT_DIR"

  ROOTFS_TAR="$CACHE/$ROOTFS_TAR_PREFIX-$SUITE-$(printf '%s' "$ROOTFS_KEY_INPUT" | sha256sum | cut -c1-16).tar"
  TAG="$REPO_NAME:$(inputs_hash)"
  if [ "$mode" = tag ]; then
    echo "$TAG"
    return
  fi

  ensure_rootfs
  [ "$mode" = rootfs ] && return

  command -v docker >/dev/null || die "docker CLI is missing (run scripts/ensure-docker.sh)"
  docker info >/dev/null 2>&1 || die "docker engine does not answer (run scripts/ensure-docker.sh)"

  if docker image inspect "$TAG" >/dev/null 2>&1; then
    log "image $TAG exists; nothing to build"
  else
    [ "$(id -u)" -eq 0 ] || die "assembling the image needs root (file ownership)"
    local change work
    work="$(mktemp -d "$CACHE/$REPO_NAME-image.XXXXXX")"
    SCRATCH_DIRS+=("$work")
    tar --numeric-owner -C "$work" -xf "$ROOTFS_TAR"
    assemble_image "$work"
    # No setuid/setgid binaries: no-new-privileges already neuters them; this is a second lock.
    find "$work" -xdev -type f -perm /6000 -exec chmod ug-s {} +
    local args=(--change "LABEL $INPUTS_LABEL=${TAG#*:}")
    for change in "${IMPORT_CHANGES[@]}"; do args+=(--change "$change"); done
    log "importing $TAG"
    tar --numeric-owner -C "$work" -c . | docker import "${args[@]}" - "$TAG" >/dev/null
  fi
  docker tag "$TAG" "$REPO_NAME:current"
  log "image ready: $TAG (also tagged $REPO_NAME:current)"
  echo "$TAG"
}
