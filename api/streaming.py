"""Request bodies: a size limit enforced before a body is read whole, and uploads streamed to a
spooled temporary file rather than held in memory.

- `BodyLimit` (ASGI middleware, installed by api.app.create_app): a request whose Content-Length is
  over the limit is answered 413 REQUEST_TOO_LARGE without reading its body; a body without a
  Content-Length (chunked) is counted as it arrives and refused the moment it passes the limit.
- `spool_body(request, limit=...)`: for routes that take a large document (a sealed bid): reads
  `request.stream()` chunk by chunk into a `SpooledTemporaryFile` (memory up to `memory_bytes`, then
  disk), hashing as it goes, so the server holds at most one chunk plus the spool's buffer per
  upload. Never `await request.body()` for an upload.

    @router.post("/v1/tenders/{tender_id}/bids")
    async def submit(request: Request, ...):
        async with spooled(request, limit=deps.policy.limits.max_bid_bytes) as body:
            ...  # body.file (at offset 0), body.size (bytes), body.sha256 (hex)
"""
from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from tempfile import SpooledTemporaryFile
from typing import IO

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import BodyTooLarge, error_response, too_large_detail
from domain.reasons import DomainError, Reason

MEMORY_BYTES = 1024 * 1024  # a spool stays in memory up to 1 MiB, then moves to a temporary file


class BodyLimit:
    """ASGI middleware refusing request bodies over `max_bytes` with 413 REQUEST_TOO_LARGE: at once
    from Content-Length, or while the body streams in (BodyTooLarge, raised from `receive`)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = [v for k, v in scope.get("headers", ()) if k == b"content-length"]
        if declared:
            try:
                length = int(declared[0])
            except ValueError:
                await error_response(Reason.INVALID_INPUT, "سرایند Content-Length نامعتبر است", status=400)(
                    scope, receive, send)
                return
            if length > self.max_bytes:
                await error_response(Reason.REQUEST_TOO_LARGE, too_large_detail(self.max_bytes))(scope, receive, send)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counted, send)  # counted even with a Content-Length: the limit holds whatever is sent


@dataclass
class SpooledBody:
    """A request body received whole: `file` (rewound to offset 0), `size` in bytes, `sha256` hex."""

    file: IO[bytes]
    size: int
    sha256: str

    def read_all(self) -> bytes:
        """The whole body in memory (for documents parsed whole, such as signed XML)."""
        self.file.seek(0)
        data = self.file.read()
        self.file.seek(0)
        return data


async def spool_body(request: Request, *, limit: int, memory_bytes: int = MEMORY_BYTES) -> SpooledBody:
    """Read the request's body as it streams in into a SpooledTemporaryFile, counting and hashing;
    the caller closes `result.file` (or uses `spooled`). Writes that reach the disk run in a thread,
    so a large upload does not hold up the event loop.

    Raises: REQUEST_TOO_LARGE (DomainError) past `limit` bytes (the whole app's BodyLimit may refuse
    earlier); INVALID_INPUT for an empty body."""
    spool: IO[bytes] = SpooledTemporaryFile(max_size=memory_bytes, mode="w+b")  # closed by the caller
    digest, size = hashlib.sha256(), 0
    try:
        async for chunk in request.stream():
            if not chunk:
                continue
            size += len(chunk)
            if size > limit:
                raise DomainError(Reason.REQUEST_TOO_LARGE, too_large_detail(limit))
            digest.update(chunk)
            if size > memory_bytes:
                await run_in_threadpool(spool.write, chunk)
            else:
                spool.write(chunk)
        if size == 0:
            raise DomainError(Reason.INVALID_INPUT, "بدنهٔ درخواست خالی است")
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return SpooledBody(spool, size, digest.hexdigest())


@asynccontextmanager
async def spooled(request: Request, *, limit: int, memory_bytes: int = MEMORY_BYTES) -> AsyncIterator[SpooledBody]:
    """`spool_body` as a context manager that closes (and so deletes) the spool on the way out."""
    body = await spool_body(request, limit=limit, memory_bytes=memory_bytes)
    try:
        yield body
    finally:
        body.file.close()
