//! How a failure should be handled, decided by the error that knows what happened: every error
//! type work can fail with (operators, storage, the catalog) classifies itself, and the retry
//! policy and the dead-letter records act on that class, never on words in a message.

/// Whether another attempt can help.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Worth another attempt: storage, network or local I/O.
    Transient,
    /// Retrying cannot help: the master cannot be decoded, the request is impossible.
    Permanent,
    /// Stopped on request; not a failure.
    Cancelled,
}

/// An error that knows its `ErrorKind`.
pub trait Classify {
    fn kind(&self) -> ErrorKind;
}
