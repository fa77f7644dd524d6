-- The records of the live processes (beat within their own liveness window), for GET /rooms;
-- ids whose record expired are pruned from the set.
-- ARGV: 1 key prefix, 2 liveness ms
local P = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', P .. 'processes')) do
  local h = redis.call('HMGET', P .. 'process:' .. id, 'record', 'beat', 'liveness')
  if not h[1] then
    redis.call('SREM', P .. 'processes', id)
  elseif now - tonumber(h[2]) <= tonumber(h[3] or ARGV[2]) then
    table.insert(out, h[1])
  end
end
return out
