// What `wsx bench` takes for this machine (it loads nothing else unless --allow-remote), and
// the marker its broadcast mode finds in whatever envelope a server puts around the payload.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstRemoteAddress, isLoopbackAddress } from '../../src/cli/bench/loopback.js';
import { chatUrl, markedPayload, readMarker } from '../../src/cli/bench/marker.js';

describe('bench: loopback targets', () => {
  it('takes 127.0.0.0/8 and ::1, however written, and IPv4-mapped loopback', () => {
    for (const address of [
      '127.0.0.1',
      '127.255.0.9',
      '::1',
      '0:0:0:0:0:0:0:1',
      '0000::0001',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '0:0:0:0:0:ffff:127.1.2.3',
    ]) {
      assert.equal(isLoopbackAddress(address), true, address);
    }
  });

  it('refuses every other address, and what is not an address', () => {
    for (const address of [
      '10.0.0.1',
      '192.168.1.1',
      '128.0.0.1',
      '0.0.0.0',
      '::',
      '::2',
      '1::1',
      'fe80::1',
      '::ffff:10.0.0.1',
      '::ffff:8.8.8.8',
      '::127.0.0.1',
      'localhost',
      '',
    ]) {
      assert.equal(isLoopbackAddress(address), false, address);
    }
  });

  it('resolves names: localhost is loopback; an address literal is not resolved', async () => {
    assert.equal(await firstRemoteAddress('localhost'), null);
    assert.equal(await firstRemoteAddress('127.0.0.5'), null);
    assert.equal(await firstRemoteAddress('::1'), null);
    assert.equal(await firstRemoteAddress('192.0.2.7'), '192.0.2.7');
  });
});

describe('bench: broadcast marker', () => {
  it('is found inside an envelope, padded to the size asked for', () => {
    const payload = markedPayload(41, true, 100);
    assert.equal(payload.length, 100);
    const wrapped = Buffer.from(JSON.stringify({ type: 'message', topic: 't', data: payload, from: null }));
    const marked = readMarker(wrapped);
    assert.equal(marked?.seq, 41);
    assert.equal(marked?.counted, true);
    assert.ok(marked!.micros > 0);
    assert.equal(readMarker(Buffer.from(markedPayload(0, false, 1)))?.counted, false);
  });

  it('is not found in other messages, nor in a broken one', () => {
    assert.equal(readMarker(Buffer.from('{"type":"presence","name":"bench-0-1"}')), null);
    assert.equal(readMarker(Buffer.from('wsxbench:12:')), null);
    assert.equal(readMarker(Buffer.from('wsxbench:x:1:1:')), null);
  });

  it("names wsx serve's chat endpoint, keeping a path and query given", () => {
    assert.equal(chatUrl('ws://127.0.0.1:8080/', 'bench-1-2'), 'ws://127.0.0.1:8080/chat?name=bench-1-2');
    assert.equal(chatUrl('ws://127.0.0.1:8080/chat?x=1', 'a b'), 'ws://127.0.0.1:8080/chat?x=1&name=a+b');
  });
});
