-- A clean shutdown: removes this instance's record and the leases it holds, so its rooms may
-- be placed elsewhere at once.
-- ARGV: 1 key prefix, 2 process id, 3 instance
local P = ARGV[1]
local key = P .. 'process:' .. ARGV[2]
if redis.call('HGET', key, 'instance') ~= ARGV[3] then return 0 end
local mine = P .. 'rooms:' .. ARGV[2]
for _, name in ipairs(redis.call('SMEMBERS', mine)) do
  local l = redis.call('HMGET', P .. 'room:' .. name, 'owner', 'instance')
  if l[1] == ARGV[2] and l[2] == ARGV[3] then
    redis.call('DEL', P .. 'room:' .. name, P .. 'seats:' .. name)
  end
end
redis.call('DEL', key, mine)
redis.call('SREM', P .. 'processes', ARGV[2])
return 1
