//! HTTPS in the embedded mode, through a real client (curl) trusting the test's own certificate;
//! a certificate without its key is refused at the start in one line. And a catalog from before
//! accounts (assets owned by the built-in `local-admin`, projects only named by assets) opens
//! with its projects created and its assets the administrator's.

use std::process::Command;

use acervo_tests::{ADMIN_PASSWORD, Server, acervo_bin, bearer_client, get_json, login};
use anyhow::{Context, Result, ensure};
use serde_json::Value;

/// curl with the test's CA; returns (HTTP status, body). Status 0: no HTTP answer at all.
fn curl(ca: &std::path::Path, args: &[&str]) -> Result<(u16, String)> {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--cacert"])
        .arg(ca)
        .args(["-w", "\n%{http_code}"])
        .args(args)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    Ok((code.trim().parse().unwrap_or(0), body.to_string()))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_embedded_server_speaks_https_with_its_certificate() -> Result<()> {
    let home = tempfile::tempdir()?;
    let (cert, key) = (home.path().join("cert.pem"), home.path().join("key.pem"));
    let st = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ])
        .args([
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()?;
    ensure!(st.status.success(), "openssl: {}", String::from_utf8_lossy(&st.stderr));

    // A certificate without its key: refused at the start.
    let out = Command::new(acervo_bin())
        .args(["serve", "--addr", "127.0.0.1:0", "--home"])
        .arg(home.path().join("refused"))
        .env("ACERVO_HTTP__TLS_CERT", &cert)
        .env("ACERVO_LOG", "error")
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(!out.status.success() && stderr.trim().lines().count() == 1, "{stderr}");
    ensure!(stderr.contains("tls_key"), "{stderr}");

    let (c, k) = (cert.display().to_string(), key.display().to_string());
    let server = Server::start_with_auth(
        &home.path().join("data"),
        &[("ACERVO_HTTP__TLS_CERT", c.as_str()), ("ACERVO_HTTP__TLS_KEY", k.as_str())],
    )?;
    ensure!(server.base.starts_with("https://127.0.0.1:"), "{}", server.base);
    let (code, _) = curl(&cert, &[&server.url("/healthz")])?;
    ensure!(code == 200, "healthz over https: {code}");
    let body = format!(r#"{{"username":"admin","password":"{ADMIN_PASSWORD}"}}"#);
    let (code, tokens) = curl(
        &cert,
        &["-H", "content-type: application/json", "-d", &body, &server.url("/api/v1/auth/login")],
    )?;
    ensure!(code == 200, "login over https: {code} {tokens}");
    let token: Value = serde_json::from_str(&tokens)?;
    let bearer =
        format!("authorization: Bearer {}", token["access_token"].as_str().context("token")?);
    let (code, _) = curl(&cert, &["-H", &bearer, &server.url("/api/v1/assets")])?;
    ensure!(code == 200);
    // Without the token: refused, and audited with the client's address.
    let (code, _) = curl(&cert, &[&server.url("/api/v1/assets")])?;
    ensure!(code == 401);
    let (_, audit) = curl(&cert, &["-H", &bearer, &server.url("/api/v1/audit?who=anonymous")])?;
    let audit: Value = serde_json::from_str(&audit)?;
    let rows = audit["rows"].as_array().context("rows")?;
    ensure!(rows.iter().any(|r| r["client_ip"] == "127.0.0.1" && r["status"] == 401), "{audit}");
    // Plain HTTP to the HTTPS port gets no HTTP answer; a client not trusting the CA fails.
    let plain = server.base.replacen("https://", "http://", 1);
    let (code, _) = curl(&cert, &[&format!("{plain}/healthz")])?;
    ensure!(code == 0 || code == 400, "plain http answered {code}");
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .arg(server.url("/healthz"))
        .output()?;
    ensure!(!out.status.success(), "an untrusted certificate was accepted");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_catalog_from_before_accounts_becomes_the_administrators() -> Result<()> {
    let home = tempfile::tempdir()?;
    let dim = acervo_catalog::AcervoConfig::defaults().search.embedding_dim;
    let asset = |i: u64, project: &str| acervo_catalog::Asset {
        owner: "local-admin".into(),
        ..acervo_tests::catalog_row(i, project)
    };
    let old = [asset(1, "archivo"), asset(2, "deportes")];
    {
        let catalog = acervo_lakehouse::Catalog::open(home.path().join("catalog"), dim).await?;
        catalog.append_assets(&old).await?;
    }
    let server = Server::start_with_auth(home.path(), &[])?;
    let (code, body) = login(&server, "admin", ADMIN_PASSWORD).await?;
    ensure!(code == 200, "{body}");
    let admin = bearer_client(body["access_token"].as_str().context("token")?);
    for a in &old {
        let (code, row) =
            get_json(&admin, &server.url(&format!("/api/v1/assets/{}", a.id))).await?;
        ensure!(code == 200 && row["owner"] == "admin", "{code} {row}");
    }
    let (_, projects) = get_json(&admin, &server.url("/api/v1/projects")).await?;
    let slugs: Vec<&str> = projects
        .as_array()
        .context("projects")?
        .iter()
        .filter_map(|p| p["slug"].as_str())
        .collect();
    ensure!(slugs.contains(&"archivo") && slugs.contains(&"deportes"), "{projects}");
    Ok(())
}
