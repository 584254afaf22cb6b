"""Python websockets peer for the permessage-deflate interop tests (Debian's /usr/bin/python3).

Usage:
  deflate_peer.py client URL   connect to URL (a wsx server), echo-test, report
  deflate_peer.py server       listen on 127.0.0.1 (any port), echo-test the first client, report

Both use websockets' default compression settings (the client offers
"permessage-deflate; client_max_window_bits"; the server answers with
server_max_window_bits=12 and client_max_window_bits=12). Every observation is a JSON line
on stdout; the TypeScript test makes the assertions.
"""

import asyncio
import hashlib
import json
import os
import sys

import websockets
from websockets.extensions import permessage_deflate

WAIT = 20
SIZES = [0, 1, 125, 126, 1000, 65535, 65536, 1024 * 1024, 4 * 1024 * 1024]

# Count frames that went through the codec with RSV1 set, in each direction.
COUNTS = {"compressed_in": 0, "compressed_out": 0}
_decode = permessage_deflate.PerMessageDeflate.decode
_encode = permessage_deflate.PerMessageDeflate.encode


def counting_decode(self, frame, *, max_size=None):
    if frame.rsv1:
        COUNTS["compressed_in"] += 1
    return _decode(self, frame, max_size=max_size)


def counting_encode(self, frame):
    encoded = _encode(self, frame)
    if encoded.rsv1:
        COUNTS["compressed_out"] += 1
    return encoded


permessage_deflate.PerMessageDeflate.decode = counting_decode
permessage_deflate.PerMessageDeflate.encode = counting_encode


def report(**fields):
    print(json.dumps(fields), flush=True)


def json_text(size, seed=0):
    out = []
    length = 0
    i = seed
    while length < size:
        item = '{"id":%d,"user":"user-%d","tags":["a%d","b%d"],"score":%d},' % (
            i, i % 97, i % 7, i % 13, (i * 7919) % 1000)
        out.append(item)
        length += len(item)
        i += 1
    return "".join(out)[:size]


def describe_extensions(ws):
    described = []
    for ext in ws.extensions:
        described.append({
            "name": ext.name,
            "remote_no_context_takeover": ext.remote_no_context_takeover,
            "local_no_context_takeover": ext.local_no_context_takeover,
            "remote_max_window_bits": ext.remote_max_window_bits,
            "local_max_window_bits": ext.local_max_window_bits,
        })
    return described


def digest(message):
    data = message.encode("utf-8") if isinstance(message, str) else bytes(message)
    return hashlib.sha256(data).hexdigest()


async def exchange(ws):
    cases = []
    for size in SIZES:
        cases.append(("text", json_text(size, size)))
        cases.append(("binary", os.urandom(size)))
        cases.append(("binary-compressible", json_text(size, size + 1).encode()))
    # fragmented: websockets sends an iterable as one message in fragments
    big = json_text(300 * 1024, 5)
    cases.append(("text-fragmented", [big[i:i + 10000] for i in range(0, len(big), 10000)]))
    for name, message in cases:
        await ws.send(message)
        reply = await asyncio.wait_for(ws.recv(), WAIT)
        sent = "".join(message) if isinstance(message, list) else message
        report(event="echo", case=name, size=len(sent), same_type=type(reply) is type(sent),
               equal=digest(reply) == digest(sent))


async def run_client(url):
    try:
        ws = await asyncio.wait_for(websockets.connect(url, max_size=None), WAIT)
    except Exception as error:  # noqa: BLE001 - reported for the test to see
        report(event="error", error=repr(error))
        return
    report(event="open", header=ws.response_headers.get("Sec-WebSocket-Extensions", ""),
           extensions=describe_extensions(ws))
    await exchange(ws)
    await ws.close(1000)
    report(event="closed", code=ws.close_code, **COUNTS)


async def run_server():
    done = asyncio.get_running_loop().create_future()

    async def handler(ws, _path=None):
        report(event="open", header=ws.request_headers.get("Sec-WebSocket-Extensions", ""),
               response=ws.response_headers.get("Sec-WebSocket-Extensions", ""),
               extensions=describe_extensions(ws))
        try:
            await exchange(ws)
            await ws.close(1000)
            report(event="closed", code=ws.close_code, **COUNTS)
        except Exception as error:  # noqa: BLE001
            report(event="error", error=repr(error))
        if not done.done():
            done.set_result(None)

    async with websockets.serve(handler, "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        report(event="listening", port=port)
        await asyncio.wait_for(done, 60)


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "client":
        asyncio.run(run_client(sys.argv[2]))
    elif len(sys.argv) >= 2 and sys.argv[1] == "server":
        asyncio.run(run_server())
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
