"""Python websockets server for the interop tests (run with Debian's /usr/bin/python3).

Usage: python_server.py [--compression none|deflate]

Listens on an ephemeral loopback port and prints {"event": "listening", "port": N}. Each
connection plays the scenario named by its request path and then prints one JSON line
{"event": "result", "path": PATH, ...} with what it saw (or {"event": "error", "path": ...}); the
TypeScript test makes the assertions. Exits when its standard input closes.
"""

import argparse
import asyncio
import hashlib
import json
import sys

import websockets

UTF8_SAMPLE = "héllo wörld — ça va? 你好, мир 🌍🚀 𝄞"
WAIT = 20  # seconds; only turns a hang into a reported failure


def report(**fields):
    print(json.dumps(fields), flush=True)


def pattern(size, seed=0):
    block = bytes((i * 31 + seed) & 0xFF for i in range(256 * 251))
    return (block * (size // len(block) + 1))[:size]


def text(size):
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return (alphabet * (size // len(alphabet) + 1))[:size]


def describe(message):
    if isinstance(message, str):
        data, kind = message.encode("utf-8"), "text"
    else:
        data, kind = bytes(message), "binary"
    return {"type": kind, "length": len(data), "sha256": hashlib.sha256(data).hexdigest()}


MESSAGES = [
    ("text", "hello"),
    ("binary", bytes([0, 1, 2, 0xFE, 0xFF, 0x80, 0x7F])),
    ("empty-text", ""),
    ("empty-binary", b""),
    ("utf8", UTF8_SAMPLE),
]
for _size in [125, 126, 65535, 65536, 1024 * 1024, 16 * 1024 * 1024]:
    MESSAGES.append((f"binary-{_size}", pattern(_size, _size)))
    MESSAGES.append((f"text-{_size}", text(_size)))


async def echo(ws, name, message, sent=None):
    await ws.send(message)
    reply = await asyncio.wait_for(ws.recv(), WAIT)
    return {"case": name, "sent": describe(sent if sent is not None else message), "received": describe(reply)}


async def close(ws, code=1000, reason=""):
    await ws.close(code, reason)
    await ws.wait_closed()
    return {"close_code": ws.close_code, "close_reason": ws.close_reason}


async def scenario_echo(ws):
    echoes = [await echo(ws, name, message) for name, message in MESSAGES]
    return {"echoes": echoes, **await close(ws, 4001, "bye")}


async def scenario_fragmented(ws):
    parts = [pattern(10, 1), b"", pattern(70000, 2)]
    chars = list(UTF8_SAMPLE)
    echoes = [
        await echo(ws, "fragmented-binary", parts, sent=b"".join(parts)),
        await echo(ws, "fragmented-text", chars, sent="".join(chars)),
    ]
    return {"echoes": echoes, **await close(ws)}


async def scenario_ping(ws):
    pongs = []
    for payload in [b"", b"ping payload", pattern(125, 7)]:
        # websockets resolves the waiter only for a pong that carries the same payload.
        waiter = await ws.ping(payload)
        try:
            await asyncio.wait_for(waiter, WAIT)
            pongs.append({"size": len(payload), "matched": True})
        except asyncio.TimeoutError:
            pongs.append({"size": len(payload), "matched": False})
    return {"pongs": pongs, **await close(ws)}


async def scenario_headers(ws):
    headers = {name.lower(): ws.request_headers.get_all(name) for name in ws.request_headers.keys()}
    echoes = [await echo(ws, "text", "still works")]
    return {"headers": headers, "echoes": echoes, **await close(ws)}


async def scenario_stdio(ws):
    await ws.send("from server 1")
    await ws.send(f"from server 2 {UTF8_SAMPLE}")
    received = []
    for _ in range(3):
        message = await asyncio.wait_for(ws.recv(), WAIT)
        received.append({"type": "text", "text": message} if isinstance(message, str) else describe(message))
    await asyncio.wait_for(ws.wait_closed(), WAIT)
    return {"received": received, "close_code": ws.close_code, "close_reason": ws.close_reason}


async def scenario_drop(ws):
    echoes = [await echo(ws, "text", "one message first")]
    ws.transport.abort()  # no closing handshake
    return {"echoes": echoes}


async def scenario_peer_echo(ws):
    """Echoes until the client closes (for clients that drive the exchange)."""
    count = 0
    try:
        while True:
            await ws.send(await asyncio.wait_for(ws.recv(), WAIT))
            count += 1
    except websockets.ConnectionClosed:  # any close code, 4001 included
        pass
    await ws.wait_closed()
    return {"echoed": count, "close_code": ws.close_code, "close_reason": ws.close_reason}


SCENARIOS = {
    "/echo": scenario_echo,
    "/fragmented": scenario_fragmented,
    "/ping": scenario_ping,
    "/headers": scenario_headers,
    "/stdio": scenario_stdio,
    "/drop": scenario_drop,
    "/peer-echo": scenario_peer_echo,
}


async def handler(ws):
    path = ws.path
    scenario = SCENARIOS.get(path)
    if scenario is None:
        report(event="error", path=path, error="no such scenario")
        return
    extensions = [getattr(e, "name", type(e).__name__) for e in ws.extensions]
    try:
        result = await scenario(ws)
        report(event="result", path=path, subprotocol=ws.subprotocol, extensions=extensions, **result)
    except Exception as error:
        report(event="error", path=path, error=f"{type(error).__name__}: {error}")


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--compression", choices=["none", "deflate"], default="none")
    args = parser.parse_args()
    server = await websockets.serve(
        handler,
        "127.0.0.1",
        0,
        subprotocols=["chat", "superchat"],
        compression=None if args.compression == "none" else "deflate",
        max_size=32 * 1024 * 1024,
        ping_interval=None,
        close_timeout=WAIT,
    )
    port = server.sockets[0].getsockname()[1]
    report(event="listening", port=port)
    # Serve until the test closes our standard input.
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
