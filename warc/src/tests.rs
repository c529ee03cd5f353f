//! The writer and reader against each other, and against records written by hand.

use super::*;

fn exchange<'a>(url: &'a str, outcome: Attempt<'a>) -> Exchange<'a> {
    Exchange {
        url,
        date: "2026-11-22T00:00:00Z",
        request_headers: &[],
        outcome,
    }
}

fn write(gzip: bool) -> Vec<u8> {
    let headers = vec![
        ("Content-Type".to_string(), "text/html".to_string()),
        ("Transfer-Encoding".to_string(), "chunked".to_string()),
    ];
    let mut w = WarcWriter::new(Vec::new(), gzip);
    w.write_warcinfo("2026-11-22T00:00:00Z", "t.warc", &[("software", "crawler")])
        .unwrap();
    let ok = Attempt::Response {
        status: 301,
        headers: &headers,
        body: b"moved\r\n\r\nstill body",
        truncated: true,
    };
    w.write_exchange(&exchange("http://h:8080/a?q=1", ok))
        .unwrap();
    let failed = Attempt::Failed {
        error: "timeout: no response\nwithin 30s",
    };
    w.write_exchange(&exchange("http://h/b", failed)).unwrap();
    w.into_inner()
}

#[test]
fn round_trip_plain_and_gzip() {
    for gzip in [false, true] {
        let data = write(gzip);
        assert_eq!(data.starts_with(&[0x1f, 0x8b]), gzip);
        let records = read_records(&data).unwrap();
        let types: Vec<_> = records
            .iter()
            .map(|r| r.header("warc-type").unwrap())
            .collect();
        assert_eq!(types, ["warcinfo", "request", "response", "metadata"]);
        let req = String::from_utf8(records[1].block.clone()).unwrap();
        assert!(
            req.starts_with("GET /a?q=1 HTTP/1.1\r\nHost: h:8080\r\n"),
            "{req}"
        );
        assert_eq!(
            records[1].header("WARC-Concurrent-To"),
            records[2].header("WARC-Record-ID")
        );
        let resp = records[2].http_response().unwrap();
        assert_eq!(resp.status, 301);
        assert_eq!(resp.body, b"moved\r\n\r\nstill body");
        assert_eq!(
            resp.headers,
            [("Content-Type".to_string(), "text/html".to_string())]
        );
        assert_eq!(records[2].header("WARC-Truncated"), Some("length"));
        assert_eq!(
            records[3].fetch_error(),
            Some("timeout: no response within 30s")
        );
    }
}

#[test]
fn record_ids_are_unique() {
    let records = read_records(&write(false)).unwrap();
    let mut ids: Vec<_> = records
        .iter()
        .map(|r| r.header("WARC-Record-ID").unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4);
}

#[test]
fn digests_are_sha1_base32() {
    // Known value: SHA-1("") = da39a3ee5e6b4b0d3255bfef95601890afd80709.
    assert_eq!(sha1_label(b""), "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
}

#[test]
fn a_file_cut_short_keeps_the_complete_records() {
    let data = write(false);
    let cut = &data[..data.len() - 10];
    let (records, err) = read_records_lenient(cut);
    assert_eq!(records.len(), 3);
    assert!(err.unwrap().to_string().contains("cut short"));
    assert!(read_records(cut).is_err());
}

/// The whole part of a file cut anywhere is its records up to the cut, for both forms; a
/// whole file is whole, and garbage is no record.
#[test]
fn whole_len_is_where_the_last_whole_record_ends() {
    // (Reading a slice cannot fail.)
    let whole_len_in = |data: &[u8]| whole_len_of(data).unwrap() as usize;
    for gzip in [false, true] {
        let data = write(gzip);
        assert_eq!(whole_len_in(&data), data.len(), "gzip {gzip}");
        let ends: Vec<usize> = (0..=data.len())
            .filter(|&n| whole_len_in(&data[..n]) == n)
            .collect();
        // The start, and the end of each record: nothing else is whole.
        let records = read_records(&data).expect("whole").len();
        assert_eq!(ends.len(), records + 1, "gzip {gzip}: {ends:?}");
        for &n in &ends {
            let records = read_records(&data[..n]).expect("whole");
            assert_eq!(n == 0, records.is_empty());
        }
        for n in 0..data.len() {
            let whole = whole_len_in(&data[..n]);
            assert!(
                ends.contains(&whole) && whole <= n,
                "gzip {gzip}, cut at {n}"
            );
        }
    }
    assert_eq!(whole_len_in(b"hello"), 0);
    assert_eq!(whole_len_in(b"\x1f\x8bxx"), 0);
}

/// A file that cannot be read is an error, not a place to cut it (which would lose what
/// could not be read).
#[test]
fn whole_len_of_a_failing_reader_is_an_error() {
    struct Failing<'a>(&'a [u8]);
    impl Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::other("the disk failed"));
            }
            let n = buf.len().min(self.0.len()).min(7);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    for gzip in [false, true] {
        let data = write(gzip);
        let half = &data[..data.len() / 2];
        let e = whole_len_of(Failing(half)).expect_err("a read error");
        assert!(
            e.to_string().contains("the disk failed"),
            "gzip {gzip}: {e}"
        );
        assert_eq!(
            whole_len_of(&data[..]).unwrap(),
            data.len() as u64,
            "gzip {gzip}"
        );
    }
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for data in [
        &b"hello"[..],
        b"WARC/1.1\r\n\r\n",
        b"WARC/1.1\r\nContent-Length: 99\r\n\r\nx",
        b"\x1f\x8bxx",
    ] {
        assert!(read_records(data).is_err(), "{data:?}");
    }
    assert!(parse_http_response(b"nonsense\r\n\r\n").is_err());
}
