#!/usr/bin/env bash
# Builds local stand-ins for the public .NET base images offline, because no image registry is reachable here:
#   pyth-on-dotnet-sdk:<hash>     like mcr.microsoft.com/dotnet/sdk:10.0     (SDK + runtimes)
#   pyth-on-dotnet-aspnet:<hash>  like mcr.microsoft.com/dotnet/aspnet:10.0  (Microsoft.NETCore.App + AspNetCore.App)
# each also tagged :current. Both are a debootstrap rootfs with the libraries the official images carry (the
# "runtime-deps" set) plus this machine's own .NET install ($DOTNET_ROOT, default the directory of `dotnet`),
# laid out as in the official images: /usr/share/dotnet, /usr/bin/dotnet, user `app` (uid/gid 1654, $APP_UID).
# This machine's local CA certificates (/usr/local/share/ca-certificates, where Debian keeps the ones an operator
# adds: here, the CAs of the network's TLS-inspecting egress) are added to both, as an operator adds theirs to
# the official images; so is NUGET_CERT_REVOCATION_MODE to the SDK image when this machine sets it.
# Prints "SDK_IMAGE=<tag>" and "ASPNET_IMAGE=<tag>" on stdout (the Dockerfile's build arguments).
# No plain `runtime` image: both of our processes are ASP.NET Core applications.
#
#   scripts/build-dotnet-base-images.sh          build (or reuse) both images
#   scripts/build-dotnet-base-images.sh --tag    only print the tags the current inputs give, build nothing
#
#   DOTNET_ROOT    the .NET install copied into the images (default: resolved from `dotnet` on PATH)
#   DEBIAN_MIRROR / PYTH_ON_CACHE  as for scripts/build-runtime-image.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [ -z "${DOTNET_ROOT:-}" ]; then
  command -v dotnet >/dev/null || { echo "build-dotnet-base-images: dotnet is not on PATH (scripts/ensure-dotnet.sh)" >&2; exit 1; }
  DOTNET_ROOT="$(dirname "$(readlink -f "$(command -v dotnet)")")"
fi

SUITE=bookworm
# The official images' runtime-deps set (glibc, libgcc and libstdc++ come with minbase).
PACKAGES=ca-certificates,libicu72,libssl3,tzdata,zlib1g
ROOTFS_KEY_INPUT="$SUITE|$PACKAGES"
ROOTFS_TAR_PREFIX=dotnet-rootfs
INPUT_DIR="$DOTNET_ROOT"
SELF="$ROOT/scripts/build-dotnet-base-images.sh"
APP_UID=1654
LOCAL_CAS=/usr/local/share/ca-certificates
local_cas_hash() { (cd "$LOCAL_CAS" 2>/dev/null && find . -name '*.crt' -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum) | sha256sum | cut -c1-16; }
SDK_EXTRA_ENV=""
[ -n "${NUGET_CERT_REVOCATION_MODE:-}" ] && SDK_EXTRA_ENV=" NUGET_CERT_REVOCATION_MODE=$NUGET_CERT_REVOCATION_MODE"
# The official images' environment, so the Dockerfile behaves the same on either base.
BASE_ENV="PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin APP_UID=$APP_UID DOTNET_RUNNING_IN_CONTAINER=true DOTNET_VERSION=$(dotnet --list-runtimes | awk '/^Microsoft.NETCore.App/ {v=$2} END {print v}')"

customize_rootfs() {
  local dir="$1"
  chroot "$dir" groupadd --gid "$APP_UID" app
  chroot "$dir" useradd --uid "$APP_UID" --gid "$APP_UID" --no-create-home --shell /bin/false app
}

# The machine's local CAs into the image's trust store.
add_local_cas() {
  local work="$1"
  compgen -G "$LOCAL_CAS/*.crt" >/dev/null || return 0
  cp "$LOCAL_CAS"/*.crt "$work/usr/local/share/ca-certificates/"
  chroot "$work" update-ca-certificates >/dev/null 2>&1
}

# Copies the parts of the .NET install an image gets (relative paths under $DOTNET_ROOT).
copy_dotnet() {
  local work="$1"; shift
  mkdir -p "$work/usr/share/dotnet"
  (cd "$DOTNET_ROOT" && cp -a --parents "$@" "$work/usr/share/dotnet/")
  chown -R 0:0 "$work/usr/share/dotnet"
  chmod -R a+rX,go-w "$work/usr/share/dotnet"
  ln -sf /usr/share/dotnet/dotnet "$work/usr/bin/dotnet"
}

build_one() {
  local kind="$1" mode="$2"
  (
    IMAGE_NAME="build-dotnet-base-images ($kind)"
    REPO_NAME="pyth-on-dotnet-$kind"
    HASH_HEADER="$(printf 'suite=%s\npackages=%s\nkind=%s\nenv=%s%s\ncas=%s\n' "$SUITE" "$PACKAGES" "$kind" "$BASE_ENV" "$SDK_EXTRA_ENV" "$(local_cas_hash)")"
    INPUTS_LABEL=pyth-on.dotnet-base-inputs
    if [ "$kind" = sdk ]; then
      IMPORT_CHANGES=("ENV $BASE_ENV DOTNET_NOLOGO=true DOTNET_CLI_TELEMETRY_OPTOUT=true DOTNET_GENERATE_ASPNET_CERTIFICATE=false$SDK_EXTRA_ENV" 'WORKDIR /')
      assemble_image() { add_local_cas "$1"; copy_dotnet "$1" $(cd "$DOTNET_ROOT" && ls); }
    else
      IMPORT_CHANGES=("ENV $BASE_ENV ASPNETCORE_HTTP_PORTS=8080" 'WORKDIR /')
      assemble_image() {
        add_local_cas "$1"
        copy_dotnet "$1" dotnet host LICENSE.txt ThirdPartyNotices.txt shared/Microsoft.NETCore.App shared/Microsoft.AspNetCore.App
      }
    fi
    source "$ROOT/scripts/lib/offline-image.sh"
    if [ "$mode" = tag ]; then offline_image_main --tag; return; fi
    local tag
    tag="$(offline_image_main)"
    # Earlier builds of this stand-in (e.g. before this machine's CAs changed) are ~1 GB of dead weight.
    docker images --format '{{.Repository}}:{{.Tag}}' "$REPO_NAME" | grep -vx -e "$tag" -e "$REPO_NAME:current" \
      | xargs -r docker rmi >/dev/null 2>&1 || true
    echo "$tag"
  )
}

mode=build
case "${1:-}" in
  "") ;;
  --tag) mode=tag ;;
  *) echo "build-dotnet-base-images: unknown option '$1' (use --tag)" >&2; exit 1 ;;
esac
sdk="$(build_one sdk "$mode")"
aspnet="$(build_one aspnet "$mode")"
echo "SDK_IMAGE=$sdk"
echo "ASPNET_IMAGE=$aspnet"
