//! Crawls a site and saves the body of every HTML page under a directory, one file per page.
//!
//! ```text
//! cargo run --release --example save_pages -- http://127.0.0.1:8080/ pages
//! ```
//!
//! It shows what the engine hands an embedder for each fetched URL (a [`crawler::Event`]): the
//! record, the response's head and its body, shared with the crawl rather than copied. The file
//! of `http://host:port/a/b?q` is `DIR/host_port/a/b?q.html` (`.html` is not added twice), and a
//! path ending in `/` gets `index.html`, and a folder named like a page's file gets `.d`
//! (`/a.html/b` is `a.html.d/b.html`), so a page and the pages below it never want the same
//! name; two pages that would share a file (`/a` and `/a.html`) get `a.html` and `a~2.html`.

use std::collections::BTreeSet;
use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crawler::links::is_html;
use crawler::{Config, Crawler, FetchKind};
use crawler_http::{HttpOptions, RealClock, SurfTransport};
use url::Url;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [root, dir] = args.as_slice() else {
        eprintln!("usage: save_pages URL DIR");
        return ExitCode::from(2);
    };
    match save_pages(root, Path::new(dir)) {
        Ok(saved) => {
            println!("saved {} pages under {dir}", saved.len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("save_pages: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Crawls from `root` and writes every HTML page (status 200) under `dir`; returns the files
/// written.
pub fn save_pages(root: &str, dir: &Path) -> Result<BTreeSet<PathBuf>, Box<dyn Error>> {
    let config = Config::builder().root(root).build()?;
    let transport = SurfTransport::new(HttpOptions::default())?;
    let crawler = Crawler::new(config, transport, RealClock::new());
    let mut saved = BTreeSet::new();
    let mut failed = None;
    async_std::task::block_on(crawler.run(|event| {
        let html = event.record.content_type.as_deref().is_some_and(is_html);
        let page = event.fetch == FetchKind::Page && event.status() == Some(200) && html;
        let (true, Some(body), None) = (page, event.body(), &failed) else {
            return;
        };
        let path = unique(dir.join(file_of(&event.record.url)), &saved);
        let written = path
            .parent()
            .map_or(Ok(()), fs::create_dir_all)
            .and_then(|()| fs::write(&path, body));
        match written {
            Ok(()) => {
                saved.insert(path);
            }
            Err(e) => failed = Some(format!("{}: {e}", path.display())),
        }
    }));
    match failed {
        Some(why) => Err(why.into()),
        None => Ok(saved),
    }
}

/// Where the page at `url` (a normalised `http(s)` URL) is saved, relative to the directory.
fn file_of(url: &str) -> PathBuf {
    let url = Url::parse(url).expect("the crawl hands out parsed URLs");
    let mut path = PathBuf::from(match url.port() {
        Some(port) => format!("{}_{port}", url.host_str().unwrap_or("_")),
        None => url.host_str().unwrap_or("_").to_string(),
    });
    // Segments are percent-encoded, so none holds a `/`; `.` and `..` were resolved away by
    // normalisation, and an empty one (`a//b`) is given a name.
    let segments: Vec<&str> = url.path().split('/').skip(1).collect();
    let (last, dirs) = segments.split_last().unwrap_or((&"", &[]));
    for segment in dirs {
        // A folder never takes a name a page's file could have: `/a.html` and `/a.html/b` are
        // `a.html` and `a.html.d/b.html`.
        match *segment {
            "" => path.push("_"),
            s if s.ends_with(".html") || s.ends_with(".htm") => path.push(format!("{s}.d")),
            s => path.push(s),
        }
    }
    let mut name = if last.is_empty() {
        "index".to_string()
    } else {
        last.to_string()
    };
    if let Some(query) = url.query() {
        name.push('?');
        name.push_str(&query.replace('/', "%2F"));
    }
    if url.query().is_some() || !(name.ends_with(".html") || name.ends_with(".htm")) {
        name.push_str(".html");
    }
    path.push(name);
    path
}

/// `path`, or `path` with `~2`, `~3`, ... before its extension when a page saved before took it.
fn unique(path: PathBuf, saved: &BTreeSet<PathBuf>) -> PathBuf {
    let stem = path
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let extension = path
        .extension()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    (1..)
        .map(|n| match n {
            1 => path.clone(),
            n => path.with_file_name(format!("{stem}~{n}.{extension}")),
        })
        .find(|candidate| !saved.contains(candidate))
        .expect("a free name")
}
