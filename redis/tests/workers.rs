//! Workers sharing one crawl through a real redis-server: two handles on one crawl id,
//! fencing after a lease expired, the options check, the status, paging, and errors a user
//! can read.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_std::task::block_on;
use crawler::{Answer, Ask, Claim, Completion, Held, Reply, Shared};
use crawler_redis::{OptionsCheck, RedisShared};
use support::{Server, fresh_id, kept};

/// A handle for `worker`'s use on crawl `id`, on the test clock `ms`.
fn handle(server: &Server, id: &str, ms: &Arc<AtomicU64>) -> RedisShared {
    let ms = ms.clone();
    block_on(RedisShared::connect(&server.url(), id))
        .expect("connect")
        .with_test_clock(move || Duration::from_millis(ms.load(Ordering::SeqCst)))
}

fn ask(worker: &str) -> Ask {
    let mut ask = Ask::default();
    ask.worker = worker.into();
    ask.lease = Duration::from_secs(1);
    ask.max_per_host = 2;
    ask
}

fn claim(url: &str, token: Option<u64>) -> Claim {
    Claim {
        url: url.into(),
        host: "http://h:80".into(),
        delay: Duration::ZERO,
        token,
        page: true,
    }
}

fn sync(shared: &RedisShared, ask: Ask) -> Reply {
    block_on(shared.sync(&ask)).expect("sync")
}

#[test]
fn an_expired_lease_goes_to_the_other_worker_and_the_first_completion_is_refused() {
    let server = Server::start();
    let id = fresh_id("fence");
    let ms = Arc::new(AtomicU64::new(5_000));
    let (a, b) = (handle(&server, &id, &ms), handle(&server, &id, &ms));
    let url = "http://h/page";

    let mut ask_a = ask("a");
    ask_a.claims = vec![claim(url, None)];
    let Answer::Granted { token: first } = sync(&a, ask_a).answers[0] else {
        panic!("a is granted the URL");
    };
    ms.fetch_add(400, Ordering::SeqCst);
    let mut ask_b = ask("b");
    ask_b.claims = vec![claim(url, None)];
    assert_eq!(
        sync(&b, ask_b.clone()).answers,
        [Answer::Held {
            wait: Duration::from_millis(600)
        }]
    );

    // a's lease runs out (its deadline is now): b is granted it with a new token.
    ms.fetch_add(600, Ordering::SeqCst);
    let Answer::Granted { token: second } = sync(&b, ask_b).answers[0] else {
        panic!("b is granted the URL once a's lease expired");
    };
    assert!(second > first);

    // a comes back from a pause and hands in its completion: refused, nothing logged.
    let mut late = ask("a");
    late.done = vec![Completion {
        token: first,
        kept: kept(url, "a"),
    }];
    late.renew = vec![Held {
        url: url.into(),
        token: first,
    }];
    let reply = sync(&a, late);
    assert_eq!(reply.accepted, [false]);
    assert!(reply.entries.is_empty());

    let mut on_time = ask("b");
    on_time.done = vec![Completion {
        token: second,
        kept: kept(url, "b"),
    }];
    let reply = sync(&b, on_time);
    assert_eq!(reply.accepted, [true]);
    assert_eq!(reply.entries.len(), 1);

    // Both read the same log; the URL is done for both.
    let mut again = ask("a");
    again.claims = vec![claim(url, Some(first))];
    let reply = sync(&a, again);
    assert_eq!(reply.answers, [Answer::Done]);
    assert_eq!(reply.entries[0].worker, "b");
    assert_eq!(reply.entries[0].token, second);
    assert_eq!(reply.entries[0].kept, kept(url, "b"));
}

#[test]
fn page_places_are_the_crawls_and_a_lapsed_lease_keeps_its_place() {
    let server = Server::start();
    let id = fresh_id("places");
    let ms = Arc::new(AtomicU64::new(5_000));
    let (a, b) = (handle(&server, &id, &ms), handle(&server, &id, &ms));
    let limited = |worker: &str, claims: Vec<Claim>| {
        let mut ask = ask(worker);
        ask.max_pages = Some(2);
        ask.max_pages_per_host = Some(1);
        ask.claims = claims;
        ask
    };
    let on = |host: &str, url: &str| Claim {
        host: host.into(),
        ..claim(url, None)
    };
    // One place per host: a's page of h takes h's; b's other page of h is cut, its page of g
    // takes the crawl's second place.
    let reply = sync(&a, limited("a", vec![claim("http://h/1", None)]));
    assert!(matches!(reply.answers[0], Answer::Granted { .. }));
    let reply = sync(
        &b,
        limited(
            "b",
            vec![claim("http://h/2", None), on("http://g:80", "http://g/1")],
        ),
    );
    assert!(matches!(reply.answers[0], Answer::HostFull));
    assert!(matches!(reply.answers[1], Answer::Granted { .. }));
    // The crawl's two places are taken: a page of a third host is left out; its robots.txt
    // takes no place and is granted.
    let robots = Claim {
        page: false,
        ..on("http://k:80", "robots.txt http://k/robots.txt")
    };
    let reply = sync(
        &b,
        limited("b", vec![on("http://k:80", "http://k/1"), robots]),
    );
    assert_eq!(reply.answers[0], Answer::Full);
    assert!(matches!(reply.answers[1], Answer::Granted { .. }));
    // a's lease lapses: the page keeps its place (a page of a third host is still left out),
    // and b is granted it without taking a new one.
    ms.fetch_add(1_000, Ordering::SeqCst);
    let reply = sync(&b, limited("b", vec![on("http://k:80", "http://k/1")]));
    assert_eq!(reply.answers[0], Answer::Full);
    let reply = sync(&b, limited("b", vec![claim("http://h/1", None)]));
    assert!(matches!(reply.answers[0], Answer::Granted { .. }));
    assert_eq!(block_on(b.status()).expect("status").pages, 2);
}

/// A server that may evict keys is told apart from one that may not.
#[test]
fn eviction_risk_is_read_from_the_server() {
    let server = Server::start();
    let ms = Arc::new(AtomicU64::new(0));
    let shared = handle(&server, &fresh_id("evict"), &ms);
    assert_eq!(block_on(shared.eviction_risk()).expect("info"), None);
    server.command(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
    assert_eq!(block_on(shared.eviction_risk()).expect("info"), None);
    server.command(&["CONFIG", "SET", "maxmemory", "100mb"]);
    server.command(&["CONFIG", "SET", "maxmemory-policy", "volatile-lru"]);
    assert_eq!(block_on(shared.eviction_risk()).expect("info"), None);
    server.command(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
    assert_eq!(
        block_on(shared.eviction_risk()).expect("info").as_deref(),
        Some("allkeys-lru")
    );
}

#[test]
fn options_are_stored_once_and_brought_back() {
    let server = Server::start();
    let id = fresh_id("options");
    let ms = Arc::new(AtomicU64::new(0));
    let (a, b) = (handle(&server, &id, &ms), handle(&server, &id, &ms));
    let mine = vec!["--max-depth=3".to_string(), "http://h/".to_string()];
    let theirs = vec!["--max-depth=4".to_string(), "http://h/".to_string()];
    assert_eq!(block_on(a.options(&mine)).unwrap(), OptionsCheck::Stored);
    assert_eq!(
        block_on(b.options(&theirs)).unwrap(),
        OptionsCheck::Kept(mine.clone())
    );
    assert_eq!(
        block_on(a.options(&mine)).unwrap(),
        OptionsCheck::Kept(mine.clone())
    );
    let other = handle(&server, &fresh_id("options"), &ms);
    assert_eq!(
        block_on(other.options(&theirs)).unwrap(),
        OptionsCheck::Stored
    );

    server.command(&["SET", &format!("crawl:{{{id}}}:options"), "not json"]);
    let e = block_on(a.options(&mine)).unwrap_err();
    assert!(e.message.contains("stored options cannot be read"), "{e}");
}

#[test]
fn status_counts_what_the_crawl_holds() {
    let server = Server::start();
    let id = fresh_id("status");
    let ms = Arc::new(AtomicU64::new(10_000));
    let (a, b) = (handle(&server, &id, &ms), handle(&server, &id, &ms));
    let mut first = ask("a");
    first.claims = vec![claim("http://h/1", None), claim("http://h/2", None)];
    let reply = sync(&a, first);
    let Answer::Granted { token } = reply.answers[0] else {
        panic!("granted")
    };
    ms.fetch_add(250, Ordering::SeqCst);
    let mut second = ask("b");
    second.claims = vec![Claim {
        host: "http://g:80".into(),
        ..claim("http://g/1", None)
    }];
    sync(&b, second);
    let mut done = ask("a");
    done.done = vec![Completion {
        token,
        kept: kept("http://h/1", "a"),
    }];
    sync(&a, done);

    let status = block_on(b.status()).unwrap();
    assert_eq!(status.done, 1);
    assert_eq!(status.leased, 2);
    assert_eq!(
        status.running,
        [
            ("http://g:80".to_string(), 1),
            ("http://h:80".to_string(), 1)
        ]
    );
    assert_eq!(
        status.workers,
        [
            ("a".to_string(), Duration::from_millis(10_250)),
            ("b".to_string(), Duration::from_millis(10_250))
        ]
    );
    assert!(!status.finished);
    assert_eq!(status.now, Duration::from_millis(10_250));

    // a's remaining lease expires before b's; then the crawl is marked finished.
    ms.fetch_add(800, Ordering::SeqCst);
    block_on(a.mark_finished()).unwrap();
    let status = block_on(a.status()).unwrap();
    assert_eq!(status.leased, 1);
    assert_eq!(status.running, [("http://g:80".to_string(), 1)]);
    assert!(status.finished);
}

#[test]
fn without_a_test_clock_time_is_the_servers() {
    let server = Server::start();
    let shared = block_on(RedisShared::connect(&server.url(), &fresh_id("time"))).unwrap();
    let mut first = ask("w");
    first.claims = vec![claim("http://h/1", None)];
    assert!(matches!(
        sync(&shared, first).answers[0],
        Answer::Granted { .. }
    ));
    let status = block_on(shared.status()).unwrap();
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    assert!(
        status.now.abs_diff(wall) < Duration::from_secs(60),
        "{status:?}"
    );
    assert_eq!(status.workers.len(), 1);
    assert!(status.workers[0].1 <= status.now);
    assert_eq!(status.leased, 1);
}

#[test]
fn a_sync_is_one_round_trip_once_the_server_has_the_script() {
    let server = Server::start();
    let shared = handle(&server, &fresh_id("trips"), &Arc::new(AtomicU64::new(1)));
    sync(&shared, ask("w"));
    assert_eq!(shared.round_trips(), 2, "EVALSHA, NOSCRIPT, then EVAL");
    sync(&shared, ask("w"));
    sync(&shared, ask("w"));
    assert_eq!(shared.round_trips(), 4);
    assert_eq!(server.command(&["SCRIPT", "FLUSH"]), "+OK");
    sync(&shared, ask("w"));
    assert_eq!(shared.round_trips(), 6);
}

#[test]
fn a_killed_connection_is_made_again() {
    let server = Server::start();
    let shared = handle(
        &server,
        &fresh_id("reconnect"),
        &Arc::new(AtomicU64::new(1)),
    );
    sync(&shared, ask("w"));
    server.command(&["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]);
    if let Err(e) = block_on(shared.sync(&ask("w"))) {
        assert!(e.message.contains("Redis at redis://127.0.0.1:"), "{e}");
    }
    sync(&shared, ask("w"));
}

#[test]
fn errors_say_what_is_wrong() {
    let e = block_on(RedisShared::connect("http://127.0.0.1:1/0", "x")).unwrap_err();
    assert!(e.message.starts_with("not a Redis URL"), "{e}");
    let e = block_on(RedisShared::connect("redis://127.0.0.1:1/0", "x")).unwrap_err();
    assert!(
        e.message
            .contains("cannot connect to Redis at redis://127.0.0.1:1/0: connection refused"),
        "{e}"
    );

    let e = block_on(RedisShared::connect("redis://127.0.0.1:1/0", "a}b")).unwrap_err();
    assert!(e.message.starts_with("not a crawl id"), "{e}");

    let server = Server::start();
    let id = fresh_id("wrongtype");
    let shared = handle(&server, &id, &Arc::new(AtomicU64::new(1)));
    server.command(&["SET", &format!("crawl:{{{id}}}:workers"), "x"]);
    let e = block_on(shared.sync(&ask("w"))).unwrap_err();
    assert!(e.message.contains("script failed"), "{e}");

    // An entry damaged in the server is an error, not a panic.
    let id = fresh_id("damaged");
    let shared = handle(&server, &id, &Arc::new(AtomicU64::new(1)));
    server.command(&["RPUSH", &format!("crawl:{{{id}}}:log"), "garbage"]);
    let e = block_on(shared.sync(&ask("w"))).unwrap_err();
    assert!(e.message.starts_with("log entry 0 cannot be read"), "{e}");
}
