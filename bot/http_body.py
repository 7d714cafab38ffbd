"""Reading a Sanic request body against a limit while it streams in (never holding an oversized body)."""
from __future__ import annotations

from typing import Optional

from sanic.exceptions import PayloadTooLarge
from sanic.request import Request


async def read_bounded(request: Request, limit: int) -> Optional[bytes]:
    """The body, or None as soon as it is longer than `limit`. The route must be declared `stream=True`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    request.stream.request_max_size = limit + 1  # Sanic stops draining an oversized rest, too
    chunks, size = [], 0
    while True:
        try:
            chunk = await request.stream.read()
        except PayloadTooLarge:  # chunked body past request_max_size
            return None
        if chunk is None:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
