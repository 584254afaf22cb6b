/**
 * The topics of one socket, as the socket holds them: null for none, the topic itself for one
 * (most sockets: a room, a user's channel), a Set from the second on. A Set costs about 150
 * bytes even with one entry, which is a good part of what an idle connection costs.
 */
export type OwnTopics = string | Set<string> | null;

export function hasTopic(own: OwnTopics, topic: string): boolean {
  return typeof own === 'string' ? own === topic : (own?.has(topic) ?? false);
}

/** `own` with `topic` added (the caller checked it was not there). */
export function withTopic(own: OwnTopics, topic: string): OwnTopics {
  if (own === null) return topic;
  if (typeof own === 'string') return new Set([own, topic]);
  own.add(topic);
  return own;
}

/** `own` with `topic` removed (the caller checked it was there). */
export function withoutTopic(own: OwnTopics, topic: string): OwnTopics {
  if (typeof own === 'string' || own === null) return null;
  own.delete(topic);
  return own.size === 0 ? null : own;
}

export function topicList(own: OwnTopics): string[] {
  return own === null ? [] : typeof own === 'string' ? [own] : [...own];
}
