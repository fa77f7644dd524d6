-- One heartbeat: writes this process's record (beat time from Redis TIME) and renews the
-- lease of each room it runs, compared on owner, instance and epoch; never overwrites
-- another's. A lease found missing is re-taken, with an epoch above the one held, only when
-- the caller may (its copy was not paused since it was last proven). Marks the directory
-- recovering when it finds Redis emptied under a process that had registered before.
--
-- ARGV: 1 key prefix, 2 process id, 3 instance, 4 url, 5 max rooms, 6 room capacity,
--       7 record JSON, 8 record TTL ms, 9 liveness ms, 10 registered before ('1'/'0'),
--       11 draining ('1'/'0': place.lua opens no room and grants no seat here),
--       12 rooms, then per room: name, epoch held, places held, may re-take ('1'/'0'),
--       used seats counted, then that many seat tokens
-- Returns {'duplicate', instance} | {'ok', recovering ('1'/'0'), epoch per room ('0': lost)}
local P = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local key = P .. 'process:' .. ARGV[2]
local rec = redis.call('HMGET', key, 'instance', 'beat')
if rec[1] and rec[1] ~= ARGV[3] and now - tonumber(rec[2]) <= tonumber(ARGV[9]) then
  return {'duplicate', rec[1]}
end
if redis.call('EXISTS', P .. 'directory') == 0 then
  redis.call('SET', P .. 'directory', now)
  if ARGV[10] == '1' then redis.call('SET', P .. 'recovering', now, 'PX', ARGV[8]) end
end
local recovering = tostring(redis.call('EXISTS', P .. 'recovering'))
redis.call('DEL', key)
redis.call('HSET', key, 'url', ARGV[4], 'instance', ARGV[3], 'beat', now, 'max_rooms', ARGV[5],
  'capacity', ARGV[6], 'record', ARGV[7], 'liveness', ARGV[9], 'draining', ARGV[11])
redis.call('PEXPIRE', key, ARGV[8])
redis.call('SADD', P .. 'processes', ARGV[2])
local mine = P .. 'rooms:' .. ARGV[2]
local out = {'ok', recovering}
local i = 13
for _ = 1, tonumber(ARGV[12]) do
  local name, held, places, retake = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local used = tonumber(ARGV[i + 4])
  local lease = P .. 'room:' .. name
  local l = redis.call('HMGET', lease, 'owner', 'instance', 'epoch')
  local epoch = '0'
  if l[1] == ARGV[2] and l[2] == ARGV[3] then
    epoch = l[3]
  elseif not l[1] and retake == '1' then
    local e = redis.call('INCR', P .. 'epoch')
    if e <= tonumber(held) then
      e = tonumber(held) + 1
      redis.call('SET', P .. 'epoch', e)
    end
    epoch = tostring(e)
    redis.call('DEL', P .. 'seats:' .. name)
    redis.call('HSET', lease, 'owner', ARGV[2], 'instance', ARGV[3], 'epoch', epoch,
      'capacity', ARGV[6])
  end
  if epoch ~= '0' then
    redis.call('HSET', lease, 'players', places)
    redis.call('PEXPIRE', lease, ARGV[8])
    redis.call('SADD', mine, name)
    for k = 1, used do redis.call('ZREM', P .. 'seats:' .. name, ARGV[i + 4 + k]) end
  end
  table.insert(out, epoch)
  i = i + 5 + used
end
if redis.call('PTTL', mine) < tonumber(ARGV[8]) then redis.call('PEXPIRE', mine, ARGV[8]) end
return out
