// The Lua scripts of the Redis store: every multi-key step (append with its relay entry, a presence change with its
// notice, a member under the limit) runs as one script, so it is atomic however many servers share the Redis.
import type { Redis } from 'ioredis';

// KEYS: msgs, cmid, channel, relay. ARGV: dedup(0/1), forcedId or '', json fields..., relay (JSON without frame).
const APPEND = `
if ARGV[1] == '1' then
  local id = redis.call('GET', KEYS[2])
  if id then
    local old = redis.call('ZRANGEBYSCORE', KEYS[1], id, id, 'LIMIT', 0, 1)
    if old[1] then return {old[1], 1} end
  end
end
local id
if ARGV[2] ~= '' then id = tonumber(ARGV[2]) else id = redis.call('HINCRBY', KEYS[3], 'last', 1) end
local msg = {channelId=ARGV[3], messageId=id, senderId=ARGV[4], clientMessageId=ARGV[5], text=ARGV[6], createdAt=ARGV[7]}
local m = cjson.encode(msg)
redis.call('ZADD', KEYS[1], id, m)
redis.call('SET', KEYS[2], id)
local relay = cjson.decode(ARGV[8])
msg.type = 'message'
relay.frame = msg
local at = redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[9], '*', 'e', cjson.encode(relay))
return {m, 0, at}
`;

// A presence change and its notice to the user's friends. ARGV: prefix, relay maxlen.
const PRESENCE_CHANGE = `
local function change(u, status, since)
  redis.call('HSET', ARGV[1] .. 'presence:' .. u, 'status', status, 'since', since)
  local friends = redis.call('SMEMBERS', ARGV[1] .. 'friends:' .. u)
  if #friends > 0 then
    local e = cjson.encode({frame={type='presence', userId=u, status=status, since=since}, userIds=friends})
    redis.call('XADD', ARGV[1] .. 'relay', 'MAXLEN', '~', ARGV[2], '*', 'e', e)
  end
end
`;

// KEYS: online zset. ARGV: prefix, maxlen, now, since, userIds...
const BEAT = `${PRESENCE_CHANGE}
for i = 5, #ARGV do
  local u = ARGV[i]
  local was = redis.call('ZSCORE', KEYS[1], u)
  redis.call('ZADD', KEYS[1], ARGV[3], u)
  if not was then change(u, 'online', ARGV[4]) end
end
return 1
`;

// KEYS: online zset. ARGV: prefix, maxlen, cutoff, since, userId (only that user) or ''.
const OFFLINE = `${PRESENCE_CHANGE}
local gone
if ARGV[5] ~= '' then
  if redis.call('ZSCORE', KEYS[1], ARGV[5]) then gone = {ARGV[5]} else gone = {} end
else
  gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
end
for _, u in ipairs(gone) do
  redis.call('ZREM', KEYS[1], u)
  change(u, 'offline', ARGV[4])
end
return #gone
`;

// KEYS: conn hash. ARGV: prefix, connId. Returns nil or {userId, connections left}.
const CLOSE_CONNECTION = `
local h = redis.call('HMGET', KEYS[1], 'userId', 'server')
if not h[1] then return nil end
redis.call('DEL', KEYS[1])
redis.call('SREM', ARGV[1] .. 'userconns:' .. h[1], h[2] .. '|' .. ARGV[2])
redis.call('SREM', ARGV[1] .. 'serverconns:' .. h[2], ARGV[2])
return {h[1], redis.call('SCARD', ARGV[1] .. 'userconns:' .. h[1])}
`;

// ARGV: prefix, server name.
const REMOVE_SERVER = `
local key = ARGV[1] .. 'serverconns:' .. ARGV[2]
for _, c in ipairs(redis.call('SMEMBERS', key)) do
  local u = redis.call('HGET', ARGV[1] .. 'conn:' .. c, 'userId')
  if u then redis.call('SREM', ARGV[1] .. 'userconns:' .. u, ARGV[2] .. '|' .. c) end
  redis.call('DEL', ARGV[1] .. 'conn:' .. c)
end
redis.call('DEL', key)
redis.call('ZREM', ARGV[1] .. 'servers', ARGV[2])
redis.call('HDEL', ARGV[1] .. 'serverurls', ARGV[2])
return 1
`;

// KEYS: memberset, memberlist. ARGV: userId, limit. Returns 1 added/already, 0 full.
const ADD_MEMBER = `
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[1])
return 1
`;

/** Registers the scripts as commands on this connection (ioredis sends EVALSHA, and EVAL once after a NOSCRIPT). */
export function defineChatScripts(redis: Redis): void {
  redis.defineCommand('chatAppend', { numberOfKeys: 4, lua: APPEND });
  redis.defineCommand('chatAddMember', { numberOfKeys: 2, lua: ADD_MEMBER });
  redis.defineCommand('chatBeat', { numberOfKeys: 1, lua: BEAT });
  redis.defineCommand('chatOffline', { numberOfKeys: 1, lua: OFFLINE });
  redis.defineCommand('chatCloseConnection', { numberOfKeys: 1, lua: CLOSE_CONNECTION });
  redis.defineCommand('chatRemoveServer', { numberOfKeys: 0, lua: REMOVE_SERVER });
}
