# Pyth-On package installer. Runs as /usr/bin/python3 /opt/pyth-on-installer/install.py in the INSTALL
# container (non-root, no capabilities, read-only root, /tmp tmpfs, /out = a fresh staging directory).
#
#   install.py python     INDEX_URL  REQUIREMENT...    pip install --only-binary=:all: --target /out/site-packages
#   install.py javascript REGISTRY   REQUIREMENT...    npm install --ignore-scripts --prefix /out
#
# No package code runs: pip installs wheels only (no setup.py builds), npm runs no lifecycle scripts.
# On success it writes /out/pyth-on-manifest.json {"resolved": ["name==version" | "name@version", ...]}
# and exits 0; on failure it exits with the installer's status (its messages are on stderr).
import json
import os
import subprocess
import sys

OUT = "/out"


def fail(message, code=2):
    print("install.py: " + message, file=sys.stderr, flush=True)
    sys.exit(code)


def run(argv):
    # Output goes straight to our stdout/stderr, which the agent streams as progress lines.
    return subprocess.run(argv, stdin=subprocess.DEVNULL).returncode


def dist_info_resolved(site):
    resolved = []
    for entry in sorted(os.listdir(site)):
        if not entry.endswith(".dist-info"):
            continue
        name = version = None
        try:
            with open(os.path.join(site, entry, "METADATA"), encoding="utf-8", errors="replace") as f:
                for line in f:
                    if line.strip() == "":
                        break
                    if line.startswith("Name:"):
                        name = line[5:].strip()
                    elif line.startswith("Version:"):
                        version = line[8:].strip()
        except OSError:
            pass
        if name and version:
            normalized = "-".join(part for part in name.lower().replace("_", "-").replace(".", "-").split("-") if part)
            resolved.append(f"{normalized}=={version}")
    return sorted(set(resolved))


def npm_resolved():
    try:
        with open(os.path.join(OUT, "package-lock.json"), encoding="utf-8") as f:
            lock = json.load(f)
    except (OSError, ValueError):
        return []
    resolved = set()
    for key, info in (lock.get("packages") or {}).items():
        if not key or "node_modules/" not in key or not isinstance(info, dict):
            continue
        name = key.rsplit("node_modules/", 1)[1]
        version = info.get("version")
        if isinstance(version, str) and name:
            resolved.add(f"{name}@{version}")
    return sorted(resolved)


def main():
    if len(sys.argv) < 4:
        fail("usage: install.py python|javascript INDEX REQUIREMENT...")
    language, index, requirements = sys.argv[1], sys.argv[2], sys.argv[3:]
    for r in requirements:
        if not r or r.startswith("-"):
            fail(f"refusing requirement {r!r}")
    if language == "python":
        site = os.path.join(OUT, "site-packages")
        os.makedirs(site, exist_ok=True)
        code = run([sys.executable, "-m", "pip", "install",
                    "--only-binary=:all:", "--no-cache-dir", "--disable-pip-version-check", "--no-input",
                    "--no-warn-script-location", "--progress-bar", "off", "--no-color",
                    "--target", site, "--index-url", index, "--"] + requirements)
        if code != 0:
            sys.exit(code)
        resolved = dist_info_resolved(site)
    elif language == "javascript":
        code = run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--no-update-notifier",
                    "--color=false", "--prefix", OUT, "--registry", index, "--cache", "/tmp/npm-cache",
                    "--"] + requirements)
        if code != 0:
            sys.exit(code)
        resolved = npm_resolved()
    else:
        fail(f"unknown language {language!r}")
    with open(os.path.join(OUT, "pyth-on-manifest.json"), "w", encoding="utf-8") as f:
        json.dump({"language": language, "resolved": resolved}, f)
    # Readable by every sandbox uid, writable by nobody but the owner (the agent re-owns it to root).
    subprocess.run(["chmod", "-R", "a+rX,go-w", OUT])
    print(f"install.py: installed {len(resolved)} package(s)", flush=True)


if __name__ == "__main__":
    main()
