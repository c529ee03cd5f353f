//! The writer thread: it syncs the outputs and commits the completions, off the crawl's thread.
//!
//! Completions reach it already encoded ([`crawler::KeptRef::encode`]), back to back in one
//! buffer per commit ([`Rows`]); it hands the emptied buffer back with its answer, for a later
//! commit, so keeping a completion allocates nothing on either thread once the buffers have
//! grown, and no memory crosses threads to be freed.

use std::fs::File;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use rusqlite::{Connection, params};

use crate::{BATCH_BYTES, StoreError};

/// Completions waiting for a commit, encoded back to back.
#[derive(Debug)]
pub(crate) struct Rows {
    /// The URLs, back to back.
    urls: String,
    /// The encoded completions, back to back.
    data: Vec<u8>,
    /// Where each completion's URL and bytes end.
    ends: Vec<(usize, usize)>,
}

impl Rows {
    /// Room for a commit's worth, reserved (not touched: memory is only used as it fills).
    pub(crate) fn new() -> Rows {
        Rows {
            urls: String::with_capacity(BATCH_BYTES / 8),
            data: Vec::with_capacity(BATCH_BYTES + BATCH_BYTES / 4),
            ends: Vec::with_capacity(BATCH_BYTES / 256),
        }
    }

    /// Adds the completion of `url` that `encode` appends.
    pub(crate) fn push(&mut self, url: &str, encode: impl FnOnce(&mut Vec<u8>)) {
        self.urls.push_str(url);
        encode(&mut self.data);
        self.ends.push((self.urls.len(), self.data.len()));
    }

    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Bytes of encoded completions.
    pub(crate) fn bytes(&self) -> usize {
        self.data.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Each completion: its URL and its bytes.
    fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        let mut from = (0, 0);
        self.ends.iter().map(move |&(url, data)| {
            let row = (&self.urls[from.0..url], &self.data[from.1..data]);
            from = (url, data);
            row
        })
    }

    fn clear(&mut self) {
        self.urls.clear();
        self.data.clear();
        self.ends.clear();
    }
}

/// One commit, for the writer thread.
pub(crate) struct Batch {
    /// Output files to sync first.
    pub(crate) sync: Vec<File>,
    /// Completions.
    pub(crate) rows: Rows,
    /// Facts: (key, value).
    pub(crate) facts: Vec<(&'static str, String)>,
}

/// The writer's answer to a batch: its rows' buffer, emptied, or why it failed.
pub(crate) type Answer = Result<Rows, String>;

/// The thread that writes commits, and how to talk to it.
#[derive(Debug)]
pub(crate) struct Writer {
    /// Batches to write (room for one besides the one being written).
    pub(crate) batches: Option<SyncSender<Batch>>,
    /// One answer per batch written.
    pub(crate) acks: Receiver<Answer>,
    /// Batches handed over and not answered yet.
    pub(crate) unanswered: usize,
    pub(crate) thread: Option<JoinHandle<()>>,
}

impl Writer {
    pub(crate) fn start(path: PathBuf) -> Result<Writer, StoreError> {
        let conn = Connection::open(&path)?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        let (batches, todo) = sync_channel::<Batch>(1);
        let (answer, acks) = sync_channel(64);
        let thread = std::thread::Builder::new()
            .name("state-writer".into())
            .spawn(move || {
                let mut conn = conn;
                for batch in todo {
                    let result = write(&mut conn, batch);
                    let failed = result.is_err();
                    if answer.send(result).is_err() || failed {
                        return; // Nothing is written after a failure.
                    }
                }
            })
            .map_err(|e| StoreError::Dir(path, e))?;
        Ok(Writer {
            batches: Some(batches),
            acks,
            unanswered: 0,
            thread: Some(thread),
        })
    }
}

/// Syncs a batch's output files, then writes it in one transaction.
fn write(conn: &mut Connection, batch: Batch) -> Answer {
    for file in &batch.sync {
        file.sync_data()
            .map_err(|e| format!("cannot sync an output file: {e}"))?;
    }
    let db = |e: rusqlite::Error| format!("state database: {e}");
    let tx = conn.transaction().map_err(db)?;
    {
        let mut insert = tx
            .prepare_cached("INSERT OR REPLACE INTO kept VALUES (?1, ?2)")
            .map_err(db)?;
        for (url, data) in batch.rows.iter() {
            insert.execute(params![url, data]).map_err(db)?;
        }
        let mut set = tx
            .prepare_cached("INSERT OR REPLACE INTO meta VALUES (?1, ?2)")
            .map_err(db)?;
        for (key, value) in &batch.facts {
            set.execute(params![key, value]).map_err(db)?;
        }
    }
    tx.commit().map_err(db)?;
    let mut rows = batch.rows;
    rows.clear();
    Ok(rows)
}
