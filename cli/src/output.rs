//! The crawl's outputs: JSON lines as records arrive ([`Output`]), the report at the end, and
//! the checks on output paths made before anything is written ([`check_outputs`]).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crawler::report::{self, Record, Summary};

use crate::{CrawlArgs, ReportFormat};

/// Checks the output files before any is opened, and so truncated: no two of them may be the
/// same file, and each must be writable. `outputs` are (flag, path) pairs, `None` for a flag not
/// given. Without this, a bad `--record` path would end the run only after `--jsonl` had emptied
/// an old file, and two flags naming one file would write both formats into it.
pub fn check_outputs(outputs: &[(&str, Option<&Path>)]) -> Result<(), String> {
    let outputs: Vec<(&str, &Path)> = outputs
        .iter()
        .filter_map(|&(flag, path)| Some((flag, path?)))
        .collect();
    // Only the JSON lines may go to stdout; another output named `-` would be a file of that
    // name, which is surely not what was meant.
    for &(flag, path) in &outputs {
        if is_stdout(path) && flag != "--jsonl" {
            return Err(format!("{flag} - : only --jsonl can write to stdout"));
        }
    }
    let outputs: Vec<(&str, &Path)> = outputs
        .into_iter()
        .filter(|(_, path)| !is_stdout(path))
        .collect();
    // Devices and pipes (`/dev/null`, `/dev/stdout`, a FIFO) are left alone: nothing there is
    // truncated, they may be shared, and opening a FIFO would wait for its reader.
    let keys: Vec<Option<FileKey>> = outputs
        .iter()
        .map(|(_, path)| (!special(path)).then(|| file_key(path)))
        .collect();
    for (i, (flag, path)) in outputs.iter().enumerate() {
        let same = |k: &Option<FileKey>| k.is_some() && *k == keys[i];
        if let Some(j) = keys[..i].iter().position(same) {
            return Err(format!(
                "{} and {flag} both name {}: give each output its own file",
                outputs[j].0,
                path.display()
            ));
        }
    }
    for (_, path) in outputs.iter().filter(|(_, path)| !special(path)) {
        // `symlink_metadata`: a dangling link exists (what it points to is created, and kept).
        let existed = path.symlink_metadata().is_ok();
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        if !existed {
            // Created by the check only; the output itself creates it again.
            let _ = std::fs::remove_file(path);
        }
    }
    Ok(())
}

/// `true` for the path `-`: standard output.
fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// `true` for an existing device, pipe or other non-file (`/dev/null`, a FIFO).
fn special(path: &Path) -> bool {
    path.metadata().is_ok_and(|m| !m.is_file())
}

/// `true` when `path` names a regular file, or none yet: an output that can be read back, cut
/// back and synced (what a resumed crawl does to it); not `-` (stdout), a device or a pipe.
pub fn is_plain_file(path: &Path) -> bool {
    !is_stdout(path) && !special(path)
}

/// What identifies a file, whether or not it exists yet.
#[derive(Debug, PartialEq, Eq)]
enum FileKey {
    /// An existing file on Unix: its device and inode, so that hard links are one file.
    Inode(u64, u64),
    /// Elsewhere, its canonical path; for a file still to be created, its directory's and its
    /// name.
    Path(PathBuf),
}

fn file_key(path: &Path) -> FileKey {
    #[cfg(unix)]
    if let Ok(meta) = path.metadata() {
        use std::os::unix::fs::MetadataExt;
        return FileKey::Inode(meta.dev(), meta.ino());
    }
    if let Ok(real) = path.canonicalize() {
        return FileKey::Path(real);
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match (dir.canonicalize(), path.file_name()) {
        (Ok(dir), Some(name)) => FileKey::Path(dir.join(name)),
        _ => FileKey::Path(path.to_path_buf()),
    }
}

/// The line `-v` shows on stderr for a record: its status (or failure) and URL.
pub fn verbose_line(record: &Record) -> String {
    match (&record.status, &record.error) {
        (None, Some(e)) => format!("{} failed after {} tries: {e}", record.url, record.tries),
        (Some(s), _) => format!("{s} {}", record.url),
        (None, None) => format!("? {}", record.url),
    }
}

/// Opens the output file at `path` (made if missing) cut back to `len` bytes, for appending: what
/// a resumed crawl kept of it (what lies past `len` belongs to URLs it fetches again). A file
/// shorter than `len` is an error: it is not the one the crawl wrote.
pub fn cut_back(path: &Path, len: u64) -> Result<File, String> {
    let cannot = |e: io::Error| format!("cannot write {}: {e}", path.display());
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(cannot)?;
    let had = file.metadata().map_err(cannot)?.len();
    if had < len {
        return Err(format!(
            "{} has {had} bytes, but the crawl state says it had {len}: not the file this crawl \
             wrote",
            path.display()
        ));
    }
    file.set_len(len).map_err(cannot)?;
    io::Seek::seek(&mut file, io::SeekFrom::End(0)).map_err(cannot)?;
    Ok(file)
}

/// Writes a crawl's outputs: JSON lines as records arrive, the report at the end.
///
/// A failed write does not panic: the first error is kept, further records are not written,
/// and [`Output::error`] reports it so the caller can stop the crawl and exit non-zero. JSON
/// lines on stdout whose reader goes away (`crawl --jsonl - URL | head`) are not an error:
/// [`Output::closed`] says so, and the caller stops the crawl.
pub struct Output {
    jsonl: Option<(PathBuf, BufWriter<Box<dyn Write>>)>,
    /// The JSONL file itself, to sync it (none for stdout).
    file: Option<File>,
    /// The JSON lines go to stdout, whose reader has gone away.
    closed: bool,
    /// Records kept for the sorted text report (only when it will print them).
    records: Option<Vec<Record>>,
    format: ReportFormat,
    error: Option<String>,
}

impl Output {
    /// Opens the JSONL file (created or truncated) before the crawl starts, so an unwritable path
    /// is an error up front, not after an hour of crawling.
    pub fn open(args: &CrawlArgs) -> Result<Output, String> {
        Output::open_at(args, None)
    }

    /// [`Output::open`], or, with `resume`, the JSONL file cut back to `resume` bytes (what a
    /// resumed crawl kept of it: lines past that are of URLs it will fetch again) and appended
    /// to. A file shorter than that is an error: it is not the one the crawl wrote.
    pub fn open_at(args: &CrawlArgs, resume: Option<u64>) -> Result<Output, String> {
        let mut sync = None;
        let jsonl = match &args.jsonl {
            Some(path) if is_stdout(path) => {
                let out: Box<dyn Write> = Box::new(io::stdout());
                Some((path.clone(), BufWriter::with_capacity(64 * 1024, out)))
            }
            Some(path) => {
                let cannot = |e: io::Error| format!("cannot write {}: {e}", path.display());
                let file = match resume {
                    None => File::create(path).map_err(cannot)?,
                    Some(len) => cut_back(path, len)?,
                };
                sync = Some(file.try_clone().map_err(cannot)?);
                let out: Box<dyn Write> = Box::new(file);
                Some((path.clone(), BufWriter::with_capacity(64 * 1024, out)))
            }
            None => None,
        };
        let keep = args.report == ReportFormat::Text && !args.quiet;
        Ok(Output {
            jsonl,
            file: sync,
            closed: false,
            records: keep.then(Vec::new),
            format: args.report,
            error: None,
        })
    }

    /// Takes one record: appends it to the JSONL file, whole, and keeps it for the report.
    /// The line is written out at once (one write per record): a crawl that is killed, or
    /// stopped by a second Ctrl-C, leaves every record it reported, none of them cut.
    pub fn record(&mut self, record: &Record) {
        if let (Some((path, w)), None, false) = (&mut self.jsonl, &self.error, self.closed) {
            match report::write_jsonl(w, record).and_then(|()| w.flush()) {
                Err(e) if is_stdout(path) && e.kind() == io::ErrorKind::BrokenPipe => {
                    self.closed = true;
                }
                Err(e) => self.error = Some(format!("cannot write {}: {e}", path.display())),
                Ok(()) => {}
            }
        }
        if let Some(records) = &mut self.records {
            records.push(record.clone());
        }
    }

    /// Takes a record an earlier run wrote out already (a resumed crawl replays it): it goes
    /// to the report only.
    pub fn replayed(&mut self, record: &Record) {
        if let Some(records) = &mut self.records {
            records.push(record.clone());
        }
    }

    /// Writes out the JSON lines taken so far and returns the JSONL file's length and a handle
    /// to sync it with (none without a JSONL file): a crawl state syncs the file, then keeps the
    /// length, to cut the file back to it on resume.
    pub fn flushed(&mut self) -> Result<(u64, Option<File>), String> {
        let Some(file) = &self.file else {
            return Ok((0, None));
        };
        let path = self.jsonl_path().map(|p| p.display().to_string());
        let path = path.unwrap_or_default();
        let cannot = |e: io::Error| format!("cannot write {path}: {e}");
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if let Some((_, w)) = &mut self.jsonl {
            w.flush().map_err(&cannot)?;
        }
        let len = file.metadata().map_err(&cannot)?.len();
        Ok((len, Some(file.try_clone().map_err(cannot)?)))
    }

    /// The first write error, if any.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// `true` when the JSON lines go to stdout and its reader has gone away: nobody reads the
    /// crawl any more, so the caller stops it (and exits as if it had finished).
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// Flushes the JSON lines and prints the report on the console: on stdout, or on stderr
    /// when the JSON lines are on stdout (`--jsonl -`). Returns the first error; a closed
    /// console is not one.
    pub fn finish_on_console(self, summary: &Summary) -> Result<(), String> {
        let mut out: Box<dyn Write> = match self.lines_on_stdout() {
            true => Box::new(io::stderr().lock()),
            false => Box::new(io::stdout().lock()),
        };
        self.finish(summary, &mut out)?;
        match out.flush() {
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                Err(format!("cannot write the report: {e}"))
            }
            _ => Ok(()),
        }
    }

    /// `true` when the JSON lines go to stdout (`--jsonl -`): the report goes elsewhere.
    fn lines_on_stdout(&self) -> bool {
        self.jsonl.as_ref().is_some_and(|(path, _)| is_stdout(path))
    }

    /// Flushes the JSONL file and prints the report on `out`. Returns the first error.
    pub fn finish(mut self, summary: &Summary, out: &mut impl Write) -> Result<(), String> {
        if let (Some((path, w)), None, false) = (&mut self.jsonl, &self.error, self.closed) {
            match w.flush() {
                Err(e) if is_stdout(path) && e.kind() == io::ErrorKind::BrokenPipe => {}
                Err(e) => self.error = Some(format!("cannot write {}: {e}", path.display())),
                Ok(()) => {}
            }
        }
        let printed = match self.format {
            ReportFormat::Text => {
                let records = self.records.as_deref().unwrap_or(&[]);
                report::write_text(out, records, summary)
            }
            ReportFormat::Json => serde_json::to_writer_pretty(&mut *out, summary)
                .map_err(io::Error::from)
                .and_then(|()| writeln!(out)),
            ReportFormat::None => Ok(()),
        };
        match (self.error, printed) {
            (Some(e), _) => Err(e),
            // A closed stdout (`crawl ... | head`) is not an error worth a non-zero exit.
            (None, Err(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            (None, Err(e)) => Err(format!("cannot write the report: {e}")),
            (None, Ok(())) => Ok(()),
        }
    }

    /// The JSONL path, if one was asked for (`-` for stdout).
    pub fn jsonl_path(&self) -> Option<&Path> {
        self.jsonl.as_ref().map(|(p, _)| p.as_path())
    }
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("jsonl", &self.jsonl_path())
            .field("closed", &self.closed)
            .field("format", &self.format)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `-` is stdout for the JSON lines only; for another output it is refused, not made a
    /// file named `-`.
    #[test]
    fn only_the_jsonl_may_be_stdout() {
        let dash = Path::new("-");
        assert_eq!(check_outputs(&[("--jsonl", Some(dash))]), Ok(()));
        let e = check_outputs(&[("--jsonl", Some(dash)), ("--record", Some(dash))]).unwrap_err();
        assert_eq!(e, "--record - : only --jsonl can write to stdout");
        assert!(!dash.exists());
    }
}
