"""The rehearsal's Prefect server (pilot/prefect_server.py) answers without waiting for delayed ACKs:
the connections it accepts on the socket the rehearsal hands it have TCP_NODELAY, as on a port uvicorn
binds itself (issue 15 item 1: with uvicorn's own `--fd`, every Prefect call of a rehearsal took ~44 ms)."""
from __future__ import annotations

import socket
import threading
import time

from pilot.prefect_server import server_for


async def _app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


def test_connections_accepted_on_the_handed_socket_have_tcp_nodelay() -> None:
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.bind(("127.0.0.1", 0))
    listening.listen(8)
    port = listening.getsockname()[1]
    server, sock = server_for(listening.detach(), app=_app, factory=False)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert client.recv(1024).startswith(b"HTTP/1.1 200")
            accepted = [c.transport.get_extra_info("socket") for c in server.server_state.connections]
            assert len(accepted) == 1
            assert accepted[0].family == socket.AF_INET
            assert accepted[0].getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        server.should_exit = True
        thread.join(20)
    assert not thread.is_alive()
