/**
 * The Lua scripts of stream mode, and how they are run. Each touches one key (a topic's
 * stream), so it runs on the node that owns the topic in a Redis Cluster, and Redis runs it
 * atomically: a message gets its offset, goes into the history and out to the live subscribers
 * in one step, so the order on the channel is the order of the offsets.
 *
 * Entry ids are `OFFSET-MS`: the offset counts 1, 2, 3, ... (so a gap is visible), and the
 * publish time in the second part lets age trimming find old entries. Every entry keeps the
 * topic's epoch; a topic whose stream is gone (expired, deleted, Redis restarted without
 * persistence) starts again at offset 1 with the new epoch the publisher offered.
 */

import { createHash } from 'node:crypto';
import type { RedisLink } from './link.js';

/** KEYS[1] stream; ARGV: header, payload, epoch if new, max length, max age ms (0: none), ttl s (0: none), 1 for SPUBLISH. */
export const PUBLISH_SCRIPT = `
local key = KEYS[1]
local last = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
local epoch, offset
if #last == 0 then
  epoch = ARGV[3]
  offset = 1
else
  offset = tonumber(string.match(last[1][1], '^(%d+)')) + 1
  epoch = last[1][2][2]
end
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local id = string.format('%d-%d', offset, ms)
local message = ARGV[1] .. epoch .. ' ' .. string.format('%d', offset) .. '\\n' .. ARGV[2]
redis.call('XADD', key, 'MAXLEN', '~', ARGV[4], id, 'e', epoch, 'm', message)
local age = tonumber(ARGV[5])
if age > 0 then
  local oldest = redis.call('XRANGE', key, '-', '+', 'COUNT', 64)
  -- Trims at most 64 old entries per publish: the rest go with the next ones.
  local keep = nil
  for _, entry in ipairs(oldest) do
    local o, t = string.match(entry[1], '^(%d+)-(%d+)$')
    keep = string.format('%d', tonumber(o) + 1)
    if tonumber(t) >= ms - age then keep = o break end
  end
  if keep ~= nil then redis.call('XTRIM', key, 'MINID', keep .. '-0') end
end
if tonumber(ARGV[6]) > 0 then redis.call('EXPIRE', key, ARGV[6]) end
if ARGV[7] == '1' then redis.call('SPUBLISH', key, message) else redis.call('PUBLISH', key, message) end
return {offset, epoch}
`;

/** KEYS[1] stream; ARGV: first offset wanted, most entries. Returns {epoch, head id, entries}. */
export const HISTORY_SCRIPT = `
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #last == 0 then return {'', '0-0', {}} end
local entries = {}
if tonumber(ARGV[2]) > 0 then
  entries = redis.call('XRANGE', KEYS[1], ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])
end
return {last[1][2][2], last[1][1], entries}
`;

/** Each script with the SHA-1 that EVALSHA names it by. */
const SCRIPTS = { publish: scriptOf(PUBLISH_SCRIPT), history: scriptOf(HISTORY_SCRIPT) };

function scriptOf(source: string): { source: string; sha: string } {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * EVALSHA, or EVAL when the node does not have the script yet (first use, restart, failover,
 * a slot moved to another node). EVAL caches the script on the node it runs on, the one
 * owning `key`; SCRIPT LOAD has no key, and a cluster client sends it to every node.
 */
export async function runScript(
  link: RedisLink,
  name: 'publish' | 'history',
  key: string,
  args: readonly (string | Buffer)[],
): Promise<unknown> {
  try {
    return await link.command(key, ['EVALSHA', SCRIPTS[name].sha, '1', key, ...args]);
  } catch (error) {
    if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
  }
  return link.command(key, ['EVAL', SCRIPTS[name].source, '1', key, ...args]);
}
