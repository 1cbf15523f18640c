//! The CLI's sessions with servers: `acervo login` signs in and keeps the tokens, per server, in
//! `$XDG_CONFIG_HOME/acervo/session.json` (0600); every command that talks to a server sends the
//! access token, refreshing it when it is about to expire. `ACERVO_TOKEN` (a personal API token)
//! takes precedence, for scripts. `acervo logout` ends the session.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Clone, Serialize, Deserialize)]
struct Tokens {
    access_token: String,
    refresh_token: String,
    /// Unix seconds.
    expires_at: i64,
}

fn sessions_path() -> anyhow::Result<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .context("neither XDG_CONFIG_HOME nor HOME is set: nowhere to keep the session")?;
    Ok(base.join("acervo").join("session.json"))
}

fn load() -> anyhow::Result<BTreeMap<String, Tokens>> {
    let path = sessions_path()?;
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a session file", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn save(sessions: &BTreeMap<String, Tokens>) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = sessions_path()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(&serde_json::to_vec_pretty(sessions)?)?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))
}

fn key(server: &str) -> String {
    server.trim_end_matches('/').to_string()
}

/// The detail of a problem response, or the raw body.
pub fn problem_detail(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["detail"].as_str().map(str::to_string))
        .unwrap_or_else(|| body.to_string())
}

async fn token_request(server: &str, path: &str, body: Value) -> anyhow::Result<Tokens> {
    let url = format!("{}{path}", key(server));
    let resp = reqwest::Client::new()
        .post(&url)
        .json(&body)
        .send()
        .await
        .with_context(|| format!("cannot reach the server at {}", key(server)))?;
    let status = resp.status();
    let text = resp.text().await?;
    anyhow::ensure!(status.is_success(), "{}", problem_detail(&text));
    let v: Value = serde_json::from_str(&text).context("the server's answer is not JSON")?;
    let (Some(access), Some(refresh), Some(expires_in)) =
        (v["access_token"].as_str(), v["refresh_token"].as_str(), v["expires_in"].as_i64())
    else {
        anyhow::bail!("the server's answer has no tokens");
    };
    if v["must_change_password"] == true {
        eprintln!(
            "acervo: your password was set for you: change it (PUT /api/v1/auth/password) before anything else"
        );
    }
    Ok(Tokens {
        access_token: access.to_string(),
        refresh_token: refresh.to_string(),
        expires_at: chrono::Utc::now().timestamp() + expires_in,
    })
}

/// Reads a password: one line of stdin when it is not a terminal (scripts), otherwise a prompt
/// on the terminal with echo off.
pub fn read_password(prompt: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let mut line = String::new();
    // SAFETY: isatty, tcgetattr and tcsetattr read and write a termios struct we own, for fd 0.
    let terminal = unsafe { libc::isatty(0) == 1 };
    if !terminal {
        stdin.lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\n', '\r']).to_string());
    }
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    let mut term: libc::termios = unsafe { std::mem::zeroed() };
    let got = unsafe { libc::tcgetattr(0, &mut term) } == 0;
    let saved = term;
    if got {
        term.c_lflag &= !libc::ECHO;
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &term) };
    }
    let read = stdin.lock().read_line(&mut line);
    if got {
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &saved) };
    }
    eprintln!();
    read?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

pub async fn login(server: &str, user: &str) -> anyhow::Result<()> {
    let password = match std::env::var("ACERVO_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => read_password(&format!("password for {user} at {}: ", key(server)))?,
    };
    let tokens = token_request(
        server,
        "/api/v1/auth/login",
        json!({"username": user, "password": password}),
    )
    .await?;
    let mut sessions = load()?;
    sessions.insert(key(server), tokens);
    save(&sessions)?;
    println!("logged in to {} as {user}", key(server));
    Ok(())
}

pub async fn logout(server: &str) -> anyhow::Result<()> {
    let mut sessions = load()?;
    if let Some(t) = sessions.remove(&key(server)) {
        // The server ends the session; the local copy goes either way.
        let _ = reqwest::Client::new()
            .post(format!("{}/api/v1/auth/logout", key(server)))
            .bearer_auth(&t.access_token)
            .send()
            .await;
        save(&sessions)?;
        println!("logged out of {}", key(server));
    } else {
        println!("not logged in to {}", key(server));
    }
    Ok(())
}

/// A client that authenticates to `server`: `ACERVO_TOKEN`, else the kept session (refreshed
/// when it expires within a minute), else none (a server without authentication).
pub async fn client_for(server: &str) -> anyhow::Result<reqwest::Client> {
    let token = match std::env::var("ACERVO_TOKEN") {
        Ok(t) if !t.is_empty() => Some(t),
        _ => {
            let mut sessions = load()?;
            match sessions.get(&key(server)).cloned() {
                None => None,
                Some(t) if t.expires_at - 60 > chrono::Utc::now().timestamp() => {
                    Some(t.access_token)
                }
                Some(t) => {
                    let fresh = token_request(
                        server,
                        "/api/v1/auth/refresh",
                        json!({"refresh_token": t.refresh_token}),
                    )
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "the session with {} has ended ({e}): run acervo login",
                            key(server)
                        )
                    })?;
                    let access = fresh.access_token.clone();
                    sessions.insert(key(server), fresh);
                    save(&sessions)?;
                    Some(access)
                }
            }
        }
    };
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(t) = token {
        let value = reqwest::header::HeaderValue::from_str(&format!("Bearer {t}"))
            .context("the token is not valid in an HTTP header")?;
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    Ok(reqwest::Client::builder().default_headers(headers).build()?)
}

/// POSTs `body` as JSON to `path` of `server` with the caller's credentials; the JSON answer,
/// or one line saying what failed (`what`) and the problem's detail.
pub async fn post_json(
    server: &str,
    path: &str,
    body: &Value,
    what: &str,
) -> anyhow::Result<Value> {
    let url = format!("{}{path}", server.trim_end_matches('/'));
    let resp = client_for(server)
        .await?
        .post(&url)
        .json(body)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach {url}: {e}"))?;
    let status = resp.status();
    let value: Value = resp
        .json()
        .await
        .map_err(|e| anyhow::anyhow!("{url} answered {status} without JSON: {e}"))?;
    if !status.is_success() {
        let detail = value.get("detail").and_then(Value::as_str).unwrap_or("no detail");
        anyhow::bail!("{what} failed ({status}): {detail}");
    }
    Ok(value)
}
