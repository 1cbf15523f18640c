//! Accounts and sessions against a server with authentication on: the local login and its
//! token response, project-scoped roles in what users see and may change, refresh rotation
//! with reuse detection, logout, personal API tokens, disabled users, the login throttle, the
//! first administrator's one-time password, and the loopback rule.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use acervo_tests::{
    ADMIN_PASSWORD, Server, acervo_bin, bearer_client, client, login, session, wait_searchable,
};
use anyhow::{Context, Result, ensure};
use reqwest::header::AUTHORIZATION;
use serde_json::{Value, json};

async fn status_of(resp: reqwest::Response) -> Result<(u16, Value)> {
    let code = resp.status().as_u16();
    Ok((code, resp.json().await.unwrap_or(Value::Null)))
}

async fn post(
    c: &reqwest::Client,
    server: &Server,
    path: &str,
    body: Value,
) -> Result<(u16, Value)> {
    status_of(c.post(server.url(path)).json(&body).send().await?).await
}

async fn get(c: &reqwest::Client, server: &Server, path: &str) -> Result<(u16, Value)> {
    status_of(c.get(server.url(path)).send().await?).await
}

async fn note(
    c: &reqwest::Client,
    server: &Server,
    title: &str,
    project: &str,
) -> Result<(u16, Value)> {
    let form = reqwest::multipart::Form::new()
        .text("title", title.to_string())
        .text("project", project.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(
                format!("{title} {}", uuid::Uuid::now_v7()).into_bytes(),
            )
            .file_name("nota.txt"),
        );
    status_of(c.post(server.url("/api/v1/assets")).multipart(form).send().await?).await
}

/// An administrator's client and the users of two projects: ana edits in deportes, vic views
/// deportes, pat belongs nowhere.
async fn newsroom(server: &Server) -> Result<reqwest::Client> {
    let admin = session(server, "admin", ADMIN_PASSWORD).await?;
    for slug in ["deportes", "politica"] {
        let (code, body) = post(&admin, server, "/api/v1/projects", json!({"slug": slug})).await?;
        ensure!(code == 201, "project {slug}: {code} {body}");
    }
    for (name, role) in [("ana", Some("editor")), ("vic", Some("viewer")), ("pat", None)] {
        let (code, body) = post(
            &admin,
            server,
            "/api/v1/users",
            json!({"name": name, "password": format!("{name}-password-123"), "must_change_password": false}),
        )
        .await?;
        ensure!(code == 201, "user {name}: {code} {body}");
        if let Some(role) = role {
            let resp = admin
                .put(server.url(&format!("/api/v1/projects/deportes/members/{name}")))
                .json(&json!({"role": role}))
                .send()
                .await?;
            ensure!(resp.status() == 200, "membership of {name}: {}", resp.status());
        }
    }
    Ok(admin)
}

#[tokio::test]
async fn every_request_needs_a_token_and_a_bad_one_is_a_401_problem() -> Result<()> {
    let home = tempfile::tempdir()?;
    let server = Server::start_with_auth(home.path(), &[])?;
    let c = client();
    // Public: health, metrics, the API's description, how to log in.
    for path in ["/healthz", "/metrics", "/api/v1/openapi.json", "/api/v1/auth/config"] {
        let code = c.get(server.url(path)).send().await?.status().as_u16();
        ensure!(code == 200, "{path} answered {code}");
    }
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no header", None),
        ("a scheme alone", Some("Bearer".into())),
        ("basic auth", Some("Basic YWRtaW46eA==".into())),
        ("garbage", Some("Bearer not-a-token".into())),
        ("a forged API token", Some(format!("Bearer acvp_0192.{}", "A".repeat(43)))),
        ("an oversized token", Some(format!("Bearer {}", "a".repeat(20_000)))),
        (
            "alg none",
            Some("Bearer eyJhbGciOiJub25lIn0.eyJpc3MiOiJhY2Vydm8iLCJzdWIiOiJhZG1pbiJ9.".into()),
        ),
    ];
    for (what, header) in cases {
        let mut req = c.get(server.url("/api/v1/assets"));
        if let Some(h) = header {
            req = req.header(AUTHORIZATION, h);
        }
        let resp = req.send().await?;
        let code = resp.status().as_u16();
        let www =
            resp.headers().get("www-authenticate").map(|v| v.to_str().unwrap_or("").to_string());
        let ctype =
            resp.headers().get("content-type").map(|v| v.to_str().unwrap_or("").to_string());
        let body: Value = resp.json().await?;
        ensure!(code == 401, "{what}: {code} {body}");
        ensure!(ctype.as_deref() == Some("application/problem+json"), "{what}: {ctype:?}");
        ensure!(www.is_some_and(|w| w.starts_with("Bearer")), "{what}: no WWW-Authenticate");
        ensure!(body["status"] == 401 && body["detail"].is_string(), "{what}: {body}");
    }
    // The right password gives OAuth's token response; a wrong one a 401.
    let (code, body) = login(&server, "admin", ADMIN_PASSWORD).await?;
    ensure!(code == 200, "{code} {body}");
    ensure!(body["token_type"] == "Bearer" && body["expires_in"] == 600, "{body}");
    ensure!(body["refresh_token"].is_string(), "{body}");
    let (code, body) = login(&server, "admin", "wrong-password-1").await?;
    ensure!(code == 401 && body["detail"] == "wrong user name or password", "{code} {body}");
    let (code, _) = login(&server, "nobody", "wrong-password-1").await?;
    ensure!(code == 401, "an unknown user: {code}");
    Ok(())
}

#[tokio::test]
async fn roles_apply_in_their_projects_and_other_projects_stay_invisible() -> Result<()> {
    let home = tempfile::tempdir()?;
    let server = Server::start_with_auth(home.path(), &[])?;
    let admin = newsroom(&server).await?;
    let (code, body) = note(&admin, &server, "Final de copa en Sevilla", "deportes").await?;
    ensure!(code == 201, "{code} {body}");
    let sport = body["id"].as_str().context("id")?.to_string();
    let (code, body) = note(&admin, &server, "Debate de copa en el Congreso", "politica").await?;
    ensure!(code == 201, "{code} {body}");
    let politics = body["id"].as_str().context("id")?.to_string();
    wait_searchable(&admin, &server, "copa", &politics, Duration::from_secs(30)).await?;
    wait_searchable(&admin, &server, "copa", &sport, Duration::from_secs(30)).await?;

    let ana = session(&server, "ana", "ana-password-123").await?;
    let vic = session(&server, "vic", "vic-password-123").await?;
    let pat = session(&server, "pat", "pat-password-123").await?;

    // Search, its total and its facets hold deportes only; politica's asset is not found.
    let (code, r) = get(&ana, &server, "/api/v1/search?q=copa").await?;
    ensure!(code == 200, "{code} {r}");
    let ids: Vec<&str> = r["hits"]
        .as_array()
        .context("hits")?
        .iter()
        .filter_map(|h| h["asset"]["id"].as_str())
        .collect();
    ensure!(ids == [sport.as_str()], "ana sees {ids:?}");
    ensure!(r["total"] == 1 && r["facets"]["project"] == json!({"deportes": 1}), "{r}");
    let (code, _) = get(&ana, &server, &format!("/api/v1/assets/{politics}")).await?;
    ensure!(code == 404, "another project's asset answered {code}");
    let (code, list) = get(&ana, &server, "/api/v1/assets").await?;
    ensure!(code == 200 && list["total"] == 1, "{code} {list}");
    // Nobody's member sees nothing, not even a count.
    let (code, r) = get(&pat, &server, "/api/v1/search?q=copa").await?;
    ensure!(code == 200 && r["total"] == 0 && r["hits"] == json!([]), "{code} {r}");

    // An editor changes and uploads in the project; not elsewhere.
    let patch = |c: &reqwest::Client, id: &str| {
        c.patch(server.url(&format!("/api/v1/assets/{id}"))).json(&json!({"title": "Otra"})).send()
    };
    ensure!(patch(&ana, &sport).await?.status() == 200, "ana edits deportes");
    ensure!(patch(&ana, &politics).await?.status() == 404, "ana cannot see politica");
    let (code, _) = note(&ana, &server, "Crónica", "deportes").await?;
    ensure!(code == 201, "ana uploads to deportes: {code}");
    let (code, body) = note(&ana, &server, "Crónica", "politica").await?;
    ensure!(code == 403, "ana uploads to politica: {code} {body}");
    // A viewer reads published assets but does not change them, and cannot upload at all.
    acervo_tests::publish(&admin, &server, &sport).await?;
    let (code, _) = get(&vic, &server, &format!("/api/v1/assets/{sport}")).await?;
    ensure!(code == 200, "vic reads deportes: {code}");
    let resp = patch(&vic, &sport).await?;
    ensure!(resp.status() == 403, "vic edits: {}", resp.status());
    let (code, body) = note(&vic, &server, "Crónica", "deportes").await?;
    ensure!(code == 403, "vic uploads: {code} {body}");
    // Administration, SQL over every project and reindexing are not theirs.
    for c in [&ana, &vic] {
        let (code, _) = get(c, &server, "/api/v1/users").await?;
        ensure!(code == 403, "users: {code}");
        let (code, _) =
            post(c, &server, "/api/v1/sql", json!({"query": "SELECT count(*) FROM assets"}))
                .await?;
        ensure!(code == 403, "sql: {code}");
        let (code, _) = post(c, &server, "/api/v1/reindex", json!({"stage": "enrich"})).await?;
        ensure!(code == 403, "reindex: {code}");
    }
    // Each sees their own projects and record, and no one else's.
    let (_, projects) = get(&ana, &server, "/api/v1/projects").await?;
    ensure!(
        projects.as_array().map(Vec::len) == Some(1) && projects[0]["slug"] == "deportes",
        "{projects}"
    );
    ensure!(projects[0]["members"] == json!([{"user": "ana", "role": "editor"}]), "{projects}");
    let (code, me) = get(&ana, &server, "/api/v1/auth/me").await?;
    ensure!(code == 200 && me["projects"] == json!({"deportes": ["editor"]}), "{me}");
    let (code, _) = get(&ana, &server, "/api/v1/users/vic").await?;
    ensure!(code == 404, "another user's record: {code}");
    // The administrator sees both projects.
    let (_, r) = get(&admin, &server, "/api/v1/search?q=copa").await?;
    ensure!(r["facets"]["project"]["politica"] == 1, "{r}");
    Ok(())
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_its_login() -> Result<()> {
    let home = tempfile::tempdir()?;
    let server = Server::start_with_auth(home.path(), &[])?;
    newsroom(&server).await?;
    let (_, first) = login(&server, "ana", "ana-password-123").await?;
    let c = client();
    let (code, second) =
        post(&c, &server, "/api/v1/auth/refresh", json!({"refresh_token": first["refresh_token"]}))
            .await?;
    ensure!(code == 200 && second["refresh_token"] != first["refresh_token"], "{code} {second}");
    let fresh = bearer_client(second["access_token"].as_str().context("access")?);
    ensure!(get(&fresh, &server, "/api/v1/auth/me").await?.0 == 200);
    // The spent token again (a thief's copy): refused, and the whole login ends.
    let (code, body) =
        post(&c, &server, "/api/v1/auth/refresh", json!({"refresh_token": first["refresh_token"]}))
            .await?;
    ensure!(code == 401, "a reused refresh token: {code} {body}");
    let (code, _) = post(
        &c,
        &server,
        "/api/v1/auth/refresh",
        json!({"refresh_token": second["refresh_token"]}),
    )
    .await?;
    ensure!(code == 401, "the family's live refresh token after the reuse: {code}");
    ensure!(
        get(&fresh, &server, "/api/v1/auth/me").await?.0 == 401,
        "its access token after the reuse"
    );
    // Another login of the same user is untouched; its logout ends it.
    let other = session(&server, "ana", "ana-password-123").await?;
    ensure!(get(&other, &server, "/api/v1/auth/me").await?.0 == 200);
    let resp = other.post(server.url("/api/v1/auth/logout")).send().await?;
    ensure!(resp.status() == 204, "logout: {}", resp.status());
    ensure!(get(&other, &server, "/api/v1/auth/me").await?.0 == 401, "after logout");
    Ok(())
}

#[tokio::test]
async fn personal_tokens_work_until_revoked_and_a_disabled_user_is_shut_out() -> Result<()> {
    let home = tempfile::tempdir()?;
    let server = Server::start_with_auth(home.path(), &[])?;
    let admin = newsroom(&server).await?;
    let ana = session(&server, "ana", "ana-password-123").await?;
    let (code, created) =
        post(&ana, &server, "/api/v1/auth/tokens", json!({"name": "nightly export"})).await?;
    ensure!(code == 201, "{code} {created}");
    let token = created["token"].as_str().context("token")?;
    ensure!(token.starts_with("acvp_"), "{token}");
    let script = bearer_client(token);
    let (code, me) = get(&script, &server, "/api/v1/auth/me").await?;
    ensure!(code == 200 && me["name"] == "ana" && me["method"] == "api_token", "{me}");
    // Listed without the secret; revoked, it stops working.
    let (_, list) = get(&ana, &server, "/api/v1/auth/tokens").await?;
    ensure!(list.as_array().map(Vec::len) == Some(1) && list[0].get("token").is_none(), "{list}");
    let id = created["id"].as_str().context("id")?;
    ensure!(
        ana.delete(server.url(&format!("/api/v1/auth/tokens/{id}"))).send().await?.status() == 204
    );
    ensure!(get(&script, &server, "/api/v1/auth/me").await?.0 == 401, "a revoked token");
    // An expiry in the past is refused.
    let (code, _) = post(
        &ana,
        &server,
        "/api/v1/auth/tokens",
        json!({"name": "x", "expires_at": "2020-01-01T00:00:00Z"}),
    )
    .await?;
    ensure!(code == 422, "an expired token: {code}");

    // Disabled: the live session and a new login are refused; enabled again, a login works.
    let (code, _) = post(&ana, &server, "/api/v1/auth/tokens", json!({"name": "second"})).await?;
    ensure!(code == 201);
    let resp = admin
        .patch(server.url("/api/v1/users/ana"))
        .json(&json!({"disabled": true}))
        .send()
        .await?;
    ensure!(resp.status() == 200, "disable: {}", resp.status());
    let (code, body) = get(&ana, &server, "/api/v1/auth/me").await?;
    ensure!(code == 401 || code == 403, "a disabled user's session: {code} {body}");
    let (code, body) = login(&server, "ana", "ana-password-123").await?;
    ensure!(code == 403, "a disabled user's login: {code} {body}");
    let resp = admin
        .patch(server.url("/api/v1/users/ana"))
        .json(&json!({"disabled": false}))
        .send()
        .await?;
    ensure!(resp.status() == 200);
    ensure!(login(&server, "ana", "ana-password-123").await?.0 == 200);
    // An administrator cannot lock themself out.
    let resp = admin
        .patch(server.url("/api/v1/users/admin"))
        .json(&json!({"disabled": true}))
        .send()
        .await?;
    ensure!(resp.status() == 422, "self-disable: {}", resp.status());
    Ok(())
}

#[tokio::test]
async fn repeated_failed_logins_wait_even_with_the_right_password() -> Result<()> {
    let home = tempfile::tempdir()?;
    let server =
        Server::start_with_auth(home.path(), &[("ACERVO_AUTH__LOGIN_ATTEMPTS_PER_MINUTE", "3")])?;
    newsroom(&server).await?;
    for _ in 0..3 {
        ensure!(login(&server, "vic", "guess-password-1").await?.0 == 401);
    }
    let (code, body) = login(&server, "vic", "vic-password-123").await?;
    ensure!(code == 429, "the fourth try: {code} {body}");
    ensure!(
        body["detail"].as_str().is_some_and(|d| d.contains("too many failed logins")),
        "{body}"
    );
    // Other users (from the same address) still sign in.
    ensure!(login(&server, "ana", "ana-password-123").await?.0 == 200);
    Ok(())
}

#[tokio::test]
async fn the_first_start_makes_a_one_time_admin_password_that_must_be_changed() -> Result<()> {
    let home = tempfile::tempdir()?;
    let server = Server::start_with_auth(home.path(), &[("ACERVO_ADMIN_PASSWORD", "")])?;
    let file = home.path().join("identity/initial-admin-password");
    let mode = std::fs::metadata(&file)?.permissions().mode();
    ensure!(mode & 0o777 == 0o600, "the password file is {:o}", mode & 0o777);
    let first = std::fs::read_to_string(&file)?.trim().to_string();
    ensure!(first.len() == 20, "{first:?}");
    // It signs in, but only to change it.
    let (code, body) = login(&server, "admin", &first).await?;
    ensure!(code == 200 && body["must_change_password"] == true, "{code} {body}");
    let admin = bearer_client(body["access_token"].as_str().context("access")?);
    let (code, body) = get(&admin, &server, "/api/v1/assets").await?;
    ensure!(code == 403, "before the change: {code} {body}");
    let resp = admin
        .put(server.url("/api/v1/auth/password"))
        .json(&json!({"current_password": first, "new_password": "short"}))
        .send()
        .await?;
    ensure!(resp.status() == 422, "a short password: {}", resp.status());
    let resp = admin
        .put(server.url("/api/v1/auth/password"))
        .json(&json!({"current_password": first, "new_password": "my own admin password"}))
        .send()
        .await?;
    ensure!(resp.status() == 204, "the change: {}", resp.status());
    ensure!(!file.exists(), "the one-time password's file outlives it");
    ensure!(get(&admin, &server, "/api/v1/assets").await?.0 == 200, "after the change");
    // The one-time password worked once; the new one works.
    ensure!(login(&server, "admin", &first).await?.0 == 401);
    ensure!(login(&server, "admin", "my own admin password").await?.0 == 200);
    Ok(())
}

#[test]
fn serving_without_authentication_is_refused_off_loopback() -> Result<()> {
    let home = tempfile::tempdir()?;
    let out = std::process::Command::new(acervo_bin())
        .args(["serve", "--addr", "0.0.0.0:0", "--home"])
        .arg(home.path())
        .env("ACERVO_AUTH__DISABLED", "true")
        .env("ACERVO_LOG", "error")
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(!out.status.success(), "it served: {stderr}");
    ensure!(stderr.contains("loopback") && stderr.contains("0.0.0.0:0"), "{stderr}");
    ensure!(stderr.trim().lines().count() == 1, "not one line: {stderr}");
    Ok(())
}

/// Runs the CLI with its own config folder (where `acervo login` keeps the session) and `stdin`.
fn cli(
    config: &std::path::Path,
    env: &[(&str, &str)],
    stdin: &str,
    args: &[&str],
) -> Result<(i32, String, String)> {
    use std::io::Write;
    let mut cmd = std::process::Command::new(acervo_bin());
    cmd.args(args)
        .env("XDG_CONFIG_HOME", config)
        .env("ACERVO_LOG", "error")
        .env_remove("ACERVO_TOKEN")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn()?;
    if let Some(mut i) = child.stdin.take() {
        i.write_all(stdin.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    ))
}

#[tokio::test]
async fn the_cli_logs_in_keeps_its_session_and_administers() -> Result<()> {
    let home = tempfile::tempdir()?;
    let config = tempfile::tempdir()?;
    let server = Server::start_with_auth(home.path(), &[])?;
    let s = server.base.as_str();
    // Without a session the server refuses, in one line.
    let (code, _, err) = cli(config.path(), &[], "", &["search", "--server", s, "x"])?;
    ensure!(code != 0 && err.trim().lines().count() == 1, "{code} {err}");
    ensure!(err.contains("Bearer token"), "{err}");
    let (code, _, err) = cli(config.path(), &[], "wrong-password\n", &["login", "--server", s])?;
    ensure!(code != 0 && err.contains("wrong user name or password"), "{code} {err}");
    let (code, out, err) =
        cli(config.path(), &[], &format!("{ADMIN_PASSWORD}\n"), &["login", "--server", s])?;
    ensure!(code == 0 && out.contains("logged in"), "{code} {out} {err}");
    let file = config.path().join("acervo/session.json");
    ensure!(std::fs::metadata(&file)?.permissions().mode() & 0o777 == 0o600, "session file mode");
    // Administration through the session.
    for args in [
        vec!["project", "add", "deportes", "--server", s],
        vec!["user", "add", "ana", "--keep-password", "--server", s],
        vec!["project", "member", "deportes", "ana", "editor", "--server", s],
    ] {
        let (code, out, err) =
            cli(config.path(), &[("ACERVO_NEW_PASSWORD", "ana-password-123")], "", &args)?;
        ensure!(code == 0, "{args:?}: {out} {err}");
    }
    let (_, out, _) = cli(config.path(), &[], "", &["user", "list", "--server", s])?;
    ensure!(out.lines().any(|l| l.starts_with("ana\t") && l.contains("deportes:editor")), "{out}");
    let (code, out, err) = cli(config.path(), &[], "", &["search", "--server", s, "x"])?;
    ensure!(code == 0, "search with the session: {out} {err}");
    // A personal token works without a session; after logout the session does not.
    let ana = session(&server, "ana", "ana-password-123").await?;
    let (_, created) = post(&ana, &server, "/api/v1/auth/tokens", json!({"name": "cli"})).await?;
    let token = created["token"].as_str().context("token")?;
    let empty = tempfile::tempdir()?;
    let (code, out, err) =
        cli(empty.path(), &[("ACERVO_TOKEN", token)], "", &["search", "--server", s, "x"])?;
    ensure!(code == 0, "search with ACERVO_TOKEN: {out} {err}");
    let (code, _, err) =
        cli(empty.path(), &[("ACERVO_TOKEN", token)], "", &["user", "list", "--server", s])?;
    ensure!(code != 0 && err.contains("only an administrator"), "an editor lists users: {err}");
    let (code, _, _) = cli(config.path(), &[], "", &["logout", "--server", s])?;
    ensure!(code == 0);
    let (code, _, err) = cli(config.path(), &[], "", &["search", "--server", s, "x"])?;
    ensure!(code != 0 && err.contains("Bearer token"), "after logout: {err}");
    Ok(())
}

#[tokio::test]
async fn requests_over_a_principals_or_an_addresss_rate_are_429_with_retry_after() -> Result<()> {
    let home = tempfile::tempdir()?;
    let server =
        Server::start_with_auth(home.path(), &[("ACERVO_HTTP__RATE_PER_PRINCIPAL", "20")])?;
    newsroom(&server).await?;
    let ana = session(&server, "ana", "ana-password-123").await?;
    let vic = session(&server, "vic", "vic-password-123").await?;
    let mut limited = None;
    for _ in 0..100 {
        let resp = ana.get(server.url("/api/v1/auth/me")).send().await?;
        if resp.status() == 429 {
            limited = Some(resp);
            break;
        }
    }
    let resp = limited.context("100 requests at once were never limited at 20 per second")?;
    let retry: u64 = resp.headers()["retry-after"].to_str()?.parse()?;
    ensure!((1..=2).contains(&retry), "Retry-After {retry}");
    let body: Value = resp.json().await?;
    ensure!(
        body["status"] == 429 && body["detail"].as_str().is_some_and(|d| d.contains("ana")),
        "{body}"
    );
    // Another principal has a bucket of its own; ana's refills.
    ensure!(get(&vic, &server, "/api/v1/auth/me").await?.0 == 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    ensure!(get(&ana, &server, "/api/v1/auth/me").await?.0 == 200);
    drop(server);

    let home = tempfile::tempdir()?;
    let server = Server::start_with_auth(home.path(), &[("ACERVO_HTTP__RATE_PER_ADDRESS", "5")])?;
    let mut codes = Vec::new();
    for _ in 0..30 {
        codes.push(client().get(server.url("/api/v1/assets")).send().await?.status().as_u16());
    }
    ensure!(
        codes.contains(&401) && codes.contains(&429),
        "unauthenticated guesses from one address: {codes:?}"
    );
    Ok(())
}

#[tokio::test]
async fn guessing_the_current_password_with_a_session_is_throttled_like_a_login() -> Result<()> {
    let home = tempfile::tempdir()?;
    let server =
        Server::start_with_auth(home.path(), &[("ACERVO_AUTH__LOGIN_ATTEMPTS_PER_MINUTE", "3")])?;
    newsroom(&server).await?;
    let ana = session(&server, "ana", "ana-password-123").await?;
    let change = |current: &str| {
        ana.put(server.url("/api/v1/auth/password"))
            .json(&json!({"current_password": current, "new_password": "a brand new password"}))
            .send()
    };
    for _ in 0..3 {
        ensure!(change("a-guess-123").await?.status() == 401);
    }
    let resp = change("ana-password-123").await?;
    ensure!(resp.status() == 429, "the right password after three guesses: {}", resp.status());
    Ok(())
}
