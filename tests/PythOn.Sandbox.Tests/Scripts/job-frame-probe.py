# Hands one job frame, exactly as given, to a fresh run sandbox inside a live slot, the way the zygote and the
# supervisor would (sandbox.drive), and prints what came back as JSON: the program's stdout, the status lines (init's
# "ready", "error ...", "exit N") and init's exit code. JobFrameTests runs it with
# `docker exec -u SLOT_UID SLOT python3 -I -c` to show that init.c refuses frames the agent never sends.
# argv[1]: the frame, base64.
import base64
import json
import sys

sys.path.insert(0, "/opt/pyth-on")
import sandbox  # noqa: E402

run = sandbox.run_sandbox("python", sandbox.DEFAULT_LIMITS, sandbox.CompiledFilter(sandbox.inner_filter()))
stdout, status, init_exit = sandbox.drive(run, base64.b64decode(sys.argv[1]))
print(json.dumps({"stdout": stdout.decode("utf-8", "replace"), "status": status, "init_exit": init_exit}))
