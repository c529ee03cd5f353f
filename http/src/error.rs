//! Mapping whatever a surf backend fails with to a [`FetchErrorKind`].
//!
//! surf hands back one `surf::Error` that wraps the backend's own error: the crawler's own client
//! says the class itself (a `WireError`, also inside the `io::Error`s of a body); curl gives an
//! `isahc::Error`. Typed errors are classified by type and kind; anything else that is only a
//! message, by its words.

use std::io;

use super::http1::WireError;
use crawler::{FetchError, FetchErrorKind};

/// Classifies a failed `send` (no response head arrived).
pub(crate) fn from_surf(error: &surf::Error) -> FetchError {
    if let Some(e) = error.downcast_ref::<WireError>() {
        return FetchError::new(e.kind, e.message.clone());
    }
    let message = lowercase_message(&error.to_string());
    if let Some(e) = error.downcast_ref::<isahc::Error>() {
        return FetchError::new(from_isahc(e), isahc_message(e));
    }
    if let Some(e) = error.downcast_ref::<io::Error>() {
        return FetchError::new(from_io(e), message);
    }
    if error
        .downcast_ref::<async_std::future::TimeoutError>()
        .is_some()
    {
        return FetchError::new(FetchErrorKind::Timeout, message);
    }
    FetchError::new(from_words(&message), message)
}

/// Classifies an error while reading the body.
pub(crate) fn from_body_io(error: &io::Error) -> FetchError {
    if let Some(e) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<WireError>())
    {
        return FetchError::new(e.kind, e.message.clone());
    }
    if let Some(e) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<isahc::Error>())
    {
        return FetchError::new(from_isahc(e), isahc_message(e));
    }
    let kind = match from_io(error) {
        // A body that breaks off is a reset, whatever the backend called it.
        FetchErrorKind::Other | FetchErrorKind::Connect => FetchErrorKind::Reset,
        kind => kind,
    };
    FetchError::new(kind, lowercase_message(&error.to_string()))
}

fn from_isahc(error: &isahc::Error) -> FetchErrorKind {
    use isahc::Error as E;
    match error {
        E::CouldntResolveHost | E::CouldntResolveProxy => FetchErrorKind::Dns,
        E::ConnectFailed => FetchErrorKind::Connect,
        E::BadServerCertificate(_)
        | E::BadClientCertificate(_)
        | E::SSLConnectFailed(_)
        | E::SSLEngineError(_) => FetchErrorKind::Tls,
        E::Timeout => FetchErrorKind::Timeout,
        E::NoResponse | E::ResponseBodyError(_) | E::Aborted => FetchErrorKind::Reset,
        E::InvalidHttpFormat(_) | E::InvalidContentEncoding(_) | E::InvalidUtf8 => {
            FetchErrorKind::Protocol
        }
        E::Io(e) => from_io(e),
        E::Curl(message) => from_words(&message.to_ascii_lowercase()),
        _ => FetchErrorKind::Other,
    }
}

fn from_io(error: &io::Error) -> FetchErrorKind {
    use io::ErrorKind as K;
    match error.kind() {
        K::ConnectionRefused | K::AddrNotAvailable | K::HostUnreachable | K::NetworkUnreachable => {
            FetchErrorKind::Connect
        }
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
            FetchErrorKind::Reset
        }
        K::TimedOut | K::WouldBlock => FetchErrorKind::Timeout,
        K::InvalidData => FetchErrorKind::Protocol,
        _ => from_words(&error.to_string().to_ascii_lowercase()),
    }
}

/// isahc's `Display` is `Variant: description`; the variant name is noise in a record.
fn isahc_message(error: &isahc::Error) -> String {
    let text = error.to_string();
    let detail = match text.split_once(": ") {
        Some((variant, rest)) if !variant.contains(char::is_whitespace) => rest,
        _ => text.as_str(),
    };
    lowercase_message(detail)
}

/// Last resort for errors that arrive as text.
fn from_words(message: &str) -> FetchErrorKind {
    let message = message.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| message.contains(w));
    if has(&[
        "lookup address",
        "resolve",
        "name or service not known",
        "dns",
    ]) {
        FetchErrorKind::Dns
    } else if has(&["tls", "ssl", "certificate", "handshake"]) {
        FetchErrorKind::Tls
    } else if has(&[
        "reset",
        "closed",
        "broken pipe",
        "eof",
        "empty response",
        "receiving data",
    ]) {
        FetchErrorKind::Reset
    } else if has(&["refused", "unreachable", "connect"]) {
        FetchErrorKind::Connect
    } else if has(&["timed out", "timeout"]) {
        FetchErrorKind::Timeout
    } else if has(&[
        "malformed",
        "invalid",
        "unsupported",
        "header",
        "status",
        "version",
        "chunk",
        "weird",
    ]) {
        FetchErrorKind::Protocol
    } else {
        FetchErrorKind::Other
    }
}

/// Error text as the crate's errors read (an OS, library or backend message): lowercase first
/// letter, no trailing period.
pub(crate) fn lowercase_message(text: &str) -> String {
    let text = text.trim().trim_end_matches('.');
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn surf_err(e: impl Into<surf::Error>) -> FetchErrorKind {
        from_surf(&e.into()).kind
    }

    #[test]
    fn typed_errors_map_by_type() {
        let io = |k| surf_err(io::Error::from(k));
        assert_eq!(
            io(io::ErrorKind::ConnectionRefused),
            FetchErrorKind::Connect
        );
        assert_eq!(io(io::ErrorKind::ConnectionReset), FetchErrorKind::Reset);
        assert_eq!(io(io::ErrorKind::TimedOut), FetchErrorKind::Timeout);
        assert_eq!(
            surf_err(isahc::Error::CouldntResolveHost),
            FetchErrorKind::Dns
        );
        assert_eq!(
            surf_err(isahc::Error::SSLConnectFailed(None)),
            FetchErrorKind::Tls
        );
        assert_eq!(surf_err(isahc::Error::NoResponse), FetchErrorKind::Reset);
        assert_eq!(surf_err(isahc::Error::Timeout), FetchErrorKind::Timeout);
    }

    #[test]
    fn plain_messages_map_by_words() {
        let msg = |m: &str| from_surf(&surf::Error::from_str(400, m.to_string())).kind;
        assert_eq!(
            msg("failed to lookup address information: Name or service not known"),
            FetchErrorKind::Dns
        );
        assert_eq!(
            msg("Backend(Connection refused (os error 111))"),
            FetchErrorKind::Connect
        );
        assert_eq!(msg("connection closed"), FetchErrorKind::Reset);
        assert_eq!(msg("Malformed HTTP head"), FetchErrorKind::Protocol);
        assert_eq!(
            msg("curl(\"Weird server reply\")"),
            FetchErrorKind::Protocol
        );
        assert_eq!(
            msg("Failure when receiving data from the peer"),
            FetchErrorKind::Reset
        );
        assert_eq!(msg("something else"), FetchErrorKind::Other);
    }

    #[test]
    fn body_errors_are_resets_unless_typed_otherwise() {
        let e = io::Error::other("stream ended");
        assert_eq!(from_body_io(&e).kind, FetchErrorKind::Reset);
        let e = io::Error::other(isahc::Error::Timeout);
        assert_eq!(from_body_io(&e).kind, FetchErrorKind::Timeout);
        assert_eq!(
            from_body_io(&e).message,
            "request took longer than the configured timeout"
        );
        let e = surf::Error::from(isahc::Error::ConnectFailed);
        assert_eq!(
            from_surf(&e).to_string(),
            "connect: failed to connect to the server"
        );
    }

    #[test]
    fn messages_are_lowercased_without_period() {
        assert_eq!(
            lowercase_message("Connection refused."),
            "connection refused"
        );
    }
}
