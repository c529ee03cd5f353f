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
//! ([`SqliteStore::commit`]) when it is [due](SqliteStore::due) (every [`BATCH`] completions or
//! every [`INTERVAL`], whichever comes first) and at the end, *after* writing and syncing the
//! output lines of those completions, passing the outputs' lengths, which the same transaction
//! stores. SQLite runs in WAL mode with `synchronous=FULL`: a commit is on disk when it returns.
//! So a crash loses at most the completions since the last commit; on resume, the outputs are
//! cut back to the lengths of the last commit, and the lost URLs are fetched and written again:
//! every URL is in the outputs exactly once.
//!
//! **Disk use.** One row per URL: the URL, and the completion as JSON (the record, status, the
//! three header fields the engine reads, a page's links, a robots.txt's or sitemap's body).
//!
//! ```
//! use crawler_store::{Meta, SqliteStore};
//! let dir = tempfile::tempdir().unwrap();
//! let mut store = SqliteStore::open(dir.path()).unwrap();
//! assert_eq!(store.meta(), &Meta::default());
//! store.set_options(vec!["--max-depth=2".into()]);
//! store.commit(Default::default()).unwrap();
//! drop(store);
//! let store = SqliteStore::open(dir.path()).unwrap();
//! assert_eq!(store.meta().options.as_deref(), Some(&["--max-depth=2".to_string()][..]));
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crawler::{Kept, Store};
use rusqlite::{Connection, OptionalExtension, params};

/// Completions per commit at most.
pub const BATCH: usize = 10_000;

/// Time between commits at most (while completions come in).
pub const INTERVAL: Duration = Duration::from_secs(1);

/// The file in the state folder.
pub const FILE: &str = "state.sqlite";

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
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Dir(dir, e) => write!(f, "state folder {}: {e}", dir.display()),
            StoreError::Sqlite(e) => write!(f, "state database: {e}"),
            StoreError::Corrupt(e) => write!(f, "state database: {e}"),
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
    conn: Connection,
    meta: Meta,
    /// Completions kept since the last commit: (URL, JSON).
    pending: Vec<(String, String)>,
    last_commit: Instant,
    /// The first error met by [`Store::kept`] or [`Store::keep`], which cannot return one.
    error: Option<String>,
    /// No completion was kept when the state was opened: a fresh crawl looks nothing up.
    fresh: bool,
}

impl SqliteStore {
    /// Opens the state in `dir`, making the folder and the database when they do not exist.
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Dir(dir.to_path_buf(), e))?;
        let conn = Connection::open(dir.join(FILE))?;
        // Rows of a few KB (a page's links) fit in 16 KiB pages without overflow chains; it
        // applies when the database is made, before WAL mode is set.
        conn.pragma_update(None, "page_size", 16384)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS kept (url TEXT PRIMARY KEY, data TEXT NOT NULL);",
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
            kept: conn.query_row("SELECT count(*) FROM kept", [], |r| r.get::<_, i64>(0))? as u64,
        };
        Ok(SqliteStore {
            conn,
            fresh: meta.kept == 0,
            meta,
            pending: Vec::new(),
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

    /// `true` when a commit is due: [`BATCH`] completions wait, or [`INTERVAL`] has passed
    /// with at least one waiting.
    pub fn due(&self) -> bool {
        self.pending.len() >= BATCH
            || (!self.pending.is_empty() && self.last_commit.elapsed() >= INTERVAL)
    }

    /// Completions waiting for a commit.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The first error met while looking up or keeping a completion, if any: the crawl must
    /// stop, since going on could fetch and record a URL twice.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Writes the waiting completions and the facts in one transaction, with `offsets` as the
    /// outputs' lengths (which must hold every waiting completion's output already), and syncs.
    pub fn commit(&mut self, offsets: Offsets) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached("INSERT OR REPLACE INTO kept VALUES (?1, ?2)")?;
            for (url, data) in &self.pending {
                insert.execute(params![url, data])?;
            }
            let mut set = tx.prepare_cached("INSERT OR REPLACE INTO meta VALUES (?1, ?2)")?;
            if let Some(options) = &self.meta.options {
                let json = serde_json::to_string(options).expect("strings serialise");
                set.execute(params!["options", json])?;
            }
            let finished = if self.meta.finished { "1" } else { "0" };
            set.execute(params!["finished", finished])?;
            set.execute(params!["jsonl_len", offsets.jsonl.to_string()])?;
            set.execute(params!["warc_len", offsets.warc.to_string()])?;
        }
        tx.commit()?;
        self.meta.kept += self.pending.len() as u64;
        self.meta.offsets = offsets;
        self.pending.clear();
        self.last_commit = Instant::now();
        Ok(())
    }

    /// Bytes the state takes on disk now (the database and its write-ahead log).
    pub fn disk_bytes(dir: &Path) -> u64 {
        ["", "-wal", "-shm"]
            .iter()
            .filter_map(|suffix| std::fs::metadata(dir.join(format!("{FILE}{suffix}"))).ok())
            .map(|m| m.len())
            .sum()
    }
}

impl Store for SqliteStore {
    fn kept(&mut self, url: &str) -> Option<Kept> {
        // A run never looks up what it kept itself: only earlier runs' completions are found.
        if self.error.is_some() || self.fresh {
            return None;
        }
        let found: Result<Option<String>, rusqlite::Error> = self
            .conn
            .prepare_cached("SELECT data FROM kept WHERE url = ?1")
            .and_then(|mut q| q.query_row([url], |r| r.get(0)).optional());
        match found {
            Ok(None) => None,
            Ok(Some(json)) => match serde_json::from_str(&json) {
                Ok(kept) => Some(kept),
                Err(e) => {
                    self.error = Some(format!("state database: the completion of {url}: {e}"));
                    None
                }
            },
            Err(e) => {
                self.error = Some(format!("state database: {e}"));
                None
            }
        }
    }

    fn keep(&mut self, kept: Kept) {
        match serde_json::to_string(&kept) {
            Ok(json) => self.pending.push((kept.record.url.clone(), json)),
            Err(e) => {
                self.error.get_or_insert(format!("state database: {e}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crawler::{FetchError, FetchErrorKind, FetchKind, Record};

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
        assert_eq!(store.pending(), 2);
        let offsets = Offsets {
            jsonl: 10,
            warc: 20,
        };
        store.commit(offsets).unwrap();
        store.keep(kept("http://h/c")); // never committed: lost with the process
        drop(store);
        let mut store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(store.meta().kept, 2);
        assert_eq!(store.meta().offsets, offsets);
        assert!(!store.meta().finished);
        assert_eq!(store.kept("http://h/a"), Some(kept("http://h/a")));
        assert_eq!(store.kept("http://h/c"), None);
        store.set_finished();
        store.commit(offsets).unwrap();
        assert!(SqliteStore::open(dir.path()).unwrap().meta().finished);
        assert!(SqliteStore::disk_bytes(dir.path()) > 0);
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
        store.commit(Offsets::default()).unwrap();
        assert!(!store.due());
    }

    #[test]
    fn a_garbled_completion_is_an_error_not_a_refetch() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        store
            .conn
            .execute("INSERT INTO kept VALUES ('http://h/x', 'not json')", [])
            .unwrap();
        drop(store);
        let mut store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(store.kept("http://h/x"), None);
        assert!(
            store.error().unwrap().contains("http://h/x"),
            "{:?}",
            store.error()
        );
    }
}
