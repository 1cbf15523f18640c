//! The local issuer's tokens. Access tokens are JWTs (HS256 under a 256-bit key kept 0600 in the
//! identity folder) naming the user and the refresh family they came from, so a logout or a
//! detected refresh reuse ends them before they expire. Refresh tokens and personal API tokens
//! are opaque: an id, a dot and 256 random bits, stored as the SHA-256 of the secret part.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::IdentityError;
use crate::random;

/// How an OAuth client names the kind of token it sends back.
pub const TOKEN_TYPE: &str = "Bearer";

/// What a login or a refresh answers (RFC 6749 §5.1 names).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds the access token lives.
    pub expires_in: u64,
    /// The password was set by someone else: change it before anything else.
    pub must_change_password: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct AccessClaims {
    pub iss: String,
    pub sub: String,
    /// The refresh family (the login session).
    pub sid: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

/// The prefix of personal API tokens, so a leaked one is recognisable (and greppable by secret
/// scanners).
pub(crate) const API_TOKEN_PREFIX: &str = "acvp_";

pub(crate) struct LocalIssuer {
    pub issuer: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub access_seconds: u64,
}

impl LocalIssuer {
    /// The issuer whose key is in `key_path` (created 0600 on first use).
    pub(crate) fn open(
        key_path: &Path,
        issuer: &str,
        access_seconds: u64,
    ) -> Result<LocalIssuer, IdentityError> {
        let key = if key_path.exists() {
            let k = std::fs::read(key_path).map_err(IdentityError::io("read", key_path))?;
            if k.len() != 32 {
                return Err(IdentityError::Invalid(format!(
                    "{} holds {} bytes, not a 32-byte token key",
                    key_path.display(),
                    k.len()
                )));
            }
            k
        } else {
            let k = random::bytes::<32>()?.to_vec();
            write_private(key_path, &k)?;
            k
        };
        let bad =
            |e: jsonwebtoken::errors::Error| IdentityError::Invalid(format!("token key: {e}"));
        Ok(LocalIssuer {
            issuer: issuer.to_string(),
            encoding: EncodingKey::from_secret(&key).map_err(bad)?,
            decoding: DecodingKey::from_secret(&key).map_err(bad)?,
            access_seconds,
        })
    }

    pub(crate) fn access_token(
        &self,
        user: &str,
        family: &str,
        now: DateTime<Utc>,
    ) -> Result<String, IdentityError> {
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub: user.to_string(),
            sid: family.to_string(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: now.timestamp() + self.access_seconds as i64,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| IdentityError::Invalid(format!("cannot sign an access token: {e}")))
    }

    /// The claims of a token this issuer signed and that is valid now (HS256 only: a token
    /// claiming any other algorithm is refused before its signature is looked at).
    pub(crate) fn verify(&self, token: &str) -> Result<AccessClaims, jsonwebtoken::errors::Error> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[&self.issuer]);
        v.set_required_spec_claims(&["exp", "nbf", "iss", "sub"]);
        v.validate_nbf = true;
        v.validate_aud = false;
        v.leeway = 5;
        jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &v).map(|d| d.claims)
    }
}

/// `{id}.{secret}`: the id finds the record, the secret is compared with its hash.
pub(crate) fn split_opaque(token: &str) -> Option<(&str, &str)> {
    let (id, secret) = token.split_once('.')?;
    (!id.is_empty() && secret.len() == 43).then_some((id, secret))
}

pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), IdentityError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(IdentityError::io("create", path))?;
    f.write_all(bytes).map_err(IdentityError::io("write", path))?;
    f.sync_all().map_err(IdentityError::io("fsync", path))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn an_access_token_verifies_with_its_own_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let a = LocalIssuer::open(&dir.path().join("a.key"), "acervo", 600).unwrap();
        let b = LocalIssuer::open(&dir.path().join("b.key"), "acervo", 600).unwrap();
        let t = a.access_token("ana", "fam", Utc::now()).unwrap();
        let c = a.verify(&t).unwrap();
        assert_eq!((c.sub.as_str(), c.sid.as_str()), ("ana", "fam"));
        assert!(b.verify(&t).is_err());
        let mode = std::fs::metadata(dir.path().join("a.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // The same key file gives the same issuer after a restart.
        let again = LocalIssuer::open(&dir.path().join("a.key"), "acervo", 600).unwrap();
        assert!(again.verify(&t).is_ok());
    }

    #[test]
    fn expired_future_and_unsigned_tokens_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = LocalIssuer::open(&dir.path().join("a.key"), "acervo", 600).unwrap();
        let old = a.access_token("ana", "f", Utc::now() - chrono::Duration::hours(1)).unwrap();
        assert!(a.verify(&old).is_err());
        let future = a.access_token("ana", "f", Utc::now() + chrono::Duration::hours(1)).unwrap();
        assert!(a.verify(&future).is_err());
        // alg "none": the header and claims of a real token, no signature.
        let t = a.access_token("ana", "f", Utc::now()).unwrap();
        let claims = t.split('.').nth(1).unwrap();
        let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{claims}.");
        assert!(a.verify(&none).is_err());
    }

    #[test]
    fn opaque_tokens_split_into_id_and_secret() {
        let secret = crate::random::token().unwrap();
        assert_eq!(split_opaque(&format!("abc.{secret}")), Some(("abc", secret.as_str())));
        assert_eq!(split_opaque("abc.short"), None);
        assert_eq!(split_opaque(&format!(".{secret}")), None);
        assert_eq!(split_opaque("nodot"), None);
    }
}
