//! Turns the bearer token of a request into the principal it acts for: a personal API token
//! (`acvp_…`), an access token of the local issuer, or a token of the configured OpenID provider,
//! told apart by their shape and their (unverified, then verified) issuer. Every refusal is an
//! `AuthFailure` that says why in words safe to show the client.

use std::sync::Arc;
use std::time::Duration;

use acervo_catalog::Principal;

use crate::error::IdentityError;
use crate::local_tokens::API_TOKEN_PREFIX;
use crate::oidc::OidcVerifier;
use crate::store::IdentityStore;

/// Longer bearer tokens are refused unread (a Keycloak token with many groups is a few KiB).
const MAX_TOKEN_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("this request needs an Authorization: Bearer token")]
    Missing,
    #[error("the token is malformed: {0}")]
    Malformed(&'static str),
    #[error("the token's signature is not valid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was not issued by a trusted issuer")]
    WrongIssuer,
    #[error("the token is not meant for this service (aud)")]
    WrongAudience,
    #[error("the token is signed with a key the issuer does not publish")]
    UnknownKey,
    #[error("the token's algorithm is refused: {0}")]
    AlgorithmRefused(String),
    #[error("the session has ended (logged out, revoked or expired)")]
    Revoked,
    #[error("this refresh token was used already: every session of this login is revoked")]
    Reused(String),
    #[error("the account {0:?} is disabled")]
    Disabled(String),
    #[error("wrong user name or password")]
    BadCredentials,
    #[error("too many failed logins: try again in {} s", .0.as_secs().max(1))]
    TooManyAttempts(Duration),
    #[error("{0}")]
    Refused(String),
    #[error("the identity provider cannot be reached: {0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl AuthFailure {
    /// The HTTP status this failure answers.
    pub fn status(&self) -> u16 {
        match self {
            AuthFailure::Disabled(_) => 403,
            AuthFailure::TooManyAttempts(_) => 429,
            AuthFailure::Refused(_) => 422,
            AuthFailure::Unavailable(_) => 503,
            AuthFailure::Internal(_) => 500,
            _ => 401,
        }
    }

    pub(crate) fn from_identity(e: IdentityError) -> AuthFailure {
        match e {
            IdentityError::Invalid(m) => AuthFailure::Refused(m),
            other => AuthFailure::Internal(other.to_string()),
        }
    }

    pub(crate) fn from_jwt(e: jsonwebtoken::errors::Error) -> AuthFailure {
        use jsonwebtoken::errors::ErrorKind as K;
        match e.kind() {
            K::ExpiredSignature => AuthFailure::Expired,
            K::ImmatureSignature => AuthFailure::NotYetValid,
            K::InvalidIssuer => AuthFailure::WrongIssuer,
            K::InvalidAudience => AuthFailure::WrongAudience,
            K::InvalidSignature => AuthFailure::BadSignature,
            K::InvalidAlgorithm => AuthFailure::AlgorithmRefused("not the key's algorithm".into()),
            K::MissingRequiredClaim(_) => AuthFailure::Malformed("a required claim is missing"),
            _ => AuthFailure::Malformed("not a valid JWT"),
        }
    }
}

/// Who a request acts for, and how it proved it.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub principal: Principal,
    /// "password" (a local session), "api_token" or "oidc".
    pub method: &'static str,
    /// The local session (refresh family) an access token belongs to.
    pub session: Option<String>,
    /// A local user who must change the password before anything else.
    pub must_change_password: bool,
}

pub struct Authenticator {
    pub store: Arc<IdentityStore>,
    pub oidc: Option<OidcVerifier>,
}

impl Authenticator {
    /// The principal of the value of an `Authorization` header.
    pub async fn authenticate(&self, header: Option<&str>) -> Result<Authenticated, AuthFailure> {
        let header = header.ok_or(AuthFailure::Missing)?;
        let (scheme, token) = header
            .trim()
            .split_once(' ')
            .ok_or(AuthFailure::Malformed("expected 'Bearer <token>'"))?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AuthFailure::Malformed("expected 'Bearer <token>'"));
        }
        let token = token.trim();
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthFailure::Malformed("the token is too long"));
        }
        if token.is_empty() {
            return Err(AuthFailure::Missing);
        }
        if token.starts_with(API_TOKEN_PREFIX) {
            let principal = self.store.api_token_principal(token)?;
            return Ok(Authenticated {
                principal,
                method: "api_token",
                session: None,
                must_change_password: false,
            });
        }
        // A JWT: which issuer to ask is read from the claims before any check; each issuer then
        // verifies with its own algorithms and keys only.
        let iss = jsonwebtoken::dangerous::insecure_decode_claims::<serde_json::Value>(token)
            .map_err(|_| AuthFailure::Malformed("not a JWT"))?["iss"]
            .as_str()
            .map(str::to_string)
            .ok_or(AuthFailure::Malformed("the token names no issuer"))?;
        if iss == self.store.issuer.issuer {
            let claims = self.store.issuer.verify(token).map_err(AuthFailure::from_jwt)?;
            let (principal, must_change) =
                self.store.session_principal(&claims.sub, &claims.sid)?;
            return Ok(Authenticated {
                principal,
                method: "password",
                session: Some(claims.sid),
                must_change_password: must_change,
            });
        }
        match &self.oidc {
            Some(oidc) if iss == oidc.issuer() => {
                let principal = oidc.verify(token).await?;
                Ok(Authenticated {
                    principal,
                    method: "oidc",
                    session: None,
                    must_change_password: false,
                })
            }
            _ => Err(AuthFailure::WrongIssuer),
        }
    }
}
