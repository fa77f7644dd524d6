-- Takes a seat at /ws: checks it is for this process (instance) and room, and that the room's
-- lease is still this process's at the seat's epoch, before deleting it, so a seat shown to
-- the wrong process is left for the right one. A used seat keeps its place reserved (for the
-- record TTL) until this process's next heartbeat counts the player.
--
-- ARGV: 1 key prefix, 2 token, 3 process id, 4 instance, 5 room, 6 the lobby's name,
--       7 how long a used seat stays reserved, ms
-- Returns {'ok', epoch} | {'unknown'} | {'foreign', process} | {'other_room', room}
--       | {'stale', epoch}
local P = ARGV[1]
local key = P .. 'seat:' .. ARGV[2]
local v = redis.call('GET', key)
if not v then return {'unknown'} end
local process, room, epoch = string.match(v, '^(%S+) (%S+) (%d+)$')
if not process then return {'unknown'} end
if process ~= ARGV[3] then return {'foreign', process} end
if room ~= ARGV[5] then return {'other_room', room} end
redis.call('DEL', key)
if room == ARGV[6] then return {'ok', '0'} end
local l = redis.call('HMGET', P .. 'room:' .. room, 'owner', 'instance', 'epoch')
local seats = P .. 'seats:' .. room
if l[1] ~= ARGV[3] or l[2] ~= ARGV[4] or l[3] ~= epoch then
  redis.call('ZREM', seats, ARGV[2])
  return {'stale', epoch}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', seats, 'XX', now + tonumber(ARGV[7]), ARGV[2])
return {'ok', epoch}
