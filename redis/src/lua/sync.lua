-- One Shared::sync, atomically (the numbered steps of crawler's src/shared/mod.rs).
--
-- KEYS: 1 log (LIST of entry blobs), 2 done (HASH url -> log index), 3 leases (HASH url ->
-- JSON [worker, token, running 0/1, host]), 4 deadlines (ZSET url by deadline ms), 5 running
-- (HASH host -> requests running), 6 next (HASH host -> ms it may be asked again), 7 workers
-- (HASH worker -> ms last seen), 8 token (STRING, the last token given), 9 placed (SET of the
-- pages that took a place), 10 host_pages (HASH host -> places taken).
-- ARGV: now ('' for TIME), worker, lease ms, max per host, cursor, max entries, max pages and
-- max pages per host ('' for no limit), then the counts of done, ended, release, renew and
-- claims, then their items: done as (token, url, blob), ended/release/renew as (url, token),
-- claims as (url, host, delay ms, token or '', page 0/1).
-- Returns {accepted (0/1 each), answers (kind, value pairs), entries, more (0/1)}, or
-- {'lost', log length} when the cursor is beyond the log's end (nothing applied).
--
-- Numbers go back to Redis as '%d' strings: Lua numbers are doubles, and how Redis spells a
-- double it is handed differs between versions. Tokens stay strings, compared as strings.

local k_log, k_done, k_leases, k_deadlines = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local k_running, k_next, k_workers, k_token = KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local k_placed, k_host_pages = KEYS[9], KEYS[10]

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
local n_done, n_ended = tonumber(ARGV[9]), tonumber(ARGV[10])
local n_release, n_renew, n_claims = tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
local at = 14

-- 0. A log shorter than the worker has read lost entries: nothing is applied.
local len0 = redis.call('LLEN', k_log)
if cursor > len0 then return {'lost', s(len0)} end

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

-- 2. The worker is seen.
redis.call('HSET', k_workers, worker, s(now))

-- 3. Completions.
local accepted = {}
for _ = 1, n_done do
  local token, url, blob = ARGV[at], ARGV[at + 1], ARGV[at + 2]
  at = at + 3
  local ok = 0
  if redis.call('HEXISTS', k_done, url) == 0 then
    local l = held(url, token)
    if l then
      drop_lease(url, l)
      local n = redis.call('RPUSH', k_log, blob)
      redis.call('HSET', k_done, url, s(n - 1))
      ok = 1
    end
  end
  accepted[#accepted + 1] = ok
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
local answers = {}
local function answer(kind, value)
  answers[#answers + 1] = kind
  answers[#answers + 1] = value
end
for _ = 1, n_claims do
  local url, host, delay, token = ARGV[at], ARGV[at + 1], tonumber(ARGV[at + 2]), ARGV[at + 3]
  local page = ARGV[at + 4] == '1'
  at = at + 5
  if redis.call('HEXISTS', k_done, url) == 1 then
    answer(1, 0)
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

-- 8. The log from the cursor on.
local len = redis.call('LLEN', k_log)
local from = math.min(cursor, len)
local to = math.min(from + max_entries, len)
local entries = {}
if to > from then
  entries = redis.call('LRANGE', k_log, s(from), s(to - 1))
end
local more = 0
if to < len then more = 1 end
return {accepted, answers, entries, more}
