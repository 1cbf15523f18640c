//! Acervo's identity: who may sign in and what they hold. Local users with argon2id password
//! hashes (and a SCRAM-SHA-256 verifier for PostgreSQL clients), projects and the role of each
//! member, personal API tokens; the local issuer's short-lived access tokens and rotating refresh
//! tokens; bearer tokens of an OpenID provider (discovery, JWKS by `kid`). Everything it knows
//! lives in a journal of its own under `$ACERVO_HOME/identity`, fsynced before a change is
//! answered. `Authenticator` turns a bearer token into the catalog's `Principal`.

mod authenticator;
mod bootstrap;
mod collection_store;
mod directory;
mod error;
mod journal;
mod local_tokens;
mod oidc;
mod password;
mod random;
mod scram;
mod store;

pub use authenticator::{AuthFailure, Authenticated, Authenticator};
pub use bootstrap::{AdminPassword, FirstStart, ensure_admin, initial_password_file};
pub use collection_store::{CollectionChange, NewCollection};
pub use directory::{ApiTokenInfo, CollectionInfo, Member, ProjectInfo, UserInfo};
pub use error::IdentityError;
pub use local_tokens::{TOKEN_TYPE, TokenPair};
pub use oidc::OidcVerifier;
pub use password::PasswordPolicy;
pub use scram::ScramVerifier;
pub use store::{IdentityStore, NewUser};
