//! The `crawl` command (filled in by the real-crawl work; for now it only parses flags).

fn main() {
    eprintln!("crawl: not implemented yet");
    std::process::exit(2);
}
