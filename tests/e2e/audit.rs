//! The audit trail: every action of a small session leaves its row (logins and failed logins,
//! refusals, mutations, downloads) with who, what, where from and how it ended; administrators
//! read it filtered; and a row rewritten and the last one deleted with pylance, a second writer
//! of the table, are both named by `acervo audit verify`.

use std::time::Duration;

use acervo_tests::{
    ADMIN_PASSWORD, Server, acervo_bin, bearer_client, client, login, text_asset, tools_dir,
    wait_status,
};
use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};

fn verify(home: &std::path::Path) -> Result<(i32, String)> {
    let out = std::process::Command::new(acervo_bin())
        .args(["audit", "verify", "--home"])
        .arg(home)
        .env("ACERVO_LOG", "error")
        .output()?;
    Ok((
        out.status.code().unwrap_or(-1),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    ))
}

#[tokio::test]
async fn actions_leave_chained_rows_and_tampering_is_named() -> Result<()> {
    let work = tempfile::tempdir()?;
    let home = work.path().join("home");
    let mut server = Server::start_with_auth(&home, &[])?;

    // A session: a failed login, an anonymous request, an administrator's work, a refusal.
    ensure!(login(&server, "admin", "not-the-password").await?.0 == 401);
    ensure!(client().get(server.url("/api/v1/assets")).send().await?.status() == 401);
    let (code, body) = login(&server, "admin", ADMIN_PASSWORD).await?;
    ensure!(code == 200, "{body}");
    let admin = bearer_client(body["access_token"].as_str().context("token")?);
    ensure!(
        admin
            .post(server.url("/api/v1/projects"))
            .json(&json!({"slug": "deportes"}))
            .send()
            .await?
            .status()
            == 201
    );
    let user =
        json!({"name": "vic", "password": "vic-password-123", "must_change_password": false});
    ensure!(admin.post(server.url("/api/v1/users")).json(&user).send().await?.status() == 201);
    let member = admin
        .put(server.url("/api/v1/projects/deportes/members/vic"))
        .json(&json!({"role": "viewer"}));
    ensure!(member.send().await?.status() == 200);
    let id = text_asset(&admin, &server, "Crónica del partido", "", "deportes").await?;
    wait_status(&admin, &server, &id, &["ready"], Duration::from_secs(30)).await?;
    // Published, so the viewer reads it (and is refused the edit rather than told nothing).
    acervo_tests::publish(&admin, &server, &id).await?;
    ensure!(
        admin.get(server.url(&format!("/api/v1/assets/{id}/download"))).send().await?.status()
            == 200
    );
    let (_, body) = login(&server, "vic", "vic-password-123").await?;
    let vic = bearer_client(body["access_token"].as_str().context("token")?);
    let edit = vic.patch(server.url(&format!("/api/v1/assets/{id}"))).json(&json!({"title": "x"}));
    ensure!(edit.send().await?.status() == 403);
    ensure!(vic.get(server.url("/api/v1/audit")).send().await?.status() == 403);

    // Each left its row, in order, with who and how it ended.
    let page: Value =
        admin.get(server.url("/api/v1/audit?limit=1000")).send().await?.json().await?;
    let rows = page["rows"].as_array().context("rows")?;
    let seen: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (s("who"), s("action"), s("result"))
        })
        .collect();
    let expect = [
        ("admin", "login", "denied"),
        ("anonymous", "GET /api/v1/assets", "denied"),
        ("admin", "login", "allowed"),
        ("admin", "POST /api/v1/projects", "allowed"),
        ("admin", "POST /api/v1/users", "allowed"),
        ("admin", "PUT /api/v1/projects/{slug}/members/{user}", "allowed"),
        ("admin", "POST /api/v1/assets", "allowed"),
        // The three moves to published.
        ("admin", "POST /api/v1/assets/{id}/editorial-status", "allowed"),
        ("admin", "POST /api/v1/assets/{id}/editorial-status", "allowed"),
        ("admin", "POST /api/v1/assets/{id}/editorial-status", "allowed"),
        ("admin", "GET /api/v1/assets/{id}/download", "allowed"),
        ("vic", "login", "allowed"),
        ("vic", "PATCH /api/v1/assets/{id}", "denied"),
        ("vic", "GET /api/v1/audit", "denied"),
    ];
    let expect: Vec<(String, String, String)> =
        expect.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect();
    ensure!(seen == expect, "audit rows:\n{seen:#?}");
    let seqs: Vec<u64> = rows.iter().filter_map(|r| r["seq"].as_u64()).collect();
    ensure!(seqs == (1..=expect.len() as u64).collect::<Vec<_>>(), "{seqs:?}");
    let failed_login = &rows[0];
    ensure!(
        failed_login["status"] == 401 && failed_login["user_agent"] == "acervo-tests",
        "{failed_login}"
    );
    ensure!(
        failed_login["client_ip"] == "127.0.0.1" && failed_login["resource"] == "user:admin",
        "{failed_login}"
    );
    ensure!(rows[10]["resource"] == format!("/api/v1/assets/{id}/download"), "{}", rows[10]);
    // Filters.
    let vics: Value = admin.get(server.url("/api/v1/audit?who=vic")).send().await?.json().await?;
    ensure!(vics["rows"].as_array().map(Vec::len) == Some(3), "{vics}");
    let denied: Value =
        admin.get(server.url("/api/v1/audit?result=denied&limit=2")).send().await?.json().await?;
    ensure!(
        denied["rows"].as_array().map(Vec::len) == Some(2) && denied["next_after"] == 2,
        "{denied}"
    );

    // Intact, then tampered with by another writer of the table.
    server.stop().await;
    let (code, out) = verify(&home)?;
    ensure!(code == 0 && out.contains("intact"), "{code}: {out}");
    let n = out.split_whitespace().find_map(|w| w.parse::<u64>().ok()).context("row count")?;
    ensure!(n >= expect.len() as u64, "{out}");
    let script = format!(
        "import lance\nds = lance.dataset({:?})\nds.update({{'who': \"'mallory'\"}}, where='seq = 3')\nds.delete('seq = {n}')\n",
        home.join("catalog/audit.lance").display().to_string()
    );
    let py = std::process::Command::new("python3")
        .env("PYTHONPATH", tools_dir().join("pylance"))
        .args(["-c", &script])
        .output()?;
    ensure!(py.status.success(), "pylance: {}", String::from_utf8_lossy(&py.stderr));
    let (code, out) = verify(&home)?;
    ensure!(code == 1, "a tampered trail verified: {out}");
    ensure!(out.contains("row 3 was changed"), "{out}");
    ensure!(
        out.contains(&format!("the table ends at row {}, the chain's head is row {n}", n - 1)),
        "{out}"
    );
    Ok(())
}
