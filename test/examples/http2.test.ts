// examples/http2 runs as a user runs it and prints what it did.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runExample } from './run.js';

describe('examples/http2', () => {
  it('three WebSockets over one HTTP/2 connection, closed cleanly', async () => {
    const { code, lines, stderr } = await runExample('http2');
    assert.equal(code, 0, stderr);
    assert.deepEqual(lines, [
      'client a: echo "hello from a" over HTTP/2',
      'client b: echo "hello from b" over HTTP/2',
      'client c: echo "hello from c" over HTTP/2',
      'server: 3 WebSockets over HTTP/2, on 1 connection',
      'server closed: 3 closed cleanly',
    ]);
  });
});
