//! Redis's errors said as a user can act on them: which server, and what to do about it.

use std::fmt;

use crawler::SharedError;
use redis::{ErrorKind, RedisError};

/// Where the server is, as a user wrote it, less any password: for messages.
#[derive(Debug, Clone)]
pub(crate) struct Place(String);

impl Place {
    /// The place `url` names, when it is a `redis://` URL.
    pub(crate) fn of(url: &str) -> Result<Place, SharedError> {
        let shown = redacted(url);
        let bad = |why: &str| {
            SharedError::new(format!(
                "not a Redis URL (redis://HOST:PORT/DB): {shown:?}: {why}"
            ))
        };
        let parsed = url::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
        if parsed.scheme() != "redis" {
            return Err(bad("the scheme must be redis://"));
        }
        let host = parsed.host_str().ok_or_else(|| bad("no host"))?;
        let port = parsed.port().unwrap_or(6379);
        let db = parsed.path().trim_start_matches('/');
        if !db.is_empty() && db.parse::<u32>().is_err() {
            return Err(bad("the database must be a number"));
        }
        let db = if db.is_empty() { "0" } else { db };
        Ok(Place(format!("redis://{host}:{port}/{db}")))
    }
}

/// `url` with any password replaced by `***`, for messages; a `url` that does not parse but
/// has an `@` in it is cut after its scheme.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) if url.contains('@') => match url.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://***"),
            None => "***".to_string(),
        },
        Err(_) => url.to_string(),
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `e`, which happened talking to `place`, for people.
pub(crate) fn describe(e: &RedisError, place: &Place) -> SharedError {
    let message = if e.is_connection_refusal() {
        format!(
            "cannot connect to Redis at {place}: connection refused (is redis-server running there?)"
        )
    } else if e.is_timeout() {
        format!("Redis at {place} did not answer in time: {e}")
    } else if e.is_connection_dropped() || e.is_io_error() {
        format!("lost the connection to Redis at {place}: {e}")
    } else {
        let text = e.to_string();
        if e.kind() == ErrorKind::AuthenticationFailed || e.code() == Some("WRONGPASS") {
            format!("Redis at {place} refused the password: {text}")
        } else if e.code() == Some("NOAUTH") {
            format!("Redis at {place} needs a password (redis://:PASSWORD@HOST:PORT/DB): {text}")
        } else if text.contains("user_script") {
            // Redis names the script and the line that failed in its message.
            format!("the shared crawl's script failed in Redis at {place}: {text}")
        } else {
            format!("Redis at {place}: {text}")
        }
    };
    SharedError::new(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_hide_passwords_and_refuse_other_schemes() {
        let p = Place::of("redis://:secret@example.com:7000/3").unwrap();
        assert_eq!(p.to_string(), "redis://example.com:7000/3");
        assert_eq!(
            Place::of("redis://h").unwrap().to_string(),
            "redis://h:6379/0"
        );
        for bad in ["http://h/0", "h:6379", "redis://h/x", "redis:///0"] {
            let e = Place::of(bad).unwrap_err();
            assert!(e.message.starts_with("not a Redis URL"), "{bad}: {e}");
        }
    }
}
