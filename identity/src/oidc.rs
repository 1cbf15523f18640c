//! Bearer tokens of an OpenID provider: the discovery document names the JWKS; keys are cached
//! by `kid` and fetched again for an unknown `kid` at most once a minute by default (a rotation
//! is picked up, a flood of made-up `kid`s is not a flood of fetches). Only RS256 and ES256 are accepted, each
//! with a key of its own type, so `alg: none` and an HS256 token signed with the public RSA key
//! are refused before any signature check. Roles come from configurable claims, by default
//! Keycloak's: realm roles apply everywhere, a group `/projects/{slug}/{role}` grants that role
//! in that project.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use acervo_catalog::config::OidcConfig;
use acervo_catalog::{Principal, Role};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::authenticator::AuthFailure;

pub struct OidcVerifier {
    config: OidcConfig,
    http: reqwest::Client,
    keys: tokio::sync::RwLock<HashMap<String, Jwk>>,
    /// When the JWKS was last fetched, and its address (from the discovery document).
    fetched: tokio::sync::Mutex<(Option<Instant>, Option<String>)>,
}

impl OidcVerifier {
    pub fn new(config: OidcConfig) -> OidcVerifier {
        let http =
            reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
        OidcVerifier { config, http, keys: Default::default(), fetched: Default::default() }
    }

    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    pub fn client_id(&self) -> &str {
        &self.config.client_id
    }

    async fn get_json(&self, url: &str) -> Result<Value, AuthFailure> {
        let unavailable = |e: reqwest::Error| AuthFailure::Unavailable(format!("{url}: {e}"));
        let resp = self.http.get(url).send().await.map_err(unavailable)?;
        if !resp.status().is_success() {
            return Err(AuthFailure::Unavailable(format!("{url} answered {}", resp.status())));
        }
        resp.json().await.map_err(unavailable)
    }

    /// Fetches the JWKS again, unless that was done less than a minute ago.
    async fn refetch(&self) -> Result<(), AuthFailure> {
        let mut fetched = self.fetched.lock().await;
        let every = Duration::from_secs(self.config.jwks_refetch_seconds);
        if fetched.0.is_some_and(|t| t.elapsed() < every) {
            return Ok(());
        }
        fetched.0 = Some(Instant::now());
        let jwks_uri = match &fetched.1 {
            Some(u) => u.clone(),
            None => {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    self.config.issuer.trim_end_matches('/')
                );
                let doc = self.get_json(&url).await?;
                if doc["issuer"].as_str() != Some(self.config.issuer.as_str()) {
                    return Err(AuthFailure::Unavailable(format!(
                        "{url} names the issuer {}, not {}",
                        doc["issuer"], self.config.issuer
                    )));
                }
                let uri = doc["jwks_uri"]
                    .as_str()
                    .ok_or_else(|| AuthFailure::Unavailable(format!("{url} has no jwks_uri")))?
                    .to_string();
                fetched.1 = Some(uri.clone());
                uri
            }
        };
        let set: JwkSet = serde_json::from_value(self.get_json(&jwks_uri).await?)
            .map_err(|e| AuthFailure::Unavailable(format!("{jwks_uri} is not a JWK set: {e}")))?;
        let keys: HashMap<String, Jwk> =
            set.keys.into_iter().filter_map(|k| Some((k.common.key_id.clone()?, k))).collect();
        tracing::info!(keys = keys.len(), %jwks_uri, "OpenID provider keys fetched");
        *self.keys.write().await = keys;
        Ok(())
    }

    async fn key(&self, kid: &str) -> Result<Jwk, AuthFailure> {
        if let Some(k) = self.keys.read().await.get(kid) {
            return Ok(k.clone());
        }
        self.refetch().await?;
        self.keys.read().await.get(kid).cloned().ok_or(AuthFailure::UnknownKey)
    }

    /// The principal of a valid token of this provider.
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthFailure> {
        // The algorithm is read from the raw header first: `none` is no algorithm the JWT
        // library parses, and it must be refused as what it is.
        let alg = raw_alg(token).ok_or(AuthFailure::Malformed("not a JWT"))?;
        if alg != "RS256" && alg != "ES256" {
            return Err(AuthFailure::AlgorithmRefused(alg));
        }
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| AuthFailure::Malformed("not a JWT"))?;
        let kid =
            header.kid.as_deref().ok_or(AuthFailure::Malformed("the token names no key (kid)"))?;
        let jwk = self.key(kid).await?;
        let fits = match (&jwk.algorithm, header.alg) {
            (AlgorithmParameters::RSA(_), Algorithm::RS256) => true,
            (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => {
                ec.curve == EllipticCurve::P256
            }
            _ => false,
        };
        let declared = jwk.common.key_algorithm.map(|a| format!("{a:?}"));
        if !fits || declared.is_some_and(|a| a != format!("{:?}", header.alg)) {
            return Err(AuthFailure::AlgorithmRefused(format!("{:?} with key {kid}", header.alg)));
        }
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| AuthFailure::UnknownKey)?;
        let mut v = Validation::new(header.alg);
        v.set_issuer(&[&self.config.issuer]);
        v.set_audience(&[&self.config.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        v.validate_nbf = true;
        v.leeway = self.config.clock_skew_seconds;
        let claims =
            jsonwebtoken::decode::<Value>(token, &key, &v).map_err(AuthFailure::from_jwt)?.claims;
        Ok(claims_to_principal(&claims, &self.config))
    }
}

/// The `alg` of a JWT's header, unverified.
fn raw_alg(token: &str) -> Option<String> {
    use base64::Engine;
    let header = token.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice::<Value>(&bytes).ok()?["alg"].as_str().map(str::to_string)
}

/// The value at a dotted path (`realm_access.roles`).
fn at<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(claims, |v, k| v.get(k))
}

/// The principal a provider's claims describe. Roles Acervo does not know are ignored (a realm
/// has roles for other applications).
pub fn claims_to_principal(claims: &Value, config: &OidcConfig) -> Principal {
    let name = claims["preferred_username"]
        .as_str()
        .or_else(|| claims["sub"].as_str())
        .unwrap_or("unknown")
        .to_string();
    let strings = |path: &str| -> Vec<String> {
        at(claims, path)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    let mut roles: Vec<Role> =
        strings(&config.roles_claim).iter().filter_map(|r| r.parse().ok()).collect();
    roles.sort();
    roles.dedup();
    let mut project_roles: BTreeMap<String, Vec<Role>> = BTreeMap::new();
    for g in strings(&config.groups_claim) {
        let parts: Vec<&str> = g.trim_start_matches('/').split('/').collect();
        if let ["projects", slug, role] = parts.as_slice()
            && let (Ok(slug), Ok(role)) =
                (slug.parse::<acervo_catalog::ProjectSlug>(), role.parse::<Role>())
        {
            let rs = project_roles.entry(slug.as_str().to_string()).or_default();
            if !rs.contains(&role) {
                rs.push(role);
            }
        }
    }
    Principal { name, roles, project_roles }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> OidcConfig {
        OidcConfig {
            issuer: "http://idp".into(),
            audience: "acervo".into(),
            client_id: "acervo-web".into(),
            roles_claim: "realm_access.roles".into(),
            groups_claim: "groups".into(),
            clock_skew_seconds: 30,
            jwks_refetch_seconds: 60,
        }
    }

    #[test]
    fn keycloak_claims_give_realm_roles_and_project_groups() {
        let claims = serde_json::json!({
            "sub": "f3a1", "preferred_username": "ana",
            "realm_access": {"roles": ["editor", "offline_access", "uma_authorization"]},
            "groups": ["/projects/deportes/producer", "projects/politica/viewer", "/staff",
                       "/projects/Bad Slug/editor", "/projects/cultura/chief"]
        });
        let p = claims_to_principal(&claims, &config());
        assert_eq!(p.name, "ana");
        assert_eq!(p.roles, vec![Role::Editor]);
        assert_eq!(
            p.project_roles,
            BTreeMap::from([
                ("deportes".to_string(), vec![Role::Producer]),
                ("politica".to_string(), vec![Role::Viewer]),
            ])
        );
    }

    #[test]
    fn claims_without_roles_give_a_principal_who_sees_nothing() {
        let p =
            claims_to_principal(&serde_json::json!({"sub": "svc", "realm_access": "x"}), &config());
        assert_eq!(p.name, "svc");
        assert!(p.roles.is_empty() && p.project_roles.is_empty());
        assert!(!p.can_see_project("deportes"));
    }

    #[test]
    fn the_claim_paths_are_configurable() {
        let c = OidcConfig {
            roles_claim: "acervo.roles".into(),
            groups_claim: "teams".into(),
            ..config()
        };
        let claims = serde_json::json!({"sub": "x", "acervo": {"roles": ["admin"]}, "teams": ["/projects/a/editor"]});
        let p = claims_to_principal(&claims, &c);
        assert_eq!(p.roles, vec![Role::Admin]);
        assert_eq!(p.project_roles["a"], vec![Role::Editor]);
    }
}
