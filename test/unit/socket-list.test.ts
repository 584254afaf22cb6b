import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ListedSocket, SocketList } from '../../src/server/socket-list.js';

class Item implements ListedSocket<Item> {
  listPrev: Item | null = null;
  listNext: Item | null = null;
  constructor(readonly id: number) {}
}

const ids = (list: SocketList<Item>) => [...list].map((item) => item.id);

describe('SocketList', () => {
  it('keeps sockets in the order they were added, and removes any of them', () => {
    const list = new SocketList<Item>();
    const items = [0, 1, 2, 3, 4].map((id) => new Item(id));
    for (const item of items) list.add(item);
    assert.equal(list.size, 5);
    assert.deepEqual(ids(list), [0, 1, 2, 3, 4]);
    assert.equal(list.delete(items[2]), true);
    assert.equal(list.delete(items[0]), true);
    assert.equal(list.delete(items[4]), true);
    assert.deepEqual(ids(list), [1, 3]);
    assert.equal(list.size, 2);
    list.add(items[0]);
    assert.deepEqual(ids(list), [1, 3, 0]);
  });

  it('says false for a socket it does not hold, and changes nothing', () => {
    const list = new SocketList<Item>();
    const other = new SocketList<Item>();
    const a = new Item(1);
    const b = new Item(2);
    list.add(a);
    other.add(b);
    assert.equal(list.delete(b), false);
    assert.equal(list.delete(new Item(3)), false);
    assert.equal(list.delete(a), true);
    assert.equal(list.delete(a), false);
    assert.equal(list.size, 0);
    assert.deepEqual(ids(other), [2]);
  });

  it('goes on walking when the socket in hand, or others, are removed during the walk', () => {
    const list = new SocketList<Item>();
    const items = [0, 1, 2, 3, 4, 5].map((id) => new Item(id));
    for (const item of items) list.add(item);
    const seen: number[] = [];
    for (const item of list) {
      seen.push(item.id);
      list.delete(item);
      if (item.id === 1) list.delete(items[3]);
    }
    assert.deepEqual(seen, [0, 1, 2, 4, 5]);
    assert.equal(list.size, 0);
    assert.deepEqual(ids(list), []);
  });
  it('walks on when the socket after the current one is removed during the walk', () => {
    const list = new SocketList<Item>();
    const items = [0, 1, 2, 3].map((id) => new Item(id));
    for (const item of items) list.add(item);
    const seen: number[] = [];
    for (const item of list) {
      seen.push(item.id);
      if (item.id === 0) list.delete(items[1]);
    }
    assert.deepEqual(seen, [0, 2, 3]);
  });

  it('walks on when the current socket is removed during the walk', () => {
    const list = new SocketList<Item>();
    const items = [0, 1, 2].map((id) => new Item(id));
    for (const item of items) list.add(item);
    const seen: number[] = [];
    for (const item of list) {
      seen.push(item.id);
      list.delete(item);
    }
    assert.deepEqual(seen, [0, 1, 2]);
    assert.equal(list.size, 0);
  });
});
