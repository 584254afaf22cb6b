"""Python websockets client for the interop tests (run with Debian's /usr/bin/python3).

Usage: python_client.py URL SCENARIO [--subprotocol NAME]... [--compression none|deflate]

Connects to URL, plays SCENARIO and reports what it saw as JSON lines on stdout, one object per
observation; the TypeScript test makes the assertions. The first line is always
{"event": "open", ...} or {"event": "error", ...}; the last is {"event": "closed", ...} when the
connection got that far.
"""

import argparse
import asyncio
import hashlib
import json
import sys

import websockets

UTF8_SAMPLE = "héllo wörld — ça va? 你好, мир 🌍🚀 𝄞"
SIZES = [0, 125, 126, 65535, 65536, 1024 * 1024, 16 * 1024 * 1024]
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
    """Type, length and digest of a message, so that large ones are not printed."""
    if isinstance(message, str):
        data = message.encode("utf-8")
        kind = "text"
    else:
        data = bytes(message)
        kind = "binary"
    return {"type": kind, "length": len(data), "sha256": hashlib.sha256(data).hexdigest()}


async def echo_case(ws, name, message, sent=None):
    """Sends `message` (a str, bytes or a list of fragments) and reports the echo."""
    await ws.send(message)
    reply = await asyncio.wait_for(ws.recv(), WAIT)
    expected = describe(sent if sent is not None else message)
    got = describe(reply)
    report(event="echo", case=name, sent=expected, received=got, equal=expected == got)


async def scenario_echo(ws):
    await echo_case(ws, "text", "hello")
    await echo_case(ws, "binary", bytes([0, 1, 2, 0xFE, 0xFF, 0x80, 0x7F]))
    await echo_case(ws, "empty-text", "")
    await echo_case(ws, "empty-binary", b"")
    await echo_case(ws, "utf8", UTF8_SAMPLE)
    chars = list(UTF8_SAMPLE)
    await echo_case(ws, "fragmented-text", chars, sent="".join(chars))
    parts = [pattern(10, 1), b"", pattern(70000, 2), pattern(3, 3)]
    await echo_case(ws, "fragmented-binary", parts, sent=b"".join(parts))


async def scenario_sizes(ws):
    for size in SIZES:
        await echo_case(ws, f"binary-{size}", pattern(size, size))
        await echo_case(ws, f"text-{size}", text(size))


async def scenario_order(ws):
    count = 1000
    for i in range(count):
        await ws.send(f"message {i}")
    received = [await asyncio.wait_for(ws.recv(), WAIT) for _ in range(count)]
    expected = [f"message {i}" for i in range(count)]
    report(event="order", count=count, in_order=received == expected)


async def scenario_ping(ws):
    for payload in [b"", b"ping payload", pattern(125, 7)]:
        # websockets resolves the waiter only for a pong that carries the same payload.
        waiter = await ws.ping(payload)
        try:
            await asyncio.wait_for(waiter, WAIT)
            report(event="pong", size=len(payload), matched=True)
        except asyncio.TimeoutError:
            report(event="pong", size=len(payload), matched=False)


async def scenario_wait_close(ws):
    """Echo once to prove the connection works, then wait for the server to close."""
    await echo_case(ws, "before", "before")
    report(event="ready")
    try:
        while True:
            await asyncio.wait_for(ws.recv(), WAIT)
    except websockets.ConnectionClosed:
        pass


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("scenario")
    parser.add_argument("--subprotocol", action="append", default=[])
    parser.add_argument("--compression", choices=["none", "deflate"], default="none")
    parser.add_argument("--close-code", type=int, default=1000)
    parser.add_argument("--close-reason", default="")
    args = parser.parse_args()

    try:
        ws = await websockets.connect(
            args.url,
            subprotocols=args.subprotocol or None,
            compression=None if args.compression == "none" else "deflate",
            max_size=32 * 1024 * 1024,
            ping_interval=None,
            open_timeout=WAIT,
            close_timeout=WAIT,
        )
    except Exception as error:  # report any handshake failure to the test
        report(event="error", error=f"{type(error).__name__}: {error}")
        return 1

    extensions = [getattr(e, "name", type(e).__name__) for e in ws.extensions]
    report(event="open", subprotocol=ws.subprotocol, extensions=extensions)
    try:
        if args.scenario == "open":
            pass
        elif args.scenario == "echo":
            await scenario_echo(ws)
        elif args.scenario == "sizes":
            await scenario_sizes(ws)
        elif args.scenario == "order":
            await scenario_order(ws)
        elif args.scenario == "ping":
            await scenario_ping(ws)
        elif args.scenario == "wait-close":
            await scenario_wait_close(ws)
        elif args.scenario == "close":
            pass
        else:
            report(event="error", error=f"unknown scenario {args.scenario}")
            return 2
        await ws.close(args.close_code, args.close_reason)
    except Exception as error:
        report(event="error", error=f"{type(error).__name__}: {error}")
    await ws.wait_closed()
    report(event="closed", code=ws.close_code, reason=ws.close_reason)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
