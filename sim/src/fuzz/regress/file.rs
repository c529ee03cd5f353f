//! The regression file itself: its format, reading and writing, and its errors.

use std::fmt;
use std::io;
use std::path::Path;

use crawler_site::SiteSpec;
use serde::{Deserialize, Serialize};

use super::super::case::Case;
use super::super::crash::Crash;
use super::super::workers::Workers;
use super::{REGRESSION_FORMAT, options_of};

/// A regression file: a case kept as its site file, crawl options and seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Regression {
    /// [`REGRESSION_FORMAT`] when written.
    pub format: u32,
    /// Why the case is kept: what was wrong, and what fixed it.
    pub why: String,
    /// The seed of the simulation and of the engine's retry jitter (`crawl-sim --seed`).
    pub seed: u64,
    /// The crawl options as `crawl-sim` arguments, roots aside ([`options_of`]).
    pub args: Vec<String>,
    /// The site file, roots included, as [`Case::site`] renders it.
    pub site: SiteSpec,
    /// The crashes of the crawl with crashes (see [`Case::crashes`]); none: no such crawl.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crashes: Vec<KeptCrash>,
    /// How often that crawl's store syncs (see [`Case::sync_every`]).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub sync_every: u32,
    /// The workers of the crawl by workers (see [`Case::workers`]); none: no such crawl.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<Workers>,
}

/// A crash as a regression file keeps it (see [`Crash`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct KeptCrash {
    /// See [`Crash::at_64ths`].
    pub at_64ths: u32,
    /// See [`Crash::survive`].
    pub survive: u32,
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

/// Why a regression file could not be read back into a case.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegressionError {
    /// The file could not be read.
    Io(String),
    /// The file is not JSON, or not the shape of a regression file.
    Json(String),
    /// The file is in a format this version does not read.
    Format(u32),
    /// The arguments do not parse, or are not options a case has.
    Options(String),
    /// The site file is not one a case renders.
    Site(String),
}

impl fmt::Display for RegressionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegressionError::Io(e) => write!(f, "cannot read the regression file: {e}"),
            RegressionError::Json(e) => write!(f, "not a regression file: {e}"),
            RegressionError::Format(n) => write!(
                f,
                "regression format {n}, but this version reads format {REGRESSION_FORMAT} only"
            ),
            RegressionError::Options(e) => write!(f, "options: {e}"),
            RegressionError::Site(e) => write!(f, "site: {e}"),
        }
    }
}

impl std::error::Error for RegressionError {}

pub(super) fn site_error(message: impl Into<String>) -> RegressionError {
    RegressionError::Site(message.into())
}

impl Regression {
    /// `case` kept with the note `why`.
    pub fn of(case: &Case, why: impl Into<String>) -> Regression {
        Regression {
            format: REGRESSION_FORMAT,
            why: why.into(),
            seed: case.seed,
            args: options_of(&case.config()),
            site: case.site(),
            crashes: case
                .crashes
                .iter()
                .map(|c| KeptCrash {
                    at_64ths: c.at_64ths,
                    survive: c.survive,
                })
                .collect(),
            sync_every: case.sync_every,
            workers: case.workers.clone(),
        }
    }

    /// Reads a regression file's text; the format number is read first, so a file from a newer
    /// version says so rather than naming a field this one does not know.
    pub fn from_json(text: &str) -> Result<Regression, RegressionError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| RegressionError::Json(e.to_string()))?;
        let format = value.get("format").ok_or_else(|| {
            RegressionError::Json("no \"format\" field (a bare site file is not one)".into())
        })?;
        match format.as_u64() {
            Some(n) if n == u64::from(REGRESSION_FORMAT) => {}
            Some(n) => {
                return Err(RegressionError::Format(
                    u32::try_from(n).unwrap_or(u32::MAX),
                ));
            }
            None => return Err(RegressionError::Json("\"format\" is not a number".into())),
        }
        serde_json::from_value(value).map_err(|e| RegressionError::Json(e.to_string()))
    }

    /// Reads the regression file at `path` (errors do not repeat the path).
    pub fn load(path: &Path) -> Result<Regression, RegressionError> {
        let text = std::fs::read_to_string(path).map_err(|e| RegressionError::Io(e.to_string()))?;
        Regression::from_json(&text)
    }

    /// The file's text: pretty JSON, one trailing newline.
    pub fn to_json(&self) -> String {
        // A SiteSpec serialises to plain JSON (string keys, finite numbers), so this cannot fail.
        let json = serde_json::to_string_pretty(self).unwrap_or_default();
        json + "\n"
    }

    /// Writes the file to `path`.
    pub fn write(&self, path: &Path) -> io::Result<()> {
        std::fs::write(path, self.to_json())
    }

    /// The case this file keeps: [`Case::from_site`] of its site, options and seed.
    pub fn case(&self) -> Result<Case, RegressionError> {
        let mut case = Case::from_site(&self.site, &self.args, self.seed)?;
        case.crashes = self
            .crashes
            .iter()
            .map(|c| Crash::new(c.at_64ths, c.survive))
            .collect();
        case.sync_every = self.sync_every.max(1);
        case.workers = self.workers.clone();
        Ok(case)
    }
}
