import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addTopic,
  hasTopic,
  type OwnTopics,
  removeTopic,
  slotOf,
  type TopicMember,
  topicList,
} from '../../src/server/own-topics.js';
import { Subscribers } from '../../src/server/subscribers.js';

class Member implements TopicMember {
  topics: OwnTopics = null;
  topicSlot = -1;
  constructor(readonly id: number) {}
}

/** Subscribes as the topic registry does: the list first, then the member's own topics. */
function join(list: Subscribers<Member>, member: Member): void {
  addTopic(member, list.topic, list.add(member));
}

/** Unsubscribes as the registry does: out of the list while the member still knows its slot. */
function leave(list: Subscribers<Member>, member: Member): boolean {
  if (!list.delete(member)) return false;
  removeTopic(member, list.topic);
  return true;
}

const ids = (list: Subscribers<Member>) => [...list.snapshot()].map((member) => member.id).sort();

/** Every member's slot points back at it. */
function assertSlots(list: Subscribers<Member>, members: Member[]): void {
  for (const member of members) {
    const slot = slotOf(member, list.topic);
    if (hasTopic(member.topics, list.topic)) assert.equal(list.has(member), true, `member ${member.id}`);
    else assert.equal(slot, -1, `member ${member.id} has no slot once it left`);
  }
}

function walk(list: Subscribers<Member>, visit: (member: Member) => void): number[] {
  const seen: number[] = [];
  const sockets = list.beginWalk();
  const count = sockets.length;
  try {
    for (let i = 0; i < count; i++) {
      const member = sockets[i];
      if (member === null) continue;
      seen.push(member.id);
      visit(member);
    }
  } finally {
    list.endWalk();
  }
  return seen;
}

describe('Subscribers', () => {
  it('adds and removes in any order, each member keeping its slot', () => {
    const list = new Subscribers<Member>('room');
    const members = [0, 1, 2, 3, 4, 5].map((id) => new Member(id));
    for (const member of members) join(list, member);
    assert.equal(list.size, 6);
    assert.equal(leave(list, members[1]), true);
    assert.equal(leave(list, members[5]), true);
    assert.equal(leave(list, members[0]), true);
    assert.equal(leave(list, members[0]), false);
    assert.equal(list.size, 3);
    assert.deepEqual(ids(list), [2, 3, 4]);
    assertSlots(list, members);
    join(list, members[1]);
    assert.deepEqual(ids(list), [1, 2, 3, 4]);
    assertSlots(list, members);
  });

  it('says false for a member of another topic, or of none, and changes nothing', () => {
    const room = new Subscribers<Member>('room');
    const lobby = new Subscribers<Member>('lobby');
    const a = new Member(1);
    const b = new Member(2);
    join(room, a);
    join(lobby, b);
    assert.equal(room.has(b), false);
    assert.equal(room.delete(b), false);
    assert.equal(room.delete(new Member(3)), false);
    assert.equal(lobby.size, 1);
    assert.equal(room.size, 1);
  });

  it('keeps the slots of a member of several topics, and goes back to the short form with one left', () => {
    const topics = ['a', 'b', 'c'].map((topic) => new Subscribers<Member>(topic));
    const members = [0, 1, 2].map((id) => new Member(id));
    for (const list of topics) for (const member of members) join(list, member);
    assert.ok(members[1].topics instanceof Map);
    assert.deepEqual(topicList(members[1].topics), ['a', 'b', 'c']);
    // Removing member 0 moves member 2 into its slot in each topic.
    for (const list of topics) assert.equal(leave(list, members[0]), true);
    assert.equal(members[0].topics, null);
    for (const list of topics) assertSlots(list, members);
    assert.equal(leave(topics[0], members[2]), true);
    assert.equal(leave(topics[2], members[2]), true);
    assert.equal(members[2].topics, 'b');
    assert.equal(topics[1].has(members[2]), true);
    assert.equal(leave(topics[1], members[1]), true);
    assertSlots(topics[1], members);
    assert.deepEqual(ids(topics[1]), [2]);
  });

  it('visits every member once when members leave during a walk, and fills the holes after it', () => {
    const list = new Subscribers<Member>('room');
    const members = [0, 1, 2, 3, 4, 5, 6, 7].map((id) => new Member(id));
    for (const member of members) join(list, member);
    // Member 2 makes 6 (not yet visited) and 1 (visited) leave, and itself.
    const seen = walk(list, (member) => {
      if (member.id !== 2) return;
      leave(list, members[6]);
      leave(list, members[1]);
      leave(list, members[2]);
    });
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 7]);
    assert.equal(list.size, 5);
    assert.deepEqual(ids(list), [0, 3, 4, 5, 7]);
    assertSlots(list, members);
    // After the walk, removals swap again, and a second walk sees each one left once.
    leave(list, members[0]);
    assert.deepEqual(walk(list, () => {}).sort(), [3, 4, 5, 7]);
    assertSlots(list, members);
  });

  it('does not visit members that join during a walk, and keeps them', () => {
    const list = new Subscribers<Member>('room');
    const members = [0, 1, 2].map((id) => new Member(id));
    for (const member of members.slice(0, 2)) join(list, member);
    const seen = walk(list, (member) => {
      if (member.id === 0) join(list, members[2]);
    });
    assert.deepEqual(seen, [0, 1]);
    assert.deepEqual(ids(list), [0, 1, 2]);
    assertSlots(list, members);
  });

  it('takes back a member that left and joined again within one walk', () => {
    const list = new Subscribers<Member>('room');
    const members = [0, 1, 2].map((id) => new Member(id));
    for (const member of members) join(list, member);
    walk(list, (member) => {
      if (member.id !== 0) return;
      leave(list, members[1]);
      join(list, members[1]);
    });
    assert.equal(list.size, 3);
    assert.deepEqual(ids(list), [0, 1, 2]);
    assertSlots(list, members);
    assert.equal(leave(list, members[1]), true);
    assert.deepEqual(ids(list), [0, 2]);
  });

  it('fills the holes only when the outermost of nested walks ends', () => {
    const list = new Subscribers<Member>('room');
    const members = [0, 1, 2, 3].map((id) => new Member(id));
    for (const member of members) join(list, member);
    const inner: number[][] = [];
    const outer = walk(list, (member) => {
      if (member.id !== 1) return;
      leave(list, members[0]);
      inner.push(walk(list, () => {}));
      leave(list, members[3]);
    });
    assert.deepEqual(inner, [[1, 2, 3]]);
    assert.deepEqual(outer, [0, 1, 2]);
    assert.deepEqual(ids(list), [1, 2]);
    assertSlots(list, members);
  });

  it('gives a snapshot that later changes do not touch', () => {
    const list = new Subscribers<Member>('room');
    const a = new Member(1);
    const b = new Member(2);
    join(list, a);
    const before = list.snapshot();
    join(list, b);
    leave(list, a);
    assert.deepEqual([...before], [a]);
    assert.deepEqual([...list.snapshot()], [b]);
  });
});
