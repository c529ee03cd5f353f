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

use crate::{BATCH, BATCH_BYTES, StoreError};

/// Rows from this many bytes on (a page with about a hundred links or more) are LZ4-compressed
/// by the writer, which halves them; smaller ones are kept as they are: compressing them cost
/// the writer more than the smaller writes saved, for a quarter of their bytes.
pub(crate) const COMPRESS_FROM: usize = 4096;

/// A row's first byte: the completion's bytes ([`crawler::Kept::encode`]) follow as they are.
pub(crate) const RAW: u8 = 0;

/// A row's first byte: the completion's length (4 bytes, little-endian) and its bytes
/// LZ4-compressed (a block) follow.
pub(crate) const LZ4: u8 = 1;

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
            ends: Vec::with_capacity(BATCH),
        }
    }

    /// Adds the completion of `url` that `encode` appends, as a [`RAW`] row.
    pub(crate) fn push(&mut self, url: &str, encode: impl FnOnce(&mut Vec<u8>)) {
        self.urls.push_str(url);
        self.data.push(RAW);
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

/// `bytes` as an [`LZ4`] row, in `out`.
fn compress<'a>(bytes: &[u8], out: &'a mut Vec<u8>) -> &'a [u8] {
    out.clear();
    out.push(LZ4);
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    let at = out.len();
    out.resize(
        at + lz4_flex::block::get_maximum_output_size(bytes.len()),
        0,
    );
    let len = lz4_flex::block::compress_into(bytes, &mut out[at..]).expect("room for the worst");
    &out[..at + len]
}

/// The completion's bytes in a row (see [`RAW`] and [`LZ4`]); a row that does not read is an
/// error.
pub(crate) fn unpack(row: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, String> {
    match row.split_first() {
        Some((&RAW, bytes)) => Ok(bytes.into()),
        Some((&LZ4, rest)) if rest.len() >= 4 => {
            let (len, block) = rest.split_at(4);
            let len = u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
            // LZ4 expands 255 times at most: a larger length is damage, not a reason to
            // allocate gigabytes.
            if len > block.len().saturating_mul(255) {
                return Err(format!(
                    "a compressed row of {} bytes says {len}",
                    block.len()
                ));
            }
            match lz4_flex::block::decompress(block, len) {
                Ok(bytes) if bytes.len() == len => Ok(bytes.into()),
                Ok(_) => Err("a compressed row is not the length it says".into()),
                Err(e) => Err(e.to_string()),
            }
        }
        _ => Err("a row of an unknown kind".into()),
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
        let mut packed = Vec::new();
        for (url, row) in batch.rows.iter() {
            let row = if row.len() >= COMPRESS_FROM {
                compress(&row[1..], &mut packed)
            } else {
                row
            };
            insert.execute(params![url, row]).map_err(db)?;
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
