"""HTTP/1.1 requests sent exactly as written: httpx would normalise `..` segments away."""

from __future__ import annotations

import asyncio


async def raw_request(port: int, method: str, target: str, token: str) -> tuple[int, bytes]:
    """Send `method target` to 127.0.0.1:port with a bearer token; returns (status, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
                     "Connection: close\r\n\r\n".encode())
        data = await reader.read()
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head[9:12]), body
