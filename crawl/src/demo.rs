//! `crawl demo`: a sample site, embedded in the binary, served over real HTTP on 127.0.0.1.
//!
//! The site is a [`crawler_site`] file (`fixtures/sites/demo.json`, made by `make_demo.py` beside
//! it): a few hundred pages with redirects (a chain, a loop, one to a 404), 404s, pages that fail
//! once, non-HTML assets, robots.txt with a sitemap, and links off the site. It is written for the
//! host `demo.test`; [`DemoServer::start`] binds a free port on 127.0.0.1 and loads the site with
//! that origin in its place, so absolute links and redirects point at the server.
//!
//! The server is small and blocking (a thread per connection): each request is looked up in the
//! site by its normalised URL, answered with the page, a generated page, or 404, with keep-alive.
//! A page's `script` is followed request by request (`"500"`, `"reset"`: the connection is closed
//! without an answer, `"drop"`: no answer until the server goes away). Latency and random faults
//! are the simulator's business; the demo serves as fast as it can.
//!
//! ```no_run
//! let server = crawl::demo::DemoServer::start().unwrap();
//! println!("serving {} pages at {}", server.site().pages().len(), server.origin());
//! ```

use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

use crawler::Response;
use crawler_site::{self as site, Scripted, Site};

/// The demo site file, as committed.
pub const SITE_JSON: &str = include_str!("../../fixtures/sites/demo.json");

/// The origin the site file is written for.
const PLACEHOLDER: &str = "http://demo.test";

/// The demo site served on 127.0.0.1 until dropped.
#[derive(Debug)]
pub struct DemoServer {
    addr: SocketAddr,
    shared: Arc<DemoShared>,
}

#[derive(Debug)]
struct DemoShared {
    site: Site,
    /// Requests so far, by page index (for scripts).
    counts: Mutex<Vec<u64>>,
    done: AtomicBool,
    /// Released when the server is dropped; requests scripted to "drop" wait on it.
    release: (Mutex<bool>, Condvar),
}

impl DemoServer {
    /// Binds a free port on 127.0.0.1 and serves the demo site there.
    pub fn start() -> io::Result<DemoServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let origin = format!("http://{addr}");
        let site = Site::from_json(&SITE_JSON.replace(PLACEHOLDER, &origin))
            .map_err(|e| io::Error::other(format!("demo site: {e}")))?;
        let shared = Arc::new(DemoShared {
            counts: Mutex::new(vec![0; site.pages().len()]),
            site,
            done: AtomicBool::new(false),
            release: (Mutex::new(false), Condvar::new()),
        });
        let accept = shared.clone();
        thread::Builder::new()
            .name("demo-server".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if accept.done.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let shared = accept.clone();
                    // A connection that cannot get a thread is simply closed.
                    let _ = thread::Builder::new()
                        .name("demo-conn".into())
                        .spawn(move || serve(stream, &shared));
                }
            })?;
        Ok(DemoServer { addr, shared })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The site's roots, on this server.
    pub fn roots(&self) -> Vec<String> {
        self.shared.site.roots().to_vec()
    }

    /// The site being served.
    pub fn site(&self) -> &Site {
        &self.shared.site
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        self.shared.done.store(true, Ordering::SeqCst);
        let (lock, cv) = &self.shared.release;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cv.notify_all();
        // Wake the accept loop so it sees `done`.
        let _ = TcpStream::connect(self.addr);
    }
}

/// What one request gets.
enum DemoAnswer {
    Response(Response),
    /// Close the connection without answering.
    Close,
    /// DemoAnswer nothing until the server goes away.
    Hang,
}

fn answer(shared: &DemoShared, url: &str) -> DemoAnswer {
    let site = &shared.site;
    let Some(index) = site.find(url) else {
        return DemoAnswer::Response(site.generate(url).unwrap_or_else(site::not_found));
    };
    let page = site.page(index);
    let n = {
        let mut counts = shared.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts[index] += 1;
        counts[index] - 1
    };
    match page.scripted(n) {
        None | Some(Scripted::Ok) => DemoAnswer::Response(page.response()),
        Some(Scripted::Status(status)) => DemoAnswer::Response(Response::new(status)),
        Some(Scripted::Drop) => DemoAnswer::Hang,
        // Refusing is for a connection, not a request: closing it says the same.
        Some(_) => DemoAnswer::Close,
    }
}

fn serve(stream: TcpStream, shared: &DemoShared) {
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut out = stream;
    let origin = match out.local_addr() {
        Ok(addr) => format!("http://{addr}"),
        Err(_) => return,
    };
    while let Some((target, close)) = read_request(&mut reader) {
        let url = format!("{origin}{target}");
        let keep = match answer(shared, &url) {
            DemoAnswer::Response(r) => write_response(&mut out, &r).is_ok() && !close,
            DemoAnswer::Close => false,
            DemoAnswer::Hang => {
                let (lock, cv) = &shared.release;
                let mut released = lock.lock().unwrap_or_else(|e| e.into_inner());
                while !*released {
                    released = cv.wait(released).unwrap_or_else(|e| e.into_inner());
                }
                false
            }
        };
        if !keep {
            break;
        }
    }
    let _ = out.shutdown(Shutdown::Both);
}

/// The next request's target and whether it asked to close, or `None` at the end.
fn read_request(reader: &mut impl BufRead) -> Option<(String, bool)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let target = line.split_whitespace().nth(1)?.to_string();
    let mut close = false;
    loop {
        let mut field = String::new();
        if reader.read_line(&mut field).ok()? == 0 {
            return None;
        }
        let field = field.trim_end();
        if field.is_empty() {
            break;
        }
        if let Some((name, value)) = field.split_once(':') {
            close |= name.trim().eq_ignore_ascii_case("connection")
                && value.trim().eq_ignore_ascii_case("close");
        }
    }
    Some((target, close))
}

fn write_response(out: &mut TcpStream, r: &Response) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", r.status, reason(r.status));
    for (name, value) in r.headers.iter() {
        if !name.eq_ignore_ascii_case("content-length")
            && !name.eq_ignore_ascii_case("transfer-encoding")
        {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", r.body.len()));
    let mut wire = head.into_bytes();
    wire.extend_from_slice(&r.body);
    out.write_all(&wire)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        404 => "Not Found",
        410 => "Gone",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_site_loads_on_any_origin() {
        let site = Site::from_json(&SITE_JSON.replace(PLACEHOLDER, "http://127.0.0.1:1234"))
            .expect("demo site");
        assert!(site.pages().len() >= 300, "{} pages", site.pages().len());
        assert_eq!(site.roots(), ["http://127.0.0.1:1234/"]);
        assert!(site.find("http://127.0.0.1:1234/robots.txt").is_some());
        assert!(!SITE_JSON.contains("127.0.0.1"));
    }
}
