-- Where a shared crawl stands, read in one atomic step (nothing is written).
--
-- KEYS: 1 done, 2 leases, 3 deadlines, 4 workers, 5 finished, 6 placed, 7 host_pages. ARGV: now
-- ('' for TIME). Returns {done, leased, hosts (host, running pairs), workers (worker, ms pairs),
-- finished, now, pages (places taken), host pages (host, places pairs)}.
-- A lease counts while its deadline is after now, as sync would see it (expired leases are
-- only dropped by the next sync).

local function s(n) return string.format('%d', n) end

-- `now` as sync.lua takes it (the same lines: scripts share no code before Redis 7's
-- functions, and Redis 5 is enough for these).
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[1])
end
local done = redis.call('HLEN', KEYS[1])
local leased = redis.call('ZCOUNT', KEYS[3], '(' .. s(now), '+inf')
local running, hosts = {}, {}
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  local l = cjson.decode(all[i + 1])
  local deadline = tonumber(redis.call('ZSCORE', KEYS[3], all[i]) or s(now))
  if l[3] == 1 and deadline > now then
    if not running[l[4]] then
      running[l[4]] = 0
      hosts[#hosts + 1] = l[4]
    end
    running[l[4]] = running[l[4]] + 1
  end
end
table.sort(hosts)
local per_host = {}
for _, h in ipairs(hosts) do
  per_host[#per_host + 1] = h
  per_host[#per_host + 1] = running[h]
end
local workers = redis.call('HGETALL', KEYS[4])
return {done, leased, per_host, workers, redis.call('EXISTS', KEYS[5]), s(now),
  redis.call('SCARD', KEYS[6]), redis.call('HGETALL', KEYS[7])}
