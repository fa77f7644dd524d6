-- Places one client (POST /matchmake): finds the room's lease or claims it for the
-- least-loaded live process, counts the room's free places and reserves one as a seat. One
-- script, so that matchmakers on every process agree and never grant more than the room holds.
--
-- ARGV: 1 key prefix, 2 room ('' = quick match), 3 fresh name for a quick match's new room,
--       4 seat token, 5 seat TTL ms, 6 liveness ms (a beat older is a process gone, unless
--       the process published its own),
--       7 claim TTL ms, 8 the lobby's name (per process: no lease, no reservation)
-- A draining process (its record's `draining` is '1') gets no new room and no seat, not even
-- for a room it already runs.
-- Returns {'ok', process, url, room, epoch} | {'full', room, capacity, players, reserved}
--       | {'recovering'} | {'none'} | {'no_room_left'}
--       | {'draining', room ('': every live process is draining)}
local P = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('EXISTS', P .. 'recovering') == 1 then return {'recovering'} end

local live, order = {}, {}
for _, id in ipairs(redis.call('SMEMBERS', P .. 'processes')) do
  local h = redis.call('HMGET', P .. 'process:' .. id, 'url', 'instance', 'beat', 'max_rooms',
    'capacity', 'liveness', 'draining')
  if not h[1] then
    redis.call('SREM', P .. 'processes', id)
  elseif now - tonumber(h[3]) <= tonumber(h[6] or ARGV[6]) then
    live[id] = {url = h[1], instance = h[2], max_rooms = tonumber(h[4]), capacity = tonumber(h[5]),
      draining = h[7] == '1'}
    table.insert(order, id)
  end
end
table.sort(order)
if #order == 0 then return {'none'} end
local open = {}
for _, id in ipairs(order) do
  if not live[id].draining then table.insert(open, id) end
end
if #open == 0 then return {'draining', ''} end

local function lease(name)
  return redis.call('HMGET', P .. 'room:' .. name, 'owner', 'instance', 'epoch', 'players', 'capacity')
end

-- The rooms leased to process `id` (claimed or open), pruned of names it no longer holds.
local function rooms_of(id)
  local key, kept = P .. 'rooms:' .. id, {}
  for _, name in ipairs(redis.call('SMEMBERS', key)) do
    local l = redis.call('HMGET', P .. 'room:' .. name, 'owner', 'instance')
    if l[1] == id and l[2] == live[id].instance then
      table.insert(kept, name)
    else
      redis.call('SREM', key, name)
    end
  end
  return kept
end

local function reserved(name)
  local key = P .. 'seats:' .. name
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  return redis.call('ZCARD', key)
end

local function free(name, l)
  return tonumber(l[5]) - tonumber(l[4]) - reserved(name)
end

local function least_loaded(limit_rooms)
  local best, best_load
  for _, id in ipairs(open) do
    local load = #rooms_of(id)
    local fits = not limit_rooms or load < live[id].max_rooms - 1
    if fits and (best == nil or load < best_load) then best, best_load = id, load end
  end
  return best
end

-- A new lease on `name` for the least-loaded process with room under its --max-rooms (the
-- lobby takes one), fenced by an epoch that only grows; seats of a previous lease are void.
local function claim(name)
  local best = least_loaded(true)
  if not best then return nil end
  local epoch = tostring(redis.call('INCR', P .. 'epoch'))
  local key = P .. 'room:' .. name
  redis.call('DEL', key, P .. 'seats:' .. name)
  redis.call('HSET', key, 'owner', best, 'instance', live[best].instance, 'epoch', epoch,
    'players', 0, 'capacity', live[best].capacity)
  redis.call('PEXPIRE', key, ARGV[7])
  redis.call('SADD', P .. 'rooms:' .. best, name)
  redis.call('PEXPIRE', P .. 'rooms:' .. best, ARGV[7])
  return {best, live[best].instance, epoch, '0', tostring(live[best].capacity)}
end

local function seat(process, name, epoch)
  redis.call('SET', P .. 'seat:' .. ARGV[4], process .. ' ' .. name .. ' ' .. epoch, 'PX', ARGV[5])
  return {'ok', process, live[process].url, name, epoch}
end

local function reserve(name, l)
  local places = free(name, l)
  if places <= 0 then
    return {'full', name, l[5], l[4], tostring(reserved(name))}
  end
  local key = P .. 'seats:' .. name
  redis.call('ZADD', key, now + tonumber(ARGV[5]), ARGV[4])
  redis.call('PEXPIRE', key, ARGV[7])
  return seat(l[1], name, l[3])
end

local name = ARGV[2]
if name == ARGV[8] then
  return seat(least_loaded(false), name, '0')
end
if name == '' then
  local best, best_free, best_lease
  for _, id in ipairs(open) do
    for _, room in ipairs(rooms_of(id)) do
      local l = lease(room)
      local places = free(room, l)
      if places > 0 and (best == nil or places < best_free or (places == best_free and room < best)) then
        best, best_free, best_lease = room, places, l
      end
    end
  end
  if best then return reserve(best, best_lease) end
  name = ARGV[3]
end
local l = lease(name)
if l[1] and live[l[1]] and live[l[1]].instance == l[2] and live[l[1]].draining then
  return {'draining', name}
end
if not (l[1] and live[l[1]] and live[l[1]].instance == l[2]) then
  l = claim(name)
  if not l then return {'no_room_left'} end
end
return reserve(name, l)
