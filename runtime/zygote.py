# Pyth-On slot zygote: started by the slot's supervisor (supervisor.c) as `/usr/bin/python3 -u zygote.py LANGUAGE`,
# its end of the supervisor's request socket at descriptor 3 and nothing else open but stdio. It starts one run
# sandbox per request (sandbox.zygote) and never reads a job; a JavaScript slot's zygote goes on as pyth-on-zygote
# (zygote.c) once set up. See runtime/README.md, "Process tree of a slot".
import socket
import sys

import sandbox

REQUEST_SOCKET_FD = 3


def main():
    language = sys.argv[1] if len(sys.argv) == 2 else None
    if language not in sandbox.LANGUAGES:
        sys.exit("pyth-on zygote: unknown language %r (known: %s)" % (language, ", ".join(sandbox.LANGUAGES)))
    sandbox.zygote(language, socket.socket(fileno=REQUEST_SOCKET_FD))


if __name__ == "__main__":
    main()
