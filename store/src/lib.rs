//! The crawl state on disk: a [`crawler::Store`] over SQLite, so that `crawl --state DIR` goes on
//! where it stopped, whatever stopped it (the end, Ctrl-C, SIGTERM, `kill -9`, power loss).
//!
//! The engine hands the store one [`Kept`] completion per finished URL, and replays the kept ones
//! in a later run (see [`crawler::store`]): the completions are the whole durable state. This
//! crate keeps them in `DIR/state.sqlite`, with a few facts beside them ([`Meta`]): the options
//! that define the crawl, whether it finished, and how long the crawl's output files were at the
//! last commit.
//!
//! **Commits and syncs.** [`SqliteStore::keep`] only buffers. The command commits the buffer
//! ([`SqliteStore::commit`]) when it is [due](SqliteStore::due) (every [`BATCH`] completions,
//! [`BATCH_BYTES`] of them encoded, or every [`INTERVAL`], whichever comes first) and at the
//! end, once the output lines of those
//! completions are written, passing the outputs' lengths and files. A writer thread then, in
//! order: syncs the output files (`fsync`), and writes the completions and the lengths in one
//! transaction, which SQLite (WAL mode, `synchronous=FULL`) syncs before it returns. The crawl
//! goes on meanwhile (one batch may wait behind the one being written; a third waits for
//! room). [`SqliteStore::wait`] returns once everything handed over is on disk.
//!
//! So a crash loses at most the completions since the last finished commit; on resume, the
//! outputs are cut back to the lengths of that commit (they are at least that long, having been
//! synced first), and the lost URLs are fetched and written again: every URL is in the outputs
//! exactly once.
//!
//! **Disk use.** One row per URL: the URL, and the completion in the engine's binary form
//! ([`Kept::encode`]: the record, status, the three header fields the engine reads, a page's
//! links as one string, a robots.txt's or sitemap's body), about 1.5 KB a page on the bench
//! site. [`Store::keep_ref`] encodes it on the crawl's thread straight from what the engine
//! lends, into a buffer the writer hands back after the commit: nothing is built, allocated or
//! freed across threads per URL. Rows of 4 KiB or more (pages with about a hundred links or
//! more) are LZ4-compressed by the writer, which halves them; smaller ones are not: compressing
//! them cost the writer more CPU than the smaller writes saved, for a quarter of their bytes.
//! The layout is the database's [`FORMAT`]; a state of another format is refused
//! ([`StoreError::Format`]), a damaged row is an error.
//!
//! ```
//! use crawler_store::{Meta, SqliteStore};
//! let dir = tempfile::tempdir().unwrap();
//! let mut store = SqliteStore::open(dir.path()).unwrap();
//! assert_eq!(store.meta(), &Meta::default());
//! store.set_options(vec!["--max-depth=2".into()]);
//! store.commit(Default::default(), Vec::new()).unwrap();
//! drop(store);
//! let store = SqliteStore::open(dir.path()).unwrap();
//! assert_eq!(store.meta().options.as_deref(), Some(&["--max-depth=2".to_string()][..]));
//! ```

mod writer;

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crawler::{Kept, KeptRef, Store};
use rusqlite::{Connection, OptionalExtension};
use writer::{Batch, Rows, Writer};

/// Completions per commit at most.
pub const BATCH: usize = 10_000;

/// Bytes of encoded completions per commit, about (a commit is due once they are reached): the
/// buffers they are encoded into (reused from commit to commit) stay bounded where pages have
/// hundreds of links, and a commit is not made more often than [`BATCH`] makes it where they
/// have a few dozen (4 MiB, four times as many commits on the bench site, cost more than the
/// fresh memory it saved).
pub const BATCH_BYTES: usize = 16 << 20;

/// Time between commits at most (while completions come in).
pub const INTERVAL: Duration = Duration::from_secs(1);

/// The file in the state folder.
pub const FILE: &str = "state.sqlite";

/// The version of the database's layout, kept in it (`format` in `meta`): a state written
/// with another layout is refused, not misread. 2: completions in the engine's bytes
/// ([`Kept::encode`]) keyed by URL; 1 (no `format` kept) was LZ4-compressed JSON.
pub const FORMAT: &str = "2";

// A row starts with the codec's own version, which `open` does not read: a new codec version
// must come with a new FORMAT, so that an older state is refused as a whole at `open`, not row
// by row mid-crawl.
const _: () = assert!(
    crawler::store::VERSION == 1,
    "the codec's VERSION changed: bump FORMAT with it"
);

/// How long the crawl's output files were at a commit: what a resumed crawl cuts them back to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Offsets {
    /// Bytes of the `--jsonl` file.
    pub jsonl: u64,
    /// Bytes of the `--record` WARC file.
    pub warc: u64,
}

/// What the state knows besides the completions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Meta {
    /// The options that define the crawl (command-line arguments), once set.
    pub options: Option<Vec<String>>,
    /// The crawl ran to its end.
    pub finished: bool,
    /// The outputs' lengths at the last commit.
    pub offsets: Offsets,
    /// Completions kept.
    pub kept: u64,
}

/// Why the state could not be read or written.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The folder could not be made or read.
    Dir(PathBuf, std::io::Error),
    /// SQLite failed.
    Sqlite(rusqlite::Error),
    /// A completion or a fact did not decode (a state written by another version).
    Corrupt(String),
    /// Another crawl holds the state (its `lock` file is locked).
    Busy(PathBuf),
    /// The state was written by another version of the command, with another layout (the
    /// one it says, if any; see [`FORMAT`]).
    Format(PathBuf, Option<String>),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Dir(dir, e) => write!(f, "state folder {}: {e}", dir.display()),
            StoreError::Sqlite(e) => write!(f, "state database: {e}"),
            StoreError::Corrupt(e) => write!(f, "state database: {e}"),
            StoreError::Busy(dir) => write!(
                f,
                "another crawl is using the state in {} (one crawl per state folder)",
                dir.display()
            ),
            StoreError::Format(dir, found) => write!(
                f,
                "the state in {} was written by another version of crawl (format {}, this one \
                 reads {FORMAT}): start a new state folder",
                dir.display(),
                found.as_deref().unwrap_or("1")
            ),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e)
    }
}

/// The crawl state in `DIR/state.sqlite` (see the [crate docs](crate)).
#[derive(Debug)]
pub struct SqliteStore {
    /// For lookups, on the crawl's thread (WAL lets it read while the writer writes).
    conn: Connection,
    /// Locked while the state is open: two crawls writing one state (and one JSONL file)
    /// would each record what the other did not know about. The lock goes with the process,
    /// however it ends.
    _lock: File,
    writer: Writer,
    meta: Meta,
    /// Completions kept since the last commit, encoded.
    pending: Rows,
    /// An emptied buffer the writer handed back, for the next commit's completions.
    spare: Option<Rows>,
    last_commit: Instant,
    /// The first error met by [`Store::kept`] or [`Store::keep`], which cannot return one.
    error: Option<String>,
    /// No completion was kept when the state was opened: a fresh crawl looks nothing up.
    fresh: bool,
}

impl SqliteStore {
    /// Opens the state in `dir`, making the folder and the database when they do not exist.
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        let in_dir = |e| StoreError::Dir(dir.to_path_buf(), e);
        std::fs::create_dir_all(dir).map_err(in_dir)?;
        let lock = File::create(dir.join("lock")).map_err(in_dir)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Busy(dir.to_path_buf()));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(in_dir(e)),
        }
        let conn = Connection::open(dir.join(FILE))?;
        // Rows of a few KB (a page's links) fit in 16 KiB pages without overflow chains; it
        // applies when the database is made, before WAL mode is set.
        conn.pragma_update(None, "page_size", 16384)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS kept (url TEXT PRIMARY KEY, data BLOB NOT NULL);",
        )?;
        let get = |key: &str| -> Result<Option<String>, StoreError> {
            Ok(conn
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()?)
        };
        let number = |key: &str| -> Result<u64, StoreError> {
            match get(key)? {
                None => Ok(0),
                Some(v) => v
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("{key} is {v:?}"))),
            }
        };
        // Every commit writes the format; rows without it are format 1's (before it was kept).
        // A database with nothing in it yet is new: its first commit gives it this format.
        let format = get("format")?;
        // Counted once: each count reads every row.
        let kept = conn.query_row("SELECT count(*) FROM kept", [], |r| r.get::<_, i64>(0))? as u64;
        let facts = conn.query_row("SELECT count(*) FROM meta", [], |r| r.get::<_, i64>(0))?;
        if format.as_deref() != Some(FORMAT) && (format.is_some() || kept > 0 || facts > 0) {
            return Err(StoreError::Format(dir.to_path_buf(), format));
        }
        let options = match get("options")? {
            None => None,
            Some(v) => Some(
                serde_json::from_str(&v)
                    .map_err(|e| StoreError::Corrupt(format!("options: {e}")))?,
            ),
        };
        let meta = Meta {
            options,
            finished: get("finished")?.as_deref() == Some("1"),
            offsets: Offsets {
                jsonl: number("jsonl_len")?,
                warc: number("warc_len")?,
            },
            kept,
        };
        let writer = Writer::start(dir.join(FILE))?;
        Ok(SqliteStore {
            conn,
            _lock: lock,
            writer,
            fresh: meta.kept == 0,
            meta,
            pending: Rows::new(),
            spare: None,
            last_commit: Instant::now(),
            error: None,
        })
    }

    /// What the state knows, as of the last commit (and the changes made since).
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// Sets the options that define the crawl (written at the next commit).
    pub fn set_options(&mut self, options: Vec<String>) {
        self.meta.options = Some(options);
    }

    /// Marks the crawl finished (written at the next commit).
    pub fn set_finished(&mut self) {
        self.meta.finished = true;
    }

    /// `true` when a commit is due: [`BATCH`] completions wait, or [`BATCH_BYTES`] of them
    /// encoded, or [`INTERVAL`] has passed with at least one waiting.
    pub fn due(&self) -> bool {
        self.pending.len() >= BATCH
            || self.pending.bytes() >= BATCH_BYTES
            || (!self.pending.is_empty() && self.last_commit.elapsed() >= INTERVAL)
    }

    /// The first error met while looking up or keeping a completion, if any: the crawl must
    /// stop, since going on could fetch and record a URL twice.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Hands the waiting completions and the facts, with `offsets` as the outputs' lengths,
    /// to the writer thread, which syncs `files` (the outputs, holding every waiting
    /// completion's output already) and then commits them in one transaction. Returns the
    /// first error of an earlier commit, if any; waits only when two commits are under way.
    pub fn commit(&mut self, offsets: Offsets, files: Vec<File>) -> Result<(), StoreError> {
        self.answers(false)?;
        let mut facts = Vec::new();
        if let Some(options) = &self.meta.options {
            let json = serde_json::to_string(options).expect("strings serialise");
            facts.push(("options", json));
        }
        let finished = if self.meta.finished { "1" } else { "0" };
        facts.push(("finished", finished.to_string()));
        facts.push(("jsonl_len", offsets.jsonl.to_string()));
        facts.push(("warc_len", offsets.warc.to_string()));
        facts.push(("format", FORMAT.to_string()));
        let next = self.spare.take().unwrap_or_else(Rows::new);
        let batch = Batch {
            sync: files,
            rows: std::mem::replace(&mut self.pending, next),
            facts,
        };
        self.meta.kept += batch.rows.len() as u64;
        self.meta.offsets = offsets;
        self.last_commit = Instant::now();
        let sent = match &self.writer.batches {
            Some(batches) => batches.send(batch).is_ok(),
            None => false,
        };
        if !sent {
            // The writer stopped at an error, which its answer gives.
            return self
                .answers(true)
                .and(Err(StoreError::Corrupt("the state writer stopped".into())));
        }
        self.writer.unanswered += 1;
        Ok(())
    }

    /// Waits until every commit handed over is on disk; returns the first error, if any.
    pub fn wait(&mut self) -> Result<(), StoreError> {
        self.answers(true)
    }

    /// Takes the writer's answers (all of them when `all`, else those already there).
    fn answers(&mut self, all: bool) -> Result<(), StoreError> {
        while self.writer.unanswered > 0 {
            let answer = if all {
                self.writer.acks.recv().ok()
            } else {
                match self.writer.acks.try_recv() {
                    Ok(answer) => Some(answer),
                    Err(std::sync::mpsc::TryRecvError::Empty) => return Ok(()),
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => None,
                }
            };
            self.writer.unanswered -= 1;
            match answer {
                Some(Ok(rows)) => self.spare = Some(rows),
                Some(Err(e)) => {
                    self.writer.unanswered = 0;
                    return Err(StoreError::Corrupt(e));
                }
                None => {
                    self.writer.unanswered = 0;
                    return Err(StoreError::Corrupt("the state writer stopped".into()));
                }
            }
        }
        Ok(())
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Lets the writer finish what it was handed, then stops it.
        self.writer.batches = None;
        if let Some(thread) = self.writer.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Store for SqliteStore {
    fn kept(&mut self, url: &str) -> Option<Kept> {
        // A run never looks up what it kept itself: only earlier runs' completions are found.
        if self.error.is_some() || self.fresh {
            return None;
        }
        let found: Result<Option<Vec<u8>>, rusqlite::Error> = self
            .conn
            .prepare_cached("SELECT data FROM kept WHERE url = ?1")
            .and_then(|mut q| q.query_row([url], |r| r.get(0)).optional());
        match found {
            Ok(None) => None,
            Ok(Some(row)) => match writer::unpack(&row).and_then(|b| Kept::decode(url, &b)) {
                Ok(kept) => Some(kept),
                Err(e) => {
                    self.error = Some(format!("state database: the completion of {url}: {e}"));
                    None
                }
            },
            Err(e) => {
                self.error = Some(format!("state database: the completion of {url}: {e}"));
                None
            }
        }
    }

    fn keep(&mut self, kept: Kept) {
        self.pending.push(&kept.record.url, |out| kept.encode(out));
    }

    fn keep_ref(&mut self, kept: KeptRef<'_>) {
        self.pending.push(kept.url(), |out| kept.encode(out));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crawler::{FetchError, FetchErrorKind, FetchKind, Record};
    use rusqlite::params;

    fn kept(url: &str) -> Kept {
        let record = Record::failure(url, 2, 0, "reset");
        Kept::failed(
            record,
            FetchKind::Page,
            FetchError::new(FetchErrorKind::Reset, "x"),
        )
    }

    #[test]
    fn only_committed_completions_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        store.keep(kept("http://h/a"));
        store.keep(kept("http://h/b"));
        assert_eq!(store.pending.len(), 2);
        let offsets = Offsets {
            jsonl: 10,
            warc: 20,
        };
        store.commit(offsets, Vec::new()).unwrap();
        store.keep(kept("http://h/c")); // never committed: lost with the process
        drop(store);
        let mut store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(store.meta().kept, 2);
        assert_eq!(store.meta().offsets, offsets);
        assert!(!store.meta().finished);
        assert_eq!(store.kept("http://h/a"), Some(kept("http://h/a")));
        assert_eq!(store.kept("http://h/c"), None);
        store.set_finished();
        store.commit(offsets, Vec::new()).unwrap();
        store.wait().unwrap();
        drop(store);
        assert!(SqliteStore::open(dir.path()).unwrap().meta().finished);
    }

    #[test]
    fn one_crawl_per_state_folder() {
        let dir = tempfile::tempdir().unwrap();
        let first = SqliteStore::open(dir.path()).unwrap();
        let second = SqliteStore::open(dir.path());
        assert!(matches!(second, Err(StoreError::Busy(_))), "{second:?}");
        drop(first);
        assert!(SqliteStore::open(dir.path()).is_ok());
    }

    #[test]
    fn a_batch_or_a_second_makes_a_commit_due() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        assert!(!store.due(), "nothing waits");
        for i in 0..BATCH {
            store.keep(kept(&format!("http://h/{i}")));
        }
        assert!(store.due());
        store.commit(Offsets::default(), Vec::new()).unwrap();
        assert!(!store.due());
        // One waiting completion: due once a commit interval has passed.
        store.keep(kept("http://h/x"));
        assert!(!store.due());
        store.last_commit -= INTERVAL;
        assert!(store.due());
    }

    #[test]
    fn many_bytes_make_a_commit_due_before_many_completions() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let big = Kept::failed(
            Record::failure("http://h/big", 1, 0, "reset"),
            FetchKind::Page,
            FetchError::new(FetchErrorKind::Reset, "x".repeat(BATCH_BYTES / 2)),
        );
        store.keep(big.clone());
        assert!(!store.due());
        store.keep(big);
        assert!(store.due());
    }

    #[test]
    fn big_rows_are_compressed_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let big = Kept::failed(
            Record::failure("http://h/big", 1, 0, "reset"),
            FetchKind::Page,
            FetchError::new(FetchErrorKind::Reset, "abc".repeat(writer::COMPRESS_FROM)),
        );
        store.keep(big.clone());
        store.keep(kept("http://h/small"));
        store.commit(Offsets::default(), Vec::new()).unwrap();
        store.wait().unwrap();
        let kinds: Vec<(String, u8, usize)> = store
            .conn
            .prepare("SELECT url, data FROM kept ORDER BY url")
            .unwrap()
            .query_map([], |r| {
                let data: Vec<u8> = r.get(1)?;
                Ok((r.get(0)?, data[0], data.len()))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(kinds[0].1, writer::LZ4, "{kinds:?}");
        assert!(kinds[0].2 < writer::COMPRESS_FROM, "{kinds:?}");
        assert_eq!(kinds[1].1, writer::RAW, "{kinds:?}");
        drop(store);
        let mut store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(store.kept("http://h/big"), Some(big));
        assert_eq!(store.kept("http://h/small"), Some(kept("http://h/small")));
    }

    #[test]
    fn a_state_of_another_format_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        // What format 1 left: facts, LZ4-compressed JSON rows, and no `format`.
        let conn = Connection::open(dir.path().join(FILE)).unwrap();
        conn.execute_batch(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE kept (url TEXT PRIMARY KEY, data BLOB NOT NULL);
             INSERT INTO meta VALUES ('finished', '0');
             INSERT INTO kept VALUES ('http://h/x', X'0400000061626364');",
        )
        .unwrap();
        drop(conn);
        let e = SqliteStore::open(dir.path()).unwrap_err();
        assert!(matches!(e, StoreError::Format(_, None)), "{e:?}");
        let message = e.to_string();
        assert!(
            message.contains("another version of crawl (format 1"),
            "{message}"
        );
        assert!(message.contains("start a new state folder"), "{message}");
        // A later format is refused too.
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        store.commit(Offsets::default(), Vec::new()).unwrap();
        store.wait().unwrap();
        store
            .conn
            .execute("UPDATE meta SET value = '9' WHERE key = 'format'", [])
            .unwrap();
        drop(store);
        let e = SqliteStore::open(dir.path()).unwrap_err();
        assert!(
            e.to_string().contains("(format 9, this one reads 2)"),
            "{e}"
        );
    }

    #[test]
    fn a_garbled_completion_is_an_error_not_a_refetch() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        store.commit(Offsets::default(), Vec::new()).unwrap();
        store.wait().unwrap();
        let mut cut = vec![writer::RAW];
        kept("http://h/y").encode(&mut cut);
        cut.pop();
        let insert = "INSERT INTO kept VALUES (?1, ?2)";
        let garbled: [(&str, &[u8]); 5] = [
            ("http://h/x", b"\x04abc"),
            ("http://h/y", &cut),
            ("http://h/z", b""),
            ("http://h/w", b"\x01\xff\xff\xff\xffabc"),
            ("http://h/v", b"\x01\x04\x00\x00\x00abc"),
        ];
        for (url, data) in garbled {
            store.conn.execute(insert, params![url, data]).unwrap();
        }
        drop(store);
        for (url, _) in garbled {
            let mut store = SqliteStore::open(dir.path()).unwrap();
            assert_eq!(store.kept(url), None);
            let error = store.error().unwrap();
            assert!(error.contains(url), "{error}");
        }
    }
}
