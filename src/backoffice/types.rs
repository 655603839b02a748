//! Why a back-office answer failed (the records themselves are in [`crate::domain::records`]).

/// Why a back-office answer failed. `Unavailable` and `Timeout` are the source being down or
/// slow: the bot says it cannot check right now instead of failing the turn. Messages never
/// carry credentials.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    #[error("the back office is unavailable: {0}")]
    Unavailable(String),
    #[error("the back office did not answer within {0} ms")]
    Timeout(u64),
    #[error("the back office refused: {0}")]
    Refused(String),
}

impl Error {
    /// The source is down or slow (as opposed to a bug or a refusal).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Error::Unavailable(_) | Error::Timeout(_))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
