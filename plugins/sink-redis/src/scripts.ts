/**
 * The Lua script of write mode, registered with ioredis `defineCommand`: ioredis sends EVALSHA
 * and falls back to EVAL (loading the script) on NOSCRIPT, also inside pipelines and per Cluster
 * node. One call touches one value key and its version key (same slot, see `versionKeyOf`).
 */
import { VERSION_TAIL } from './version.js';

/**
 * `sluiceApply(valueKey, versionKey, op, version, valueTtlMs, versionTtlMs, ...payload)`.
 *
 * - op `json`: SET the value (payload[1]) — `hash`: DEL then HSET the field/value pairs — `del`:
 *   DEL the value (a tombstone: the version stays for `versionTtlMs`) — `etl`: like json/hash
 *   (payload[1] is the format) but only when the key has no version at all (never overwrites what
 *   an event wrote or deleted, and sets no version, so any event overwrites it).
 * - A version of the same stream that is not newer than the stored one changes nothing (a replay).
 * - valueTtlMs / versionTtlMs: PEXPIRE in ms, 0 = persist.
 *
 * Returns 1 when applied, 0 when skipped as stale.
 */
export const APPLY_SCRIPT = `
local stored = redis.call('GET', KEYS[2])
local op = ARGV[1]
local version = ARGV[2]
local tail = ${VERSION_TAIL}
if op == 'etl' then
  if stored then return 0 end
elseif stored then
  local sl = string.len(stored)
  local vl = string.len(version)
  if sl > tail and vl > tail
    and string.sub(stored, 1, sl - tail) == string.sub(version, 1, vl - tail)
    and string.sub(stored, sl - tail + 1) >= string.sub(version, vl - tail + 1) then
    return 0
  end
end
local valueTtl = tonumber(ARGV[3])
local versionTtl = tonumber(ARGV[4])
local format = op
if op == 'etl' then format = ARGV[5] end
if format == 'del' then
  redis.call('DEL', KEYS[1])
elseif format == 'json' then
  local payload = ARGV[5]
  if op == 'etl' then payload = ARGV[6] end
  if valueTtl > 0 then
    redis.call('SET', KEYS[1], payload, 'PX', valueTtl)
  else
    redis.call('SET', KEYS[1], payload)
  end
else
  local first = 5
  if op == 'etl' then first = 6 end
  redis.call('DEL', KEYS[1])
  if #ARGV >= first + 1 then
    redis.call('HSET', KEYS[1], unpack(ARGV, first))
    if valueTtl > 0 then redis.call('PEXPIRE', KEYS[1], valueTtl) end
  end
end
if op == 'etl' then return 1 end
if versionTtl > 0 then
  redis.call('SET', KEYS[2], version, 'PX', versionTtl)
else
  redis.call('SET', KEYS[2], version)
end
return 1
`;

/**
 * `sluiceEvictIf(valueKey, versionKey, version)`: the delayed eviction of a tombstoned key. Deletes
 * the value only while the version key still holds the tombstone's version (a newer event's write
 * is left alone). Returns 1 when it deleted, 0 otherwise.
 */
export const EVICT_IF_SCRIPT = `
if redis.call('GET', KEYS[2]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;
