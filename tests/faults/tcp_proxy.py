"""A small TCP proxy the fault tests put between Rasa and a server (PostgreSQL, the action
server), so they can break the link the way a restart or an outage would without touching
the real, shared server: refuse new connections, sever open ones, or hold each new
connection for a while before forwarding it (a slow server)."""

from __future__ import annotations

import asyncio
import socket
import threading


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, listening: bool = True) -> None:
        self.target = (target_host, target_port)
        self.port = _free_port()
        self.delay_seconds = 0.0  # how long each new connection waits before it is forwarded
        self.connections_accepted = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        if listening:
            self.accept()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def accept(self) -> None:
        """Listen again: new connections are forwarded."""

        async def start():
            if self._server is None:
                self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)

        self._call(start())

    def refuse(self) -> None:
        """Stop listening (new connections are refused) and sever every open connection:
        what clients see while a server restarts."""

        async def stop():
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()
                self._server = None
            self._sever_all()

        self._call(stop())

    def sever(self) -> None:
        """Close every open connection at once (keeps listening)."""

        async def sever():
            self._sever_all()

        self._call(sever())

    def close(self) -> None:
        self.refuse()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def _sever_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()  # a reset, not a polite close: like a killed server
        self._writers.clear()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.connections_accepted += 1
        self._writers.add(client_writer)
        try:
            if self.delay_seconds:
                await asyncio.sleep(self.delay_seconds)
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            self._writers.discard(client_writer)
            client_writer.transport.abort()
            return
        self._writers.add(upstream_writer)

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                self._writers.discard(writer)
                writer.transport.abort()

        await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))
