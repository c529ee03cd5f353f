-- One Shared::sync, atomically (the numbered steps of crawler's src/shared/mod.rs).
--
-- KEYS: 1 log (LIST of entry blobs), 2 done (HASH url -> log index), 3 leases (HASH url ->
-- JSON [worker, token, running 0/1, host]), 4 deadlines (ZSET url by deadline ms), 5 running
-- (HASH host -> requests running), 6 next (HASH host -> ms it may be asked again), 7 workers
-- (HASH worker -> ms last seen), 8 token (STRING, the last token given), 9 placed (SET of the
-- pages that took a place), 10 host_pages (HASH host -> places taken), 11 the crawl's key
-- prefix: a partitioned crawl's other keys are named from it (`log:P` and `inbox:P`, LISTs,
-- for each partition P above 0, partition 0's log being KEYS[1] and its inbox `inbox:0`;
-- `seen`, HASH url -> its labels 'depth,budget;...'; `quiet`, HASH partition -> 'log length
-- inbox length'; `partitions`, STRING), all in the one hash slot of the prefix's {ID}.
-- ARGV: now ('' for TIME), worker, lease ms, max per host, cursor, max entries, max pages and
-- max pages per host ('' for no limit), partitions, quiet (0/1), then the counts of done,
-- ended, release, renew, claims, reads and offers, then their items: done as (token, url,
-- partition, blob), ended/release/renew as (url, token), claims as (url, host, delay ms, token or '',
-- page 0/1), reads as (partition, log cursor, inbox cursor), offers as (partition, depth,
-- budget, url).
-- Returns {accepted (0/1 each), answers (kind, value pairs), entries, more (0/1), offers
-- (partition, 'depth budget url' pairs), found (entries of claims answered done, partitioned),
-- workers (the live ones, partitioned), over (0/1)}; or {'lost', length, cursor} when a cursor is beyond its
-- log's or inbox's end, or {'partitions', n} when the crawl has n partitions and the ask
-- another number (nothing applied either way).
--
-- Numbers go back to Redis as '%d' strings: Lua numbers are doubles, and how Redis spells a
-- double it is handed differs between versions. Tokens stay strings, compared as strings.

local k_log, k_done, k_leases, k_deadlines = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local k_running, k_next, k_workers, k_token = KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local k_placed, k_host_pages, prefix = KEYS[9], KEYS[10], KEYS[11]

local function s(n) return string.format('%d', n) end

local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[1])
end
local worker = ARGV[2]
local lease_ms = tonumber(ARGV[3])
local max_per_host = tonumber(ARGV[4])
local cursor = tonumber(ARGV[5])
local max_entries = tonumber(ARGV[6])
local max_pages, max_pages_per_host = tonumber(ARGV[7]), tonumber(ARGV[8])
local partitions, quiet = tonumber(ARGV[9]), ARGV[10] == '1'
local n_done, n_ended = tonumber(ARGV[11]), tonumber(ARGV[12])
local n_release, n_renew, n_claims = tonumber(ARGV[13]), tonumber(ARGV[14]), tonumber(ARGV[15])
local n_reads, n_offers = tonumber(ARGV[16]), tonumber(ARGV[17])
local first = 18 -- The first item's argument.
local at = first
local split = partitions > 1

local function log_of(p)
  if p == 0 then return k_log end
  return prefix .. 'log:' .. p
end
local function inbox_of(p) return prefix .. 'inbox:' .. p end

-- The crawl's partitions: set by its first ask, the same in all the others.
local k_partitions = prefix .. 'partitions'
local had = redis.call('GET', k_partitions)
-- A crawl begun before there were partitions has one (and plain indexes in `done`).
if not had and redis.call('LLEN', k_log) > 0 then had = '1' end
if had and tonumber(had) ~= partitions then return {'partitions', had} end

-- The reads, whose items come after the claims'.
local reads = {}
do
  local r = first + 4 * n_done + 2 * (n_ended + n_release + n_renew) + 5 * n_claims
  for i = 1, n_reads do
    reads[i] = {tonumber(ARGV[r]), tonumber(ARGV[r + 1]), tonumber(ARGV[r + 2])}
    if split and reads[i][1] >= partitions then return {'partitions', s(partitions)} end
    r = r + 3
  end
  for _ = 1, n_offers do
    if split and tonumber(ARGV[r]) >= partitions then return {'partitions', s(partitions)} end
    r = r + 4
  end
end

-- 0. A log (or an inbox) shorter than the worker has read lost entries: nothing is applied.
if not split then
  local len0 = redis.call('LLEN', k_log)
  if cursor > len0 then return {'lost', s(len0), s(cursor)} end
else
  for _, r in ipairs(reads) do
    local len = redis.call('LLEN', log_of(r[1]))
    if r[2] > len then return {'lost', s(len), s(r[2])} end
    local ilen = redis.call('LLEN', inbox_of(r[1]))
    if r[3] > ilen then return {'lost', s(ilen), s(r[3])} end
  end
end
if not had then redis.call('SET', k_partitions, s(partitions)) end

-- A host's running count goes down by one, never below zero.
local function free_slot(host)
  local r = tonumber(redis.call('HGET', k_running, host) or '0')
  if r > 0 then redis.call('HINCRBY', k_running, host, -1) end
end

local function drop_lease(url, l)
  redis.call('HDEL', k_leases, url)
  redis.call('ZREM', k_deadlines, url)
  if l[3] == 1 then free_slot(l[4]) end
end

-- The lease on url when this worker holds it with token.
local function held(url, token)
  local raw = redis.call('HGET', k_leases, url)
  if not raw then return nil end
  local l = cjson.decode(raw)
  if l[2] == token and l[1] == worker then return l end
  return nil
end

-- 1. Expired leases.
local expired = redis.call('ZRANGEBYSCORE', k_deadlines, '-inf', s(now))
for _, url in ipairs(expired) do
  local raw = redis.call('HGET', k_leases, url)
  if raw then
    drop_lease(url, cjson.decode(raw))
  else
    redis.call('ZREM', k_deadlines, url)
  end
end

-- 2. The worker is seen (and live for its lease after).
redis.call('HSET', k_workers, worker, s(now))
redis.call('HSET', prefix .. 'lease_of', worker, s(lease_ms))

-- 3. Completions.
local accepted = {}
for _ = 1, n_done do
  local token, url, p, blob = ARGV[at], ARGV[at + 1], tonumber(ARGV[at + 2]), ARGV[at + 3]
  at = at + 4
  local ok = 0
  if redis.call('HEXISTS', k_done, url) == 0 then
    local l = held(url, token)
    if l then
      drop_lease(url, l)
      local n = redis.call('RPUSH', log_of(p), blob)
      if split then
        redis.call('HSET', k_done, url, s(p) .. ':' .. s(n - 1))
      else
        redis.call('HSET', k_done, url, s(n - 1))
      end
      ok = 1
    end
  end
  accepted[#accepted + 1] = ok
end

-- 3b. Offers (partitioned): one not dominated by a label its URL was offered with joins
-- them and its partition's inbox. Their items come after the reads'.
if split then
  local o = first + 4 * n_done + 2 * (n_ended + n_release + n_renew) + 5 * n_claims + 3 * n_reads
  for _ = 1, n_offers do
    local p, depth, budget, url = ARGV[o], tonumber(ARGV[o + 1]), tonumber(ARGV[o + 2]), ARGV[o + 3]
    o = o + 4
    local had_labels = redis.call('HGET', prefix .. 'seen', url) or ''
    local dominated, kept = false, {}
    for d, b in string.gmatch(had_labels, '(%d+),(%d+)') do
      d, b = tonumber(d), tonumber(b)
      if d <= depth and b >= budget then dominated = true end
      if not (depth <= d and budget >= b) then kept[#kept + 1] = s(d) .. ',' .. s(b) end
    end
    if not dominated then
      kept[#kept + 1] = s(depth) .. ',' .. s(budget)
      redis.call('HSET', prefix .. 'seen', url, table.concat(kept, ';'))
      redis.call('RPUSH', inbox_of(tonumber(p)), s(depth) .. ' ' .. s(budget) .. ' ' .. url)
    end
  end
end

-- 4. Tries ended.
for _ = 1, n_ended do
  local url, token = ARGV[at], ARGV[at + 1]
  at = at + 2
  local l = held(url, token)
  if l and l[3] == 1 then
    l[3] = 0
    redis.call('HSET', k_leases, url, cjson.encode(l))
    free_slot(l[4])
  end
end

-- 5. Leases given up.
for _ = 1, n_release do
  local url, token = ARGV[at], ARGV[at + 1]
  at = at + 2
  local l = held(url, token)
  if l then drop_lease(url, l) end
end

-- 6. Renewals.
for _ = 1, n_renew do
  local url, token = ARGV[at], ARGV[at + 1]
  at = at + 2
  if held(url, token) then
    redis.call('ZADD', k_deadlines, s(now + lease_ms), url)
  end
end

-- 7. Claims: kinds 0 granted (token), 1 done, 2 held (ms left), 3 polite (ms to wait), 4 full,
-- 5 host full.
local answers, found = {}, {}
local function answer(kind, value)
  answers[#answers + 1] = kind
  answers[#answers + 1] = value
end
for _ = 1, n_claims do
  local url, host, delay, token = ARGV[at], ARGV[at + 1], tonumber(ARGV[at + 2]), ARGV[at + 3]
  local page = ARGV[at + 4] == '1'
  at = at + 5
  local done_at = redis.call('HGET', k_done, url)
  if done_at then
    answer(1, 0)
    if split then
      local p, i = string.match(done_at, '^(%d+):(%d+)$')
      found[#found + 1] = redis.call('LINDEX', log_of(tonumber(p)), i)
    end
  else
    local raw = redis.call('HGET', k_leases, url)
    local mine, answered = nil, false
    if raw then
      local l = cjson.decode(raw)
      if token ~= '' and l[2] == token and l[1] == worker then
        mine = l
      else
        answered = true
        local deadline = tonumber(redis.call('ZSCORE', k_deadlines, url) or s(now))
        answer(2, s(math.max(deadline - now, 0)))
      end
    end
    -- A page without a place: the crawl's and its host's page limits.
    -- (Kept only with a limit: a crawl's limits are the same in every ask.)
    local place = (max_pages or max_pages_per_host) and page and not answered
      and redis.call('SISMEMBER', k_placed, url) == 0
    if place then
      local of_host = tonumber(redis.call('HGET', k_host_pages, host) or '0')
      if max_pages and redis.call('SCARD', k_placed) >= max_pages then
        answer(4, 0)
        answered = true
      elseif max_pages_per_host and of_host >= max_pages_per_host then
        answer(5, 0)
        answered = true
      end
    end
    if not answered then
      local running = tonumber(redis.call('HGET', k_running, host) or '0')
      local next_at = tonumber(redis.call('HGET', k_next, host) or '0')
      if running >= max_per_host then
        answer(3, 0)
      elseif next_at > now then
        answer(3, s(next_at - now))
      else
        -- A retry whose request still runs keeps the slot it has: the count does not move
        -- (as MemoryShared does it, on the claim's host).
        if not (mine and mine[3] == 1) then
          redis.call('HSET', k_running, host, s(running + 1))
        end
        redis.call('HSET', k_next, host, s(now + delay))
        if place then
          redis.call('SADD', k_placed, url)
          redis.call('HINCRBY', k_host_pages, host, 1)
        end
        local granted
        if mine then
          granted = mine[2]
        else
          granted = s(redis.call('INCR', k_token))
        end
        redis.call('HSET', k_leases, url, cjson.encode({worker, granted, 1, host}))
        redis.call('ZADD', k_deadlines, s(now + lease_ms), url)
        answer(0, granted)
      end
    end
  end
end

-- 8. The log from the cursor on; partitioned, each read's log, then its inbox.
local entries, offers, more = {}, {}, 0
if not split then
  local len = redis.call('LLEN', k_log)
  local from = math.min(cursor, len)
  local to = math.min(from + max_entries, len)
  if to > from then
    entries = redis.call('LRANGE', k_log, s(from), s(to - 1))
  end
  if to < len then more = 1 end
else
  local room = max_entries
  for _, r in ipairs(reads) do
    local p = r[1]
    local log, inbox = log_of(p), inbox_of(p)
    local len = redis.call('LLEN', log)
    local to = math.min(r[2] + room, len)
    if to > r[2] then
      for _, e in ipairs(redis.call('LRANGE', log, s(r[2]), s(to - 1))) do
        entries[#entries + 1] = e
      end
      room = room - (to - r[2])
    end
    local ilen = redis.call('LLEN', inbox)
    local ito = math.min(r[3] + room, ilen)
    if ito > r[3] then
      for _, o in ipairs(redis.call('LRANGE', inbox, s(r[3]), s(ito - 1))) do
        offers[#offers + 1] = s(p)
        offers[#offers + 1] = o
      end
      room = room - (ito - r[3])
    end
    if room == 0 then
      more = 1
      break
    end
  end
end

-- 9. Quiet partitions, 10. over (both only for a quiet ask).
local over = 0
if split and quiet then
  if more == 0 then
    for _, r in ipairs(reads) do
      local lens = s(redis.call('LLEN', log_of(r[1]))) .. ' ' .. s(redis.call('LLEN', inbox_of(r[1])))
      if s(r[2]) .. ' ' .. s(r[3]) == lens then
        redis.call('HSET', prefix .. 'quiet', s(r[1]), lens)
      end
    end
  end
  if redis.call('ZCARD', k_deadlines) == 0 then
    over = 1
    for p = 0, partitions - 1 do
      local lens = s(redis.call('LLEN', log_of(p))) .. ' ' .. s(redis.call('LLEN', inbox_of(p)))
      if redis.call('HGET', prefix .. 'quiet', s(p)) ~= lens then
        over = 0
        break
      end
    end
  end
end

-- The live workers (partitioned): each seen within its own lease.
local live = {}
if split then
  local seen = redis.call('HGETALL', k_workers)
  local leases = redis.call('HGETALL', prefix .. 'lease_of')
  local lease_of = {}
  for i = 1, #leases, 2 do lease_of[leases[i]] = tonumber(leases[i + 1]) end
  for i = 1, #seen, 2 do
    if tonumber(seen[i + 1]) + (lease_of[seen[i]] or 0) > now then live[#live + 1] = seen[i] end
  end
end

return {accepted, answers, entries, more, offers, found, live, over}
