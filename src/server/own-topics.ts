/**
 * The topics of one socket, as the socket holds them: null for none, the topic itself for one
 * (most sockets: a room, a user's channel), from the second on a Map from each topic to the
 * socket's slot in that topic's subscribers (`subscribers.ts`). A Map costs about 150 bytes
 * even with one entry, which is a good part of what an idle connection costs.
 */
export type OwnTopics = string | Map<string, number> | null;

/** A socket as its topics see it: its topics, and its slot in the one topic it has alone. */
export interface TopicMember {
  topics: OwnTopics;
  /** The slot in the subscribers of `topics` while that is a single topic; -1 otherwise. */
  topicSlot: number;
}

export function hasTopic(own: OwnTopics, topic: string): boolean {
  return typeof own === 'string' ? own === topic : (own?.has(topic) ?? false);
}

/** The member's slot in the subscribers of `topic`, or -1 when it has not subscribed to it. */
export function slotOf(member: TopicMember, topic: string): number {
  const own = member.topics;
  if (typeof own === 'string') return own === topic ? member.topicSlot : -1;
  return own?.get(topic) ?? -1;
}

/** Moves the member to `slot` in the subscribers of `topic`, one of its topics. */
export function moveSlot(member: TopicMember, topic: string, slot: number): void {
  const own = member.topics;
  if (typeof own === 'string') member.topicSlot = slot;
  else own!.set(topic, slot);
}

/** Adds `topic`, where the member has `slot` (the caller checked it was not there). */
export function addTopic(member: TopicMember, topic: string, slot: number): void {
  const own = member.topics;
  if (own === null) {
    member.topics = topic;
    member.topicSlot = slot;
    return;
  }
  if (typeof own === 'string') {
    member.topics = new Map([
      [own, member.topicSlot],
      [topic, slot],
    ]);
    member.topicSlot = -1;
    return;
  }
  own.set(topic, slot);
}

/** Removes `topic` (the caller checked it was there); a last topic left goes back to the short form. */
export function removeTopic(member: TopicMember, topic: string): void {
  const own = member.topics;
  if (typeof own === 'string' || own === null) {
    member.topics = null;
    member.topicSlot = -1;
    return;
  }
  own.delete(topic);
  if (own.size !== 1) return;
  const [[last, slot]] = own;
  member.topics = last;
  member.topicSlot = slot;
}

export function topicList(own: OwnTopics): string[] {
  return own === null ? [] : typeof own === 'string' ? [own] : [...own.keys()];
}
