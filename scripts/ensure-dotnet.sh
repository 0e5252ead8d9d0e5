#!/usr/bin/env bash
# The .NET 10 SDK builds everything. Debian's archive has no .NET package, so say how to get one.
set -euo pipefail
if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET 10 SDK is not installed (dotnet is not on PATH)." >&2
  echo "Install it from https://dotnet.microsoft.com/download/dotnet/10.0 (or Microsoft's Debian package feed), then re-run." >&2
  exit 1
fi
if ! dotnet --list-sdks | grep -q '^10\.'; then
  echo "error: a .NET 10 SDK is required; found: $(dotnet --list-sdks | tr '\n' ' ')" >&2
  exit 1
fi
