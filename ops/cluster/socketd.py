"""Stands in for systemd's socket activation on an app host of the cluster check:

    socketd.py ADDRESS PORT PIDFILE -- COMMAND...

holds the listening socket (showboard-web.socket) and runs COMMAND (showboard-web.service's
ExecStart) with it as fd 3 (LISTEN_FDS=1, LISTEN_PID), writing the command's pid to PIDFILE.
When the command exits (a `kill -TERM` of the master), it is started again on the same
socket, as `systemctl restart` does, so connections made meanwhile wait in the backlog. SIGTERM
to socketd stops the command and then closes the socket."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from pathlib import Path

LISTEN_FDS_START = 3
RESTART_SECONDS = 0.2


def main(argv: list[str]) -> None:
    address, port, pidfile = argv[0], int(argv[1]), Path(argv[2])
    command = argv[argv.index("--") + 1 :]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, port))
    listener.listen(1024)
    stopping = False
    child = 0

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        if child:
            os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        child = _spawn(listener, command)
        pidfile.write_text(str(child))
        os.waitpid(child, 0)
        child = 0
        if not stopping:
            time.sleep(RESTART_SECONDS)
    listener.close()


def _spawn(listener: socket.socket, command: list[str]) -> int:
    pid = os.fork()
    if pid:
        return pid
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.dup2(listener.fileno(), LISTEN_FDS_START)
        os.set_inheritable(LISTEN_FDS_START, True)
        env = {**os.environ, "LISTEN_FDS": "1", "LISTEN_PID": str(os.getpid())}
        os.execve(command[0], command, env)
    finally:
        os._exit(127)


if __name__ == "__main__":
    main(sys.argv[1:])
