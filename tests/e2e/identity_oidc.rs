//! Bearer tokens of a real OpenID provider (node-oidc-provider, `tests/oidc/provider.mjs`):
//! Keycloak-shaped claims become roles, and every token a verifier must refuse is refused with a
//! 401 problem: expired, not yet valid, for another audience, from another issuer, under an
//! unknown key (the JWKS fetched again once, not per token), `alg: none`, HS256 keyed with the
//! RSA public key, garbage; a key rotation is picked up.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use acervo_tests::{ADMIN_PASSWORD, Server, bearer_client, client, text_asset, wait_searchable};
use anyhow::{Context, Result, bail, ensure};
use serde_json::{Value, json};

fn oidc_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc")
}

/// The provider process, and how many times its JWKS was fetched.
struct Provider {
    child: Child,
    jwks_fetches: Arc<AtomicUsize>,
    issuer: String,
    keys: PathBuf,
}

impl Provider {
    fn start(port: u16, generation: u32, keys: &Path) -> Result<Provider> {
        let mut child = Command::new("node")
            .current_dir(oidc_dir())
            .args(["provider.mjs", &port.to_string(), &generation.to_string()])
            .arg(keys)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("node tests/oidc/provider.mjs (npm packages from scripts/install-deps.sh)")?;
        let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
        match lines.next() {
            Some(Ok(l)) if l == "ready" => {}
            other => bail!("the OpenID provider did not start: {other:?}"),
        }
        let jwks_fetches = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&jwks_fetches);
        std::thread::spawn(move || {
            for l in lines.map_while(Result::ok) {
                if l == "jwks" {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        Ok(Provider {
            child,
            jwks_fetches,
            issuer: format!("http://127.0.0.1:{port}"),
            keys: keys.to_path_buf(),
        })
    }

    /// An access token from the token endpoint (client_credentials) for `client`.
    async fn token(&self, client_id: &str) -> Result<String> {
        let resp = client()
            .post(format!("{}/token", self.issuer))
            .basic_auth(client_id, Some(format!("{client_id}-secret")))
            .form(&[("grant_type", "client_credentials"), ("scope", "api")])
            .send()
            .await?;
        let status = resp.status();
        let body: Value = resp.json().await?;
        ensure!(status == 200, "token for {client_id}: {status} {body}");
        Ok(body["access_token"].as_str().context("no access_token")?.to_string())
    }

    /// A token signed (or forged) outside the provider.
    fn mint(&self, mode: &str, claims: Value) -> Result<String> {
        let out = Command::new("node")
            .current_dir(oidc_dir())
            .arg("mint.mjs")
            .arg(&self.keys)
            .args([mode, &claims.to_string()])
            .output()?;
        ensure!(out.status.success(), "mint {mode}: {}", String::from_utf8_lossy(&out.stderr));
        Ok(String::from_utf8(out.stdout)?.trim().to_string())
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn me(server: &Server, token: &str) -> Result<(u16, Value)> {
    let resp = bearer_client(token).get(server.url("/api/v1/auth/me")).send().await?;
    let code = resp.status().as_u16();
    Ok((code, resp.json().await.unwrap_or(Value::Null)))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn a_real_providers_tokens_give_roles_and_every_bad_token_is_refused() -> Result<()> {
    let work = tempfile::tempdir()?;
    let port = free_port()?;
    let keys = work.path().join("keys.json");
    let mut provider = Provider::start(port, 1, &keys)?;
    let issuer = provider.issuer.clone();
    let server = Server::start_with_auth(
        &work.path().join("home"),
        &[
            ("ACERVO_AUTH__OIDC__ISSUER", &issuer),
            ("ACERVO_AUTH__OIDC__AUDIENCE", "acervo"),
            ("ACERVO_AUTH__OIDC__CLIENT_ID", "acervo-web"),
            ("ACERVO_AUTH__OIDC__JWKS_REFETCH_SECONDS", "3"),
        ],
    )?;
    let (_, config) = acervo_tests::get_json(&client(), &server.url("/api/v1/auth/config")).await?;
    ensure!(config["oidc"] == json!({"issuer": issuer, "client_id": "acervo-web"}), "{config}");

    // The editor of deportes (a group) and an administrator (a realm role, ES256).
    let eva = provider.token("oidc-editor").await?;
    let (code, who) = me(&server, &eva).await?;
    ensure!(code == 200, "{code} {who}");
    ensure!(who["name"] == "eva" && who["method"] == "oidc", "{who}");
    ensure!(
        who["roles"] == json!([]) && who["projects"] == json!({"deportes": ["editor"]}),
        "{who}"
    );
    let olga = provider.token("oidc-admin").await?;
    let (code, who) = me(&server, &olga).await?;
    ensure!(code == 200 && who["roles"] == json!(["admin"]), "{code} {who}");
    ensure!(provider.jwks_fetches.load(Ordering::SeqCst) == 1, "the keys are cached");

    // Their roles decide what they see.
    let admin = acervo_tests::session(&server, "admin", ADMIN_PASSWORD).await?;
    let sport = text_asset(&admin, &server, "Derbi de la ciudad", "", "deportes").await?;
    let politics = text_asset(&admin, &server, "Derbi electoral", "", "politica").await?;
    wait_searchable(&admin, &server, "derbi", &politics, Duration::from_secs(30)).await?;
    wait_searchable(&admin, &server, "derbi", &sport, Duration::from_secs(30)).await?;
    let (_, r) =
        acervo_tests::get_json(&bearer_client(&eva), &server.url("/api/v1/search?q=derbi")).await?;
    ensure!(r["total"] == 1 && r["hits"][0]["asset"]["id"] == sport.as_str(), "{r}");
    let code = bearer_client(&eva).get(server.url("/api/v1/users")).send().await?.status();
    ensure!(code == 403, "an editor lists users: {code}");
    let code = bearer_client(&olga).get(server.url("/api/v1/users")).send().await?.status();
    ensure!(code == 200, "the realm admin lists users: {code}");

    // What a verifier must refuse.
    let good = |extra: Value| {
        let mut c = json!({"iss": issuer, "aud": "acervo", "sub": "mallory", "iat": now(), "exp": now() + 300,
                           "realm_access": {"roles": ["admin"]}});
        if let (Some(c), Some(e)) = (c.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                c.insert(k.clone(), v.clone());
            }
        }
        c
    };
    let signed = provider.mint("rs256", good(json!({})))?;
    ensure!(
        me(&server, &signed).await?.0 == 200,
        "a well-formed token signed with the provider's key"
    );
    let cases = [
        (
            "expired (beyond the skew)",
            provider.mint("rs256", good(json!({"exp": now() - 600})))?,
            "expired",
        ),
        (
            "not yet valid",
            provider.mint("es256", good(json!({"nbf": now() + 600})))?,
            "not valid yet",
        ),
        (
            "another audience",
            provider.mint("rs256", good(json!({"aud": "someone-else"})))?,
            "not meant for this service",
        ),
        (
            "another issuer",
            provider.mint("rs256", good(json!({"iss": "http://evil.example"})))?,
            "trusted issuer",
        ),
        ("alg none", provider.mint("none", good(json!({})))?, "algorithm"),
        (
            "HS256 keyed with the RSA public key",
            provider.mint("hs256-public", good(json!({})))?,
            "algorithm",
        ),
        ("garbage", "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln".to_string(), "malformed"),
    ];
    for (what, token, says) in &cases {
        let (code, body) = me(&server, token).await?;
        ensure!(code == 401, "{what}: {code} {body}");
        let detail = body["detail"].as_str().unwrap_or_default();
        ensure!(detail.contains(says), "{what}: {detail:?} does not say {says:?}");
    }

    // Unknown keys: fetched again at most once per interval (3 s here), however many such
    // tokens come: at most once in a burst (none if it falls in the interval of the last
    // fetch), and once in a burst after a quiet interval.
    let unknown = provider.mint("unknown-kid", good(json!({})))?;
    let burst = |expected: usize| {
        let (server, unknown, fetches) = (&server, &unknown, Arc::clone(&provider.jwks_fetches));
        async move {
            let before = fetches.load(Ordering::SeqCst);
            for _ in 0..5 {
                let (code, body) = me(server, unknown).await?;
                ensure!(code == 401, "an unknown kid: {code} {body}");
                let detail = body["detail"].as_str().unwrap_or_default();
                ensure!(detail.contains("key the issuer does not publish"), "{detail}");
            }
            let fetched = fetches.load(Ordering::SeqCst) - before;
            ensure!(
                fetched <= 1 && fetched >= expected,
                "five unknown kids fetched the keys {fetched} times (at least {expected}, at most once)"
            );
            anyhow::Ok(())
        }
    };
    burst(0).await?;
    tokio::time::sleep(Duration::from_millis(3100)).await;
    burst(1).await?;

    // A rotation: the provider restarts with new keys (new kids). New tokens work once the
    // refetch interval has passed; tokens under the old keys stop working.
    drop(provider);
    provider = Provider::start(port, 2, &keys)?;
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let rotated = provider.token("oidc-editor").await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (code, body) = me(&server, &rotated).await?;
        if code == 200 {
            break;
        }
        ensure!(Instant::now() < deadline, "a token under the rotated key: {code} {body}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (code, _) = me(&server, &eva).await?;
    ensure!(code == 401, "a token under the retired key: {code}");
    Ok(())
}
