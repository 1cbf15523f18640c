//! What can go wrong in the identity store and the token checks, with the input that failed.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} line {line} is not an identity record: {reason}")]
    Corrupt { path: PathBuf, line: usize, reason: String },
    #[error("no user is named {0:?}")]
    NoSuchUser(String),
    #[error("a user named {0:?} exists already")]
    UserExists(String),
    #[error("no project has the slug {0:?}")]
    NoSuchProject(String),
    #[error("a project with the slug {0:?} exists already")]
    ProjectExists(String),
    #[error("no token has the id {0:?}")]
    NoSuchToken(String),
    #[error("no collection has the id {0:?}")]
    NoSuchCollection(String),
    /// The change would leave something inconsistent (a collection with children deleted).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the password hash failed: {0}")]
    Hash(String),
    #[error("{what}: {reason}")]
    Oidc { what: String, reason: String },
}

impl IdentityError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> IdentityError {
        let path = path.into();
        move |source| IdentityError::Io { action, path, source }
    }
}
