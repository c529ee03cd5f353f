//! Python's `warcio`, an independent reader of WARC files, for the tests of `crawl --record`:
//! `warcio check` for the digests and the format, then every record read back.
//!
//! The tests provide warcio themselves: unless `WARCIO_PYTHON` names a Python that has it, the
//! first test to need it makes a venv at `target/warcio-venv` with `python3 -m venv` and installs
//! warcio there from PyPI (once; later runs reuse it). Without `python3`, or without PyPI, these
//! tests fail, saying so: they never skip.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde::Deserialize;

/// A Python interpreter that can `import warcio`: `WARCIO_PYTHON`, else the venv these tests
/// make (see the module docs), made once per test run; or a loud failure.
pub fn warcio_python() -> PathBuf {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PYTHON
        .get_or_init(find_or_make_warcio)
        .clone()
        .unwrap_or_else(|why| panic!("{why}"))
}

fn has_warcio(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import warcio"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn find_or_make_warcio() -> Result<PathBuf, String> {
    if let Some(python) = std::env::var_os("WARCIO_PYTHON").map(PathBuf::from) {
        return match has_warcio(&python) {
            true => Ok(python),
            false => Err(format!(
                "WARCIO_PYTHON={} cannot import warcio",
                python.display()
            )),
        };
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/warcio-venv");
    let python = venv.join("bin/python");
    if has_warcio(&python) {
        return Ok(python);
    }
    let run = |program: &Path, args: &[&str]| -> Result<(), String> {
        let out = Command::new(program)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
        match out.status.success() {
            true => Ok(()),
            false => Err(format!(
                "{} {args:?} failed: {}",
                program.display(),
                String::from_utf8_lossy(&out.stderr)
            )),
        }
    };
    let _ = std::fs::remove_dir_all(&venv);
    let venv_arg = venv.to_str().ok_or("the target directory is not UTF-8")?;
    run(Path::new("python3"), &["-m", "venv", venv_arg])?;
    run(&python, &["-m", "pip", "install", "-q", "warcio"])?;
    match has_warcio(&python) {
        true => Ok(python),
        false => Err(format!("{} still cannot import warcio", python.display())),
    }
}

/// One record as warcio reads it.
#[derive(Debug, Deserialize)]
pub struct Rec {
    #[serde(rename = "type")]
    pub kind: String,
    pub uri: Option<String>,
    pub status: Option<u16>,
    /// HTTP header fields (response or request), names lowercased.
    pub http: BTreeMap<String, String>,
    /// The payload as stored (still content-encoded), hex.
    pub raw: String,
    /// The payload decoded by warcio (gzip undone), as text.
    pub decoded: String,
    /// The `crawler-fetch-error` field of a metadata record.
    pub error: Option<String>,
    pub truncated: Option<String>,
}

/// Reads every record twice with warcio: once for the payload as stored, once for the payload
/// as warcio decodes it (gzip undone), and prints them as JSON.
const READ: &str = r#"
import json, sys
from warcio.archiveiterator import ArchiveIterator

def records(decode):
    with open(sys.argv[1], 'rb') as f:
        for r in ArchiveIterator(f):
            payload = r.content_stream().read() if decode else r.raw_stream.read()
            yield r, payload

out = []
for (r, raw), (_, decoded) in zip(records(False), records(True)):
    http, status, error = {}, None, None
    if r.http_headers is not None:
        http = {k.lower(): v for k, v in r.http_headers.headers}
        if r.rec_type == 'response':
            status = int(r.http_headers.get_statuscode())
    if r.rec_type == 'metadata':
        for line in raw.decode().splitlines():
            if line.startswith('crawler-fetch-error: '):
                error = line[len('crawler-fetch-error: '):]
    out.append({'type': r.rec_type, 'uri': r.rec_headers.get_header('WARC-Target-URI'),
                'status': status, 'http': http, 'raw': raw.hex(),
                'decoded': decoded.decode('utf-8', 'replace'), 'error': error,
                'truncated': r.rec_headers.get_header('WARC-Truncated')})
json.dump(out, sys.stdout)
"#;

/// Lists every record's type, target URI and HTTP status, and nothing of its payload: for
/// recordings too big to print whole.
const LIST: &str = r#"
import json, sys
from warcio.archiveiterator import ArchiveIterator

out = []
with open(sys.argv[1], 'rb') as f:
    for r in ArchiveIterator(f):
        status = None
        if r.rec_type == 'response' and r.http_headers is not None:
            status = int(r.http_headers.get_statuscode())
        out.append({'type': r.rec_type, 'uri': r.rec_headers.get_header('WARC-Target-URI'),
                    'status': status})
json.dump(out, sys.stdout)
"#;

/// One record as [`warcio_list`] gives it.
#[derive(Debug, Deserialize)]
pub struct Listed {
    /// The WARC record type (`response`, `request`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// `WARC-Target-URI`.
    pub uri: Option<String>,
    /// The HTTP status of a response record.
    pub status: Option<u16>,
}

/// `warcio check` on `path`: the format and every digest; panics with warcio's words if not.
pub fn warcio_check(path: &Path) {
    let check = Command::new(warcio_python())
        .args([
            "-c",
            "import sys; from warcio.cli import main; main(sys.argv[1:])",
        ])
        .args(["check", "-v"])
        .arg(path)
        .output()
        .expect("run warcio check");
    assert!(
        check.status.success(),
        "warcio check failed on {}:\n{}{}",
        path.display(),
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

/// Runs `script` on `path` with warcio and parses the JSON it prints.
fn warcio_json<T: serde::de::DeserializeOwned>(script: &str, path: &Path) -> T {
    let read = Command::new(warcio_python())
        .args(["-c", script])
        .arg(path)
        .output()
        .expect("run warcio");
    assert!(
        read.status.success(),
        "warcio could not read {}: {}",
        path.display(),
        String::from_utf8_lossy(&read.stderr)
    );
    serde_json::from_slice(&read.stdout).expect("warcio's json")
}

/// `warcio check` on `path`, then every record as warcio reads it.
pub fn warcio_read(path: &Path) -> Vec<Rec> {
    warcio_check(path);
    warcio_json(READ, path)
}

/// `warcio check` on `path`, then every record's type, URI and status.
pub fn warcio_list(path: &Path) -> Vec<Listed> {
    warcio_check(path);
    warcio_json(LIST, path)
}
