# Pyth-On package installer. Runs as /usr/bin/python3 /opt/pyth-on-installer/install.py in the INSTALL
# container (non-root, no capabilities, read-only root, /tmp tmpfs, /out = a fresh staging directory).
#
#   install.py python     INDEX_URL  REQUIREMENT...    pip install --only-binary=:all: --target /out/site-packages
#   install.py javascript REGISTRY   REQUIREMENT...    npm install --ignore-scripts --prefix /out
#
# No package code runs: pip installs wheels only (no setup.py builds), npm runs no lifecycle scripts.
# On success it writes /out/pyth-on-manifest.json {"resolved": ["name==version" | "name@version", ...]}
# and exits 0; on failure it exits with the installer's status (its messages are on stderr).
#
# With PYTH_ON_OUTPUT=tar (the agent's mode: /out is a tmpfs sized at the store limit, so the kernel enforces
# the quota while the install runs) all progress goes to stderr and, on success, the finished tree is written to
# stdout as one tar stream (regular files, directories and symlinks only, no owners, mtime 0); the agent
# extracts and checks it. Without it (older agents: /out is a bind-mounted host directory) progress goes to
# stdout and the tree is left in /out. Exit codes that name a full file system (checked after a failure):
#   90  /out has no space left  (the store size limit)     91  /out has no inodes left  (the store file limit)
#   92  /tmp has no space or inodes left
import json
import os
import socket
import stat
import subprocess
import sys
import tarfile
import threading

OUT = "/out"
PROXY_PORT = 3128
TAR_MODE = os.environ.get("PYTH_ON_OUTPUT") == "tar"
EXIT_STORE_BYTES, EXIT_STORE_FILES, EXIT_TMP_FULL = 90, 91, 92


def start_egress_relay():
    """With no network (the default), the only way out is the agent's egress proxy on a unix socket: relay
    127.0.0.1:3128 (this container's own loopback) to it, and point pip and npm at it. Returns the proxy URL."""
    path = os.environ.get("PYTH_ON_EGRESS_SOCKET")
    if not path:
        return None
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", PROXY_PORT))
    listener.listen(64)

    def pipe(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def serve():
        while True:
            client, _ = listener.accept()
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(path)
            except OSError:
                client.close()
                continue
            threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{PROXY_PORT}"


def fail(message, code=2):
    print("install.py: " + message, file=sys.stderr, flush=True)
    sys.exit(code)


def run(argv):
    # Output goes straight to our stdout/stderr, which the agent streams as progress lines; in tar mode stdout is
    # the tree, so the tools' stdout goes to stderr.
    return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=2 if TAR_MODE else None).returncode


def full(path):
    """(no space, no inodes) of the file system at path: a write that failed there hit its size or inode cap."""
    try:
        st = os.statvfs(path)
    except OSError:
        return False, False
    total = st.f_blocks * st.f_frsize
    # A failed write fills a tmpfs to the last page; "almost nothing left" is enough.
    no_space = st.f_bavail * st.f_frsize < min(1 << 20, max(total // 20, 64 << 10))
    no_inodes = st.f_files > 0 and st.f_favail < 2
    return no_space, no_inodes


def exit_failed(code):
    """Exit after a failed install (or write): name a full /out or /tmp, else keep the tool's own code."""
    out_space, out_inodes = full(OUT)
    tmp_space, tmp_inodes = full("/tmp")
    if out_inodes:
        fail("the installed packages have too many files for the store", EXIT_STORE_FILES)
    if out_space:
        fail("the installed packages do not fit in the store", EXIT_STORE_BYTES)
    if tmp_space or tmp_inodes:
        fail("the installer's /tmp is full", EXIT_TMP_FULL)
    sys.exit(code)


def add_to_tar(tar, path, name):
    st = os.lstat(path)
    info = tarfile.TarInfo(name)
    info.mode = stat.S_IMODE(st.st_mode) & 0o755
    info.mtime = 0
    if stat.S_ISDIR(st.st_mode):
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
        for child in sorted(os.listdir(path)):
            add_to_tar(tar, os.path.join(path, child), name + "/" + child)
    elif stat.S_ISREG(st.st_mode):
        info.type = tarfile.REGTYPE
        info.size = st.st_size
        with open(path, "rb") as f:
            tar.addfile(info, f)
    elif stat.S_ISLNK(st.st_mode):
        info.type = tarfile.SYMTYPE
        info.linkname = os.readlink(path)
        tar.addfile(info)
    # fifos, sockets and devices are left out


def stream_tree():
    """The finished tree as one tar stream on stdout (never hard links: every file is written whole)."""
    with tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for child in sorted(os.listdir(OUT)):
            add_to_tar(tar, os.path.join(OUT, child), child)
    sys.stdout.buffer.flush()


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
    proxy = start_egress_relay()
    if proxy:
        for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
            os.environ[name] = proxy
        os.environ.pop("no_proxy", None)
        os.environ.pop("NO_PROXY", None)
        os.environ["npm_config_proxy"] = proxy
        os.environ["npm_config_https_proxy"] = proxy
    if language == "python":
        site = os.path.join(OUT, "site-packages")
        os.makedirs(site, exist_ok=True)
        code = run([sys.executable, "-m", "pip", "install",
                    "--only-binary=:all:", "--no-cache-dir", "--disable-pip-version-check", "--no-input",
                    "--no-warn-script-location", "--progress-bar", "off", "--no-color",
                    "--target", site, "--index-url", index] + (["--proxy", proxy] if proxy else []) + ["--"] + requirements)
        if code != 0:
            exit_failed(code)
        resolved = dist_info_resolved(site)
    elif language == "javascript":
        code = run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--no-update-notifier",
                    "--color=false", "--prefix", OUT, "--registry", index, "--cache", "/tmp/npm-cache",
                    "--"] + requirements)
        if code != 0:
            exit_failed(code)
        resolved = npm_resolved()
    else:
        fail(f"unknown language {language!r}")
    try:
        with open(os.path.join(OUT, "pyth-on-manifest.json"), "w", encoding="utf-8") as f:
            json.dump({"language": language, "resolved": resolved}, f)
    except OSError:
        exit_failed(2)
    print(f"install.py: installed {len(resolved)} package(s)", file=sys.stderr if TAR_MODE else sys.stdout, flush=True)
    if TAR_MODE:
        stream_tree()
    else:
        # Readable by every sandbox uid, writable by nobody but the owner (the agent re-owns it to root).
        subprocess.run(["chmod", "-R", "a+rX,go-w", OUT])


if __name__ == "__main__":
    main()
