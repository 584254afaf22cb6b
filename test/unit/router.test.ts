// Routing by path: exact patterns before `:params`, params before wildcards, the first added among equals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Router } from '../../src/server/router.js';

function routerOf(...patterns: string[]): Router<string> {
  const router = new Router<string>();
  for (const pattern of patterns) router.add(pattern, pattern);
  return router;
}

describe('Router', () => {
  it('/* takes every path, the root and deep ones alike', () => {
    const router = routerOf('/*');
    for (const path of ['/', '/a', '/a/b/c', '/a//b', '/%zz']) {
      assert.deepEqual(router.match(path), { value: '/*', params: {} }, path);
    }
  });

  it('exact beats :params beats wildcards, whatever the order they were added in', () => {
    const router = routerOf('/*', '/rooms/*', '/rooms/:id', '/rooms/lobby');
    assert.equal(router.match('/rooms/lobby')?.value, '/rooms/lobby');
    const room = router.match('/rooms/blue%20sky');
    assert.equal(room?.value, '/rooms/:id');
    assert.deepEqual({ ...room?.params }, { id: 'blue sky' });
    // Among wildcards the first added wins: /* was added before /rooms/*.
    assert.equal(router.match('/rooms/a/b')?.value, '/*');
    assert.equal(router.match('/other')?.value, '/*');
  });

  it('a wildcard with a prefix matches that prefix and what follows it, and nothing else', () => {
    const router = routerOf('/files/*');
    assert.equal(router.match('/files')?.value, '/files/*');
    assert.equal(router.match('/files/')?.value, '/files/*');
    assert.equal(router.match('/files/a/b')?.value, '/files/*');
    assert.equal(router.match('/filesystem'), null);
    assert.equal(router.match('/'), null);
  });

  it(':params need a non-empty segment and the exact segment count', () => {
    const router = routerOf('/rooms/:id');
    assert.equal(router.match('/rooms/'), null);
    assert.equal(router.match('/rooms/a/b'), null);
    assert.deepEqual({ ...router.match('/rooms/a')?.params }, { id: 'a' });
  });

  it('refuses patterns it cannot honour', () => {
    assert.throws(() => routerOf('rooms'), TypeError);
    assert.throws(() => routerOf('/a/*/b'), TypeError);
    assert.throws(() => routerOf('/a', '/a'), TypeError);
  });
});
