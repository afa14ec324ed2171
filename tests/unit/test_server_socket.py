"""The server's listening socket lets asyncio turn Nagle's algorithm off on every connection."""

from __future__ import annotations

import asyncio
import socket

from emporion.server.app import bind


async def test_accepted_connections_send_without_waiting_for_a_delayed_ack() -> None:
    """asyncio sets TCP_NODELAY only on sockets made with IPPROTO_TCP: without it answers wait ~40 ms."""
    listener = bind("127.0.0.1", 0)
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("socket")
        accepted.set_result(peer.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(serve, sock=listener)
    try:
        _, writer = await asyncio.open_connection(*listener.getsockname())
        assert await asyncio.wait_for(accepted, 5) != 0
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
