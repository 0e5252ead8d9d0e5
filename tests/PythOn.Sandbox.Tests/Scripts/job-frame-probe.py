# Hands one job frame, exactly as given, to a fresh run sandbox inside a live slot, the way the zygote and the
# supervisor would, and prints what came back as JSON: the program's stdout, the status lines (init's "ready",
# "error ...", "exit N") and init's exit code. JobFrameTests runs it with `docker exec -u SLOT_UID SLOT python3 -I -c`
# to show that init.c refuses frames the agent never sends. argv[1]: the frame, base64.
import base64
import json
import os
import sys

sys.path.insert(0, "/opt/pyth-on")
import sandbox  # noqa: E402


def read_to_end(fd):
    data = b""
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return data
        data += chunk


frame = base64.b64decode(sys.argv[1])
run = sandbox.run_sandbox("python", sandbox.DEFAULT_LIMITS, sandbox.CompiledFilter(sandbox.inner_filter()))
pid, (job_w, stdin_w, out_r, err_r, ctl_w, status_r), status_w = sandbox.spawn(run)
if pid < 0:
    sys.exit("clone: %s" % os.strerror(-pid))
os.close(status_w)
status = b""
while b"ready\n" not in status:
    chunk = os.read(status_r, 4096)
    if not chunk:
        break
    status += chunk
try:
    os.write(job_w, frame)
except BrokenPipeError:
    pass  # init refused the frame before reading all of it
for fd in (job_w, stdin_w):
    os.close(fd)
stdout = read_to_end(out_r)
status += read_to_end(status_r)
_, wait_status = os.waitpid(pid, 0)
print(json.dumps({"stdout": stdout.decode("utf-8", "replace"), "status": status.decode("utf-8", "replace").splitlines(),
                  "init_exit": os.waitstatus_to_exitcode(wait_status)}))
