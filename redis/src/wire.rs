//! What goes over the wire: an [`Ask`] as the script's keys and arguments, the script's answer
//! as a [`Reply`], and a log entry as a compact blob (the engine's binary form of a completion,
//! LZ4-compressed when large, as `crawler-store` keeps its rows). Nothing here panics on what Redis hands back: a reply or an entry that cannot be
//! read is a [`SharedError`].

use std::time::Duration;

use crawler::shared::{MAX_ENTRIES, Offer, partition_of};
use crawler::{Answer, Ask, Entry, Kept, Reply, SharedError};
use redis::Value;

/// The largest number of milliseconds sent to the script: Lua numbers are doubles, exact up to
/// 2^53, and a deadline is `now` plus a lease.
const MAX_MS: u64 = 1 << 50;

/// The largest entry a blob may claim to decompress to (a `Kept` is a few kilobytes; a robots.txt
/// or sitemap body is capped far below this).
const MAX_ENTRY_BYTES: usize = 64 << 20;

/// A duration in whole milliseconds, rounded up (a lease or a delay is never shorter than
/// asked), within what the script can add exactly.
pub(crate) fn millis(d: Duration) -> u64 {
    let ms = d.as_millis() + u128::from(!d.subsec_nanos().is_multiple_of(1_000_000));
    u64::try_from(ms).unwrap_or(MAX_MS).min(MAX_MS)
}

/// Entries of this many bytes or more are LZ4-compressed. Lower than `crawler-store`'s 4 KiB:
/// the log lives in Redis's memory, not on disk, and every worker reads it. On the 20k bench
/// site (entries of about 1.6 KB) the log takes 23.6 MB instead of 34.2 MB (-31%), with the
/// crawl's wall and CPU time unchanged within noise (BENCHMARKS.md, "Many workers").
const COMPRESS_FROM: usize = 256;

/// The blob of `worker`'s completion of `kept` under `token`: a flag byte (0: as is, 1:
/// LZ4-compressed, size first), then the worker's name (2-byte length), the token (8 bytes),
/// the URL (4-byte length) and the completion in `crawler`'s binary form ([`Kept::encode`]);
/// lengths and numbers little-endian.
pub(crate) fn encode_entry(worker: &str, token: u64, kept: &Kept) -> Result<Vec<u8>, SharedError> {
    let url = kept.record.url.as_bytes();
    let too_long = |what: &str| SharedError::new(format!("a completion's {what} is too long"));
    let worker_len = u16::try_from(worker.len()).map_err(|_| too_long("worker name"))?;
    let url_len = u32::try_from(url.len()).map_err(|_| too_long("URL"))?;
    let mut out = Vec::with_capacity(64 + url.len());
    out.push(0);
    out.extend_from_slice(&worker_len.to_le_bytes());
    out.extend_from_slice(worker.as_bytes());
    out.extend_from_slice(&token.to_le_bytes());
    out.extend_from_slice(&url_len.to_le_bytes());
    out.extend_from_slice(url);
    kept.encode(&mut out);
    if out.len() >= COMPRESS_FROM {
        let mut packed = vec![1];
        packed.extend_from_slice(&lz4_flex::compress_prepend_size(&out[1..]));
        return Ok(packed);
    }
    Ok(out)
}

/// The entry a blob holds, of a crawl of `partitions`; `index` is its place in the log, for
/// the message.
pub(crate) fn decode_entry(blob: &[u8], index: u64, partitions: u32) -> Result<Entry, SharedError> {
    let bad = |why: String| SharedError::new(format!("log entry {index} cannot be read: {why}"));
    let unpacked;
    let body = match blob.split_first() {
        Some((0, rest)) => rest,
        Some((1, rest)) => {
            let size = rest
                .get(..4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
                .ok_or_else(|| bad("it is too short".into()))?;
            if size > MAX_ENTRY_BYTES {
                return Err(bad(format!("it claims {size} bytes")));
            }
            unpacked = lz4_flex::decompress_size_prepended(rest).map_err(|e| bad(e.to_string()))?;
            &unpacked[..]
        }
        Some((flag, _)) => return Err(bad(format!("unknown form {flag}"))),
        None => return Err(bad("it is empty".into())),
    };
    let mut at = 0usize;
    let mut take = |n: usize| -> Result<&[u8], SharedError> {
        let part = body
            .get(at..at.saturating_add(n))
            .ok_or_else(|| bad("it is cut short".into()))?;
        at += n;
        Ok(part)
    };
    let worker_len = u16::from_le_bytes(take(2)?.try_into().expect("2 bytes")) as usize;
    let worker = std::str::from_utf8(take(worker_len)?)
        .map_err(|e| bad(format!("worker name: {e}")))?
        .to_string();
    let token = u64::from_le_bytes(take(8)?.try_into().expect("8 bytes"));
    let url_len = u32::from_le_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
    let url = std::str::from_utf8(take(url_len)?)
        .map_err(|e| bad(format!("URL: {e}")))?
        .to_string();
    let kept = Kept::decode(&url, &body[at..]).map_err(bad)?;
    let partition = partition_of(&url, partitions);
    Ok(Entry {
        worker,
        token,
        partition,
        kept,
    })
}

/// The script's arguments for `ask` (see `lua/sync.lua`), `now` in ms or `None` for Redis's
/// `TIME`.
pub(crate) fn sync_args(ask: &Ask, now: Option<u64>) -> Result<Vec<Vec<u8>>, SharedError> {
    let mut args: Vec<Vec<u8>> = Vec::new();
    let num = |args: &mut Vec<Vec<u8>>, n: u64| args.push(n.to_string().into_bytes());
    args.push(
        now.map(|n| n.min(MAX_MS).to_string())
            .unwrap_or_default()
            .into_bytes(),
    );
    args.push(ask.worker.clone().into_bytes());
    num(&mut args, millis(ask.lease));
    num(&mut args, u64::from(ask.max_per_host));
    num(&mut args, ask.cursor.min(MAX_MS));
    num(&mut args, MAX_ENTRIES as u64);
    for limit in [ask.max_pages, ask.max_pages_per_host] {
        args.push(
            limit
                .map(|n| n.min(MAX_MS).to_string())
                .unwrap_or_default()
                .into_bytes(),
        );
    }
    let partitions = ask.partitions.max(1);
    num(&mut args, u64::from(partitions));
    args.push(vec![if ask.quiet { b'1' } else { b'0' }]);
    for n in [
        ask.done.len(),
        ask.ended.len(),
        ask.release.len(),
        ask.renew.len(),
        ask.claims.len(),
        ask.reads.len(),
        ask.offers.len(),
    ] {
        num(&mut args, n as u64);
    }
    for c in &ask.done {
        num(&mut args, c.token);
        let key = crawler::shared::log_key(c.kept.fetch, &c.kept.record.url);
        let partition = partition_of(&key, partitions);
        args.push(key.into_bytes());
        num(&mut args, u64::from(partition));
        args.push(encode_entry(&ask.worker, c.token, &c.kept)?);
    }
    for h in ask.ended.iter().chain(&ask.release).chain(&ask.renew) {
        args.push(h.url.clone().into_bytes());
        num(&mut args, h.token);
    }
    for c in &ask.claims {
        args.push(c.url.clone().into_bytes());
        args.push(c.host.clone().into_bytes());
        num(&mut args, millis(c.delay));
        args.push(
            c.token
                .map(|t| t.to_string())
                .unwrap_or_default()
                .into_bytes(),
        );
        args.push(vec![if c.page { b'1' } else { b'0' }]);
    }
    for r in &ask.reads {
        num(&mut args, u64::from(r.partition));
        num(&mut args, r.log.min(MAX_MS));
        num(&mut args, r.inbox.min(MAX_MS));
    }
    for o in &ask.offers {
        num(&mut args, u64::from(o.partition));
        num(&mut args, u64::from(o.depth));
        num(&mut args, u64::from(o.budget));
        args.push(o.url.clone().into_bytes());
    }
    Ok(args)
}

/// A reply that is not what the script returns.
pub(crate) fn unexpected(what: &str) -> SharedError {
    SharedError::new(format!(
        "Redis answered the shared crawl's script with something unexpected ({what}): is the \
         server a Redis 5 or later?"
    ))
}

/// `v` as an array.
pub(crate) fn array(v: Value, what: &str) -> Result<Vec<Value>, SharedError> {
    match v {
        Value::Array(items) | Value::Set(items) => Ok(items),
        Value::Nil => Ok(Vec::new()),
        _ => Err(unexpected(what)),
    }
}

/// `v` as a whole number (Redis integers, or decimal strings).
pub(crate) fn int(v: &Value, what: &str) -> Result<i64, SharedError> {
    match v {
        Value::Int(n) => Ok(*n),
        Value::BulkString(b) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| unexpected(what)),
        Value::SimpleString(s) => s.parse().map_err(|_| unexpected(what)),
        _ => Err(unexpected(what)),
    }
}

/// `v` as a count or a duration in ms: a whole number, not negative.
pub(crate) fn uint(v: &Value, what: &str) -> Result<u64, SharedError> {
    u64::try_from(int(v, what)?).map_err(|_| unexpected(what))
}

/// `v` as text.
pub(crate) fn text(v: Value, what: &str) -> Result<String, SharedError> {
    match v {
        Value::BulkString(b) => String::from_utf8(b).map_err(|_| unexpected(what)),
        Value::SimpleString(s) => Ok(s),
        _ => Err(unexpected(what)),
    }
}

/// The reply the script's answer `v` stands for, to `ask`.
pub(crate) fn reply(v: Value, ask: &Ask) -> Result<Reply, SharedError> {
    let partitions = ask.partitions.max(1);
    let parts = array(v, "the reply")?;
    if let [Value::BulkString(tag), len, cursor] = &parts[..]
        && tag == b"lost"
    {
        let (len, mut cursor) = (uint(len, "a log length")?, uint(cursor, "a cursor")?);
        if partitions == 1 {
            cursor = ask.cursor; // (What the script got is capped at `MAX_MS`.)
        }
        return Err(SharedError::lost(len, cursor));
    }
    if let [Value::BulkString(tag), n] = &parts[..]
        && tag == b"partitions"
    {
        let n = u32::try_from(uint(n, "partitions")?).map_err(|_| unexpected("partitions"))?;
        return Err(SharedError::partitions(n));
    }
    let mut parts = parts.into_iter();
    let mut next = || parts.next().ok_or_else(|| unexpected("a short reply"));
    let (accepted, answers, entries, more) = (next()?, next()?, next()?, next()?);
    let (offers, found, workers, over) = (next()?, next()?, next()?, next()?);
    let cursor = ask.cursor;
    let accepted = array(accepted, "accepted")?
        .iter()
        .map(|v| Ok(int(v, "accepted")? == 1))
        .collect::<Result<Vec<_>, _>>()?;
    let answers = array(answers, "answers")?;
    let answers = answers
        .chunks(2)
        .map(|pair| match pair {
            [kind, value] => answer(int(kind, "an answer")?, value),
            _ => Err(unexpected("an answer")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let entries = array(entries, "entries")?
        .into_iter()
        .zip((0..).map(|i| cursor.saturating_add(i)))
        .map(|(blob, index)| match blob {
            Value::BulkString(b) => decode_entry(&b, index, partitions),
            _ => Err(unexpected("an entry")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let found = array(found, "found")?
        .into_iter()
        .map(|blob| match blob {
            Value::BulkString(b) => decode_entry(&b, 0, partitions),
            _ => Err(unexpected("an entry found")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let offers = array(offers, "offers")?
        .chunks(2)
        .map(|pair| match pair {
            [p, Value::BulkString(o)] => offer(uint(p, "an offer")?, o),
            _ => Err(unexpected("an offer")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let workers = array(workers, "workers")?
        .into_iter()
        .map(|w| text(w, "a worker"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut reply = Reply::default();
    reply.entries = entries;
    reply.more = int(&more, "more")? == 1;
    reply.answers = answers;
    reply.accepted = accepted;
    reply.offers = offers;
    reply.found = found;
    reply.workers = workers;
    reply.workers.sort();
    reply.over = int(&over, "over")? == 1;
    Ok(reply)
}

/// An inbox's offer, `depth budget url`, of partition `partition`.
fn offer(partition: u64, raw: &[u8]) -> Result<Offer, SharedError> {
    let bad = || unexpected("an offer");
    let raw = std::str::from_utf8(raw).map_err(|_| bad())?;
    let mut parts = raw.splitn(3, ' ');
    let mut number = || {
        parts
            .next()
            .and_then(|n| n.parse::<u32>().ok())
            .ok_or_else(bad)
    };
    let (depth, budget) = (number()?, number()?);
    let url = parts.next().ok_or_else(bad)?.to_string();
    Ok(Offer {
        url,
        partition: u32::try_from(partition).map_err(|_| bad())?,
        depth,
        budget,
    })
}

fn answer(kind: i64, value: &Value) -> Result<Answer, SharedError> {
    let ms = |v: &Value| uint(v, "a wait").map(Duration::from_millis);
    Ok(match kind {
        0 => Answer::Granted {
            token: uint(value, "a token")?,
        },
        1 => Answer::Done,
        2 => Answer::Held { wait: ms(value)? },
        3 => Answer::Polite { wait: ms(value)? },
        4 => Answer::Full,
        5 => Answer::HostFull,
        _ => return Err(unexpected("an answer's kind")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_up_to_whole_milliseconds() {
        assert_eq!(millis(Duration::ZERO), 0);
        assert_eq!(millis(Duration::from_millis(7)), 7);
        assert_eq!(millis(Duration::from_micros(7001)), 8);
        assert_eq!(millis(Duration::MAX), MAX_MS);
    }

    /// Every form of entry round-trips; every entry cut short, of either form, and blobs that
    /// are no entry, are errors naming the entry, never a panic.
    #[test]
    fn a_damaged_entry_is_an_error_not_a_panic() {
        use crawler::{FetchError, FetchErrorKind, FetchKind, Record};
        let kept = |message: &str| {
            let record = Record::failure("http://h/a", 1, 0, message);
            let error = FetchError::new(FetchErrorKind::Reset, message);
            Kept::failed(record, FetchKind::Page, error)
        };
        for (message, form) in [("reset", 0u8), (&*"reset ".repeat(100), 1)] {
            let blob = encode_entry("w1", 7, &kept(message)).expect("encodes");
            assert_eq!(blob[0], form, "{message}");
            let entry = decode_entry(&blob, 3, 1).expect("decodes");
            assert_eq!((entry.worker.as_str(), entry.token), ("w1", 7));
            assert_eq!(entry.kept, kept(message));
            for cut in 0..blob.len() {
                let e = decode_entry(&blob[..cut], 3, 1).unwrap_err();
                assert!(e.message.starts_with("log entry 3 cannot be read"), "{e}");
            }
        }
        let huge = [1, 0xff, 0xff, 0xff, 0x7f, 0];
        let unknown = [9, 0, 0];
        let bad_utf8 = [0, 1, 0, 0xff];
        for blob in [&huge[..], &unknown, &bad_utf8] {
            let e = decode_entry(blob, 3, 1).unwrap_err();
            assert!(e.message.starts_with("log entry 3 cannot be read"), "{e}");
        }
    }

    #[test]
    fn an_unexpected_reply_is_an_error() {
        assert!(reply(Value::Okay, &Ask::default()).is_err());
        assert!(reply(Value::Array(vec![Value::Nil]), &Ask::default()).is_err());
        let odd = Value::Array(vec![
            Value::Array(vec![]),
            Value::Array(vec![Value::Int(9), Value::Int(0)]),
            Value::Array(vec![]),
            Value::Int(0),
        ]);
        assert!(reply(odd, &Ask::default()).is_err());
    }
}
