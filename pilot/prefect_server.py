"""The process of a rehearsal's Prefect server (started by pilot.prefect_api): Prefect's own API app
(`prefect.server.api.server:create_app`, as its `SubprocessASGIServer` runs it) under uvicorn, serving
on the listening TCP socket the rehearsal made and passed as file descriptor `--fd`.

uvicorn's own `--fd` option takes any descriptor for a UNIX socket, so the connections it accepts are not
given TCP_NODELAY (asyncio sets it only on TCP sockets): each answer then waited for the client's delayed
ACK, ~44 ms for every Prefect API call of the rehearsal. Here the socket is rebuilt with its real family
(`socket.socket(fileno=...)` asks the kernel), and uvicorn serves it as given.

Run as a file (`python -P prefect_server.py --fd N`: -P keeps pilot/ off the import path): this process
imports uvicorn and Prefect's server only.
"""
from __future__ import annotations

import argparse
import socket
from typing import Any

PREFECT_APP = "prefect.server.api.server:create_app"


def server_for(fd: int, app: Any = PREFECT_APP, factory: bool = True) -> tuple[Any, socket.socket]:
    """(uvicorn.Server, the listening socket) for serving `app` (an import string or an ASGI app; with
    `factory`, a function making it) on the listening TCP socket `fd`; `server.run(sockets=[sock])` serves."""
    import uvicorn

    listening = socket.socket(fileno=fd)  # its real family (AF_INET): accepted sockets get TCP_NODELAY
    config = uvicorn.Config(app, factory=factory, log_level="error", lifespan="on")
    return uvicorn.Server(config), listening


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fd", type=int, required=True)
    server, listening = server_for(parser.parse_args().fd)
    server.run(sockets=[listening])


if __name__ == "__main__":
    main()
