//! The crate's error type.
//!
//! Every failure that reaches a user names its cause: a malformed file, a shape that does not
//! match, a non-finite value, a parameter outside a theorem's assumptions, or a solver that did
//! not reach `Solved`. A failed *verdict* is not an error: it is an [`crate::check::Evidence`]
//! whose gates did not hold. An error means the check could not run.

use std::path::PathBuf;

/// Errors raised by dimple. None of them is a panic: user input never panics.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value or argument that is not acceptable (names the argument and the reason).
    #[error("invalid input: {0}")]
    Input(String),
    /// Two shapes that had to agree did not.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// NaN or ±Inf where a finite number is required.
    #[error("non-finite value: {0}")]
    NonFinite(String),
    /// A parameter or a data set outside the assumptions of a theorem.
    #[error("outside the assumptions: {assumption}: {detail}")]
    Assumption {
        /// The assumption's name as written in the theory file.
        assumption: String,
        /// What was violated, with the offending values.
        detail: String,
    },
    /// A numerical solver did not reach an acceptable status.
    #[error("solver failed: {0}")]
    Solver(String),
    /// A file could not be read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A file was read but its contents are malformed.
    #[error("malformed file {path}: {detail}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// A check broke its theory file's contract (a defect of the suite, not of the input).
    #[error("{0}")]
    Contract(String),
    /// A check id or family that is not registered.
    #[error("unknown check or family `{0}` (run `dimple list` for the registered ids)")]
    UnknownCheck(String),
}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Shorthand for [`Error::Input`].
    pub fn input(msg: impl Into<String>) -> Self {
        Error::Input(msg.into())
    }
    /// Shorthand for [`Error::Shape`].
    pub fn shape(msg: impl Into<String>) -> Self {
        Error::Shape(msg.into())
    }
    /// Shorthand for [`Error::Solver`].
    pub fn solver(msg: impl Into<String>) -> Self {
        Error::Solver(msg.into())
    }
    /// Shorthand for [`Error::Assumption`].
    pub fn assumption(assumption: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::Assumption {
            assumption: assumption.into(),
            detail: detail.into(),
        }
    }
    /// Shorthand for [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
    /// Shorthand for [`Error::Format`].
    pub fn format(path: impl Into<PathBuf>, detail: impl Into<String>) -> Self {
        Error::Format {
            path: path.into(),
            detail: detail.into(),
        }
    }
}

/// Fails with [`Error::NonFinite`] when any entry of `values` is NaN or infinite.
pub fn ensure_finite(what: &str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(Error::NonFinite(format!(
            "{what}: entry {i} is {}",
            values[i]
        ))),
    }
}
