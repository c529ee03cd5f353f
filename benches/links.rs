//! Link extraction speed: the engine's extractor (lol_html, `crawler::links::extract`), the
//! other streaming candidate (html5gum's tokenizer with its naive raw-text switching and a
//! handler for the same elements), and the `select` reference, on the fixture pages and on
//! generated pages like the benchmark sites': ~9 KB pages with a few dozen links, and ~57 KB
//! documentation pages with a 300-link sidebar.
//!
//! Run with `cargo bench --bench links` (add `-- --quick` for a short run, `-- lol` to measure
//! only the extractors whose name contains `lol`, `-- --passes=N` for a fixed amount of work to
//! compare under `perf stat`). For each corpus and extractor it prints the best of several
//! rounds as MB/s and pages/s. The html5gum row is a bound for that design, not an extractor
//! the tests check: it has no template, noscript or foreign-content handling.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crawler::links::{Links, extract, extract_dom, extract_into};

/// An extractor under test: body in, something to keep the optimiser honest out.
type Extractor = fn(&[u8]) -> usize;

fn lol(body: &[u8]) -> usize {
    extract(body).links.len()
}

/// The extractor as the engine runs it: one `Links` whose vector serves page after page.
fn lol_reused(body: &[u8]) -> usize {
    thread_local! {
        static LINKS: std::cell::RefCell<Links> = Default::default();
    }
    LINKS.with_borrow_mut(|links| {
        let _ = extract_into(body, links);
        links.links.len()
    })
}

/// html5gum's tokens, with the states switched after `<script>`, `<style>`, `<title>`, ... as
/// its `naive_next_state` does, and the link attributes of the same elements read.
fn html5gum(body: &[u8]) -> usize {
    use html5gum::{DefaultEmitter, Token, Tokenizer};
    let mut emitter = DefaultEmitter::default();
    emitter.naively_switch_states(true);
    let mut found = Vec::new();
    for token in Tokenizer::new_with_emitter(body, emitter).flatten() {
        let Token::StartTag(tag) = token else {
            continue;
        };
        let attr = match &tag.name[..] {
            b"a" | b"area" | b"link" | b"base" => &b"href"[..],
            b"img" | b"iframe" | b"frame" | b"script" => b"src",
            b"meta" => b"content",
            _ => continue,
        };
        if let Some(value) = tag.attributes.get(attr) {
            found.push(String::from_utf8_lossy(&value.value).into_owned());
        }
    }
    found.len()
}

fn reference(body: &[u8]) -> usize {
    extract_dom(&String::from_utf8_lossy(body)).links.len()
}

/// A small deterministic generator (xorshift64*), so every run measures the same pages.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const WORDS: &[&str] = &[
    "query",
    "header",
    "router",
    "column",
    "account",
    "build",
    "policy",
    "index",
    "field",
    "throughput",
    "process",
    "video",
    "frame",
    "timer",
    "record",
    "filter",
    "batch",
    "log",
    "server",
    "media",
    "window",
    "module",
    "feature",
    "cache",
    "thread",
    "task",
    "schedule",
];

/// A page shaped like the benchmark site's: head with inline CSS and JS, a nav, paragraphs with
/// links of every kind, a footer; about `target` bytes.
fn generated_page(rng: &mut Rng, target: usize) -> Vec<u8> {
    let mut page = String::with_capacity(target + 1024);
    let title = rng.pick(WORDS);
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str(&format!(
        "<title>The {title} page | Example Site</title>\n<style>\n"
    ));
    for i in 0..12 {
        page.push_str(&format!(
            "  .c{i} {{ margin: {i}px; color: #{:06x}; font: 14px/1.5 sans-serif; }}\n",
            rng.next() & 0xff_ffff
        ));
    }
    page.push_str("</style>\n<script>\n  window.track = function (e) { if (e && e.target) { console.log('<a>', e.target.href); } };\n</script>\n</head>\n<body id=\"top\">\n<header><a class=\"logo\" href='/'>Example</a>\n<nav><ul>\n");
    for i in 0..8 {
        let w = rng.pick(WORDS);
        page.push_str(&format!(
            "<li><a href=\"/{w}/{w}-{i}.html\" data-track=\"nav\">{w}</a></li>\n"
        ));
    }
    page.push_str("</ul></nav></header>\n<main>\n<h1>The page</h1>\n");
    while page.len() < target.saturating_sub(600) {
        page.push_str("<p>");
        for _ in 0..(20 + rng.below(30)) {
            page.push_str(rng.pick(WORDS));
            page.push(' ');
            if rng.below(6) == 0 {
                let w = rng.pick(WORDS);
                let href = match rng.below(8) {
                    0 => format!("../{w}/index.html"),
                    1 => format!("./{w}-{}.html#sec", rng.below(100)),
                    2 => format!("/docs/{w}?page={}&amp;sort=asc", rng.below(9)),
                    3 => format!("http://127.0.0.1:8080/{w}.html"),
                    4 => "mailto:info@example.com".to_string(),
                    5 => format!("//cdn.other.example/{w}.png"),
                    _ => format!("{w}-{}.html", rng.below(1000)),
                };
                page.push_str(&format!("<a href=\"{href}\">{w} &amp; more</a> "));
            }
        }
        page.push_str("</p>\n");
    }
    page.push_str("</main>\n<footer><p>&copy; Example. ");
    for w in ["about", "contact", "privacy", "terms"] {
        page.push_str(&format!("<a href=\"/{w}.html\">{w}</a> &middot; "));
    }
    page.push_str("</p></footer>\n</body>\n</html>\n");
    page.into_bytes()
}

/// A page shaped like a documentation site's (and `LINKS=300` bench pages): a sidebar of 300
/// relative links in nested lists, then a ~40 KB article with headings, code and a few links.
fn docs_page(rng: &mut Rng) -> Vec<u8> {
    let mut page = String::with_capacity(64 * 1024);
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\" class=\"light\">\n<head>\n<meta charset=\"UTF-8\">\n<title>Chapter | The Book</title>\n");
    for css in ["variables", "general", "chrome", "print"] {
        page.push_str(&format!(
            "<link rel=\"stylesheet\" href=\"css/{css}.css\">\n"
        ));
    }
    page.push_str("</head>\n<body>\n<nav id=\"sidebar\" class=\"sidebar\"><div class=\"sidebar-scrollbox\"><ol class=\"chapter\">\n");
    for i in 0..300 {
        let w = rng.pick(WORDS);
        page.push_str(&format!(
            "<li class=\"chapter-item expanded\"><a href=\"{w}/{w}-{i}.html\"><strong aria-hidden=\"true\">{i}.</strong> The {w} chapter</a></li>\n"
        ));
    }
    page.push_str("</ol></div></nav>\n<main>\n");
    while page.len() < 56 * 1024 {
        let w = rng.pick(WORDS);
        page.push_str(&format!(
            "<h2 id=\"{w}\"><a class=\"header\" href=\"#{w}\">The {w}</a></h2>\n<p>"
        ));
        for _ in 0..60 {
            page.push_str(rng.pick(WORDS));
            page.push(' ');
        }
        page.push_str("</p>\n<pre><code class=\"language-rust\">let x = a &lt; b &amp;&amp; c;\nfn main() { println!(\"{}\", x); }\n</code></pre>\n");
    }
    page.push_str("</main>\n<script src=\"book.js\"></script>\n</body>\n</html>\n");
    page.into_bytes()
}

/// Best time of `rounds` rounds, each running `f` over all pages at least `min` long (or exactly
/// `fixed` times, for comparing instruction counts under `perf stat`).
fn measure(
    pages: &[Vec<u8>],
    f: Extractor,
    rounds: usize,
    min: Duration,
    fixed: Option<u32>,
) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..rounds {
        let start = Instant::now();
        let mut passes = 0u32;
        while match fixed {
            Some(n) => passes < n,
            None => passes == 0 || start.elapsed() < min,
        } {
            for page in pages {
                black_box(f(black_box(page)));
            }
            passes += 1;
        }
        best = best.min(start.elapsed().as_secs_f64() / f64::from(passes));
    }
    best
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    // Any other argument (cargo adds `--bench`) filters the extractors by name.
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let fixed: Option<u32> = args
        .iter()
        .find_map(|a| a.strip_prefix("--passes=")?.parse().ok());
    let (rounds, min) = match (quick, fixed) {
        (_, Some(_)) => (1, Duration::ZERO),
        (true, None) => (3, Duration::from_millis(200)),
        (false, None) => (7, Duration::from_millis(700)),
    };

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/html");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures/html")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    let fixtures: Vec<Vec<u8>> = paths
        .iter()
        .map(|p| std::fs::read(p).expect("fixture"))
        .collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let generated: Vec<Vec<u8>> = (0..200)
        .map(|_| generated_page(&mut rng, 9 * 1024))
        .collect();
    let docs: Vec<Vec<u8>> = (0..40).map(|_| docs_page(&mut rng)).collect();

    // (Skipped in fixed-work mode, which exists to profile one extractor alone.)
    if fixed.is_none() {
        for pages in [&generated, &docs] {
            for page in pages.iter() {
                assert_eq!(lol(page), reference(page), "extractors disagree");
                assert_eq!(lol_reused(page), reference(page), "extractors disagree");
            }
        }
    }

    println!("| corpus | extractor | MB/s | pages/s |");
    println!("|---|---|---:|---:|");
    let extractors: [(&str, Extractor); 4] = [
        ("select (reference)", reference),
        ("html5gum 0.9 (tokens, naive states)", html5gum),
        ("lol_html 3", lol),
        ("lol_html 3, links list reused", lol_reused),
    ];
    for (corpus, pages) in [
        ("fixtures", &fixtures),
        ("generated 9 KB pages", &generated),
        ("generated docs pages, 300-link sidebar", &docs),
    ] {
        let bytes: usize = pages.iter().map(Vec::len).sum();
        for (name, f) in extractors {
            if !filters.is_empty() && !filters.iter().any(|w| name.contains(w.as_str())) {
                continue;
            }
            let secs = measure(pages, f, rounds, min, fixed);
            println!(
                "| {corpus} ({} pages, {:.0} KB) | {name} | {:.0} | {:.0} |",
                pages.len(),
                bytes as f64 / 1024.0,
                bytes as f64 / secs / 1e6,
                pages.len() as f64 / secs,
            );
        }
    }
}
