// Request headers that cannot be sent are the caller's mistake: every client API refuses them
// at once, before connecting, with an error naming the header (and the character), instead of
// a failed connection later (which ReconnectingWebSocket would retry forever).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  connect,
  dial,
  ReconnectingWebSocket,
  UsageError,
  WebSocket,
  WebSocketStream,
} from '../../src/index.js';
import { type EchoServer, echoServer, nextEvent, within } from './helpers.js';

let echo: EchoServer;
before(async () => {
  echo = await echoServer();
});
after(() => echo.close());

/** A TypeError whose message names the header and, for a bad character, its code point. */
function namesHeader(header: string, character?: string) {
  return (error: unknown) => {
    assert.ok(error instanceof TypeError, `expected a TypeError, got ${String(error)}`);
    assert.match(error.message, new RegExp(`header ${header}\\b`));
    if (character !== undefined) assert.match(error.message, new RegExp(`U\\+${character}`));
    return true;
  };
}

// A value copied from a document with a typographic ellipsis; and a line break.
const ELLIPSIS = { Authorization: 'Bearer \u2026' };
const NEWLINE = { 'X-Custom': 'a\nb' };

describe('invalid request headers throw before connecting', () => {
  it('connect() throws at once: a TypeError naming the header and the character', () => {
    assert.throws(() => connect(echo.url, { headers: ELLIPSIS }), namesHeader('Authorization', '2026'));
    assert.throws(() => connect(echo.url, { headers: NEWLINE }), namesHeader('X-Custom', '000A'));
    assert.throws(() => connect(echo.url, { origin: 'https://\u2026' }), namesHeader('Origin', '2026'));
  });

  it('dial() rejects with the same TypeError', async () => {
    await assert.rejects(dial(echo.url, { headers: ELLIPSIS }), namesHeader('Authorization', '2026'));
  });

  it('the WebSocket, WebSocketStream and ReconnectingWebSocket constructors throw it', () => {
    for (const open of [
      () => new WebSocket(echo.url, { headers: ELLIPSIS }),
      () => new WebSocketStream(echo.url, { headers: ELLIPSIS }),
      () => new ReconnectingWebSocket(echo.url, { headers: ELLIPSIS }),
    ]) {
      assert.throws(open, namesHeader('Authorization', '2026'));
    }
    assert.throws(() => new WebSocket(echo.url, { headers: { 'Bad Name': 'x' } }), TypeError);
    assert.throws(() => new WebSocket(echo.url, { origin: 'a\r\nb' }), namesHeader('Origin', '000D'));
    assert.throws(() => new WebSocket(echo.url, { headers: { 'Sec-WebSocket-Key': 'x' } }), UsageError);
  });

  it('a latin1 value is sent as it is', async () => {
    const ws = new WebSocket(`${echo.url}latin1`, { headers: { 'X-Custom': 'caf\u00e9' } });
    await within(5000, 'open', nextEvent(ws, 'open'));
    ws.close();
    await within(5000, 'close', nextEvent(ws, 'close'));
    const seen = echo.upgrades.find((upgrade) => upgrade.path === '/latin1');
    assert.equal(seen?.headers['x-custom'], 'caf\u00e9');
  });
});
