//! The authorisation matrix (`tests/fixtures/authz_matrix.txt`, written by hand): every operation
//! of openapi.json, for each of the five roles, on its own project's published resource, on its
//! own project's draft, and on another project's, against one running server with shared
//! fixtures. Each request leaves an audit row
//! (checked at the end). An operation without a row in the table fails the test.

use std::collections::BTreeMap;
use std::time::Duration;

use acervo_tests::{
    ADMIN_PASSWORD, Server, bearer_client, client, make_image, publish, text_asset, wait_status,
};
use anyhow::{Context, Result, bail, ensure};
use serde_json::{Value, json};

const ROLES: [&str; 5] = ["viewer", "editor", "producer", "archivist", "admin"];

/// The sides of a row: own project published, own project draft, another project.
const SIDES: [&str; 3] = ["own published", "own draft", "other"];

struct Row {
    op: String,
    sides: [Option<[u16; 5]>; 3],
}

fn table() -> Result<Vec<Row>> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/authz_matrix.txt"))?;
    let mut rows = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let [op, own, draft, other] = parts.as_slice() else { bail!("not a matrix row: {line}") };
        let statuses = |s: &str| -> Result<Option<[u16; 5]>> {
            if s == "-" {
                return Ok(None);
            }
            let v: Vec<u16> = s.split_whitespace().map(str::parse).collect::<Result<_, _>>()?;
            v.try_into().map(Some).map_err(|_| anyhow::anyhow!("five statuses expected: {line}"))
        };
        ensure!(*own != "-", "the own published side is never empty: {line}");
        rows.push(Row {
            op: op.split_whitespace().collect::<Vec<_>>().join(" "),
            sides: [statuses(own)?, statuses(draft)?, statuses(other)?],
        });
    }
    Ok(rows)
}

/// What the requests act on.
struct Fixtures {
    server: Server,
    /// Each role's user name and session.
    users: BTreeMap<&'static str, (String, reqwest::Client, Value)>,
    admin: reqwest::Client,
    /// By side: own published, own draft, other (published).
    photo: [String; 3],
    note: [String; 3],
    /// A collection of the side's project (own for both own sides).
    collection: [String; 3],
}

/// A fresh text document in `project`, published unless `draft`.
async fn fresh(f: &Fixtures, project: &str, draft: bool) -> Result<String> {
    let id = text_asset(&f.admin, &f.server, "Fresca", "", project).await?;
    if !draft {
        publish(&f.admin, &f.server, &id).await?;
    }
    Ok(id)
}

async fn new_collection(admin: &reqwest::Client, server: &Server, project: &str) -> Result<String> {
    let r = admin
        .post(server.url("/api/v1/collections"))
        .json(&json!({"project": project, "name": format!("c-{}", uuid::Uuid::now_v7().simple())}))
        .send()
        .await?;
    ensure!(r.status() == 201, "collection in {project}: {}", r.status());
    Ok(r.json::<Value>().await?["id"].as_str().context("collection id")?.to_string())
}

/// A login's token pair.
async fn login(server: &Server, user: &str, password: &str) -> Result<Value> {
    let (code, body) = acervo_tests::login(server, user, password).await?;
    ensure!(code == 200, "login of {user}: {code} {body}");
    Ok(body)
}

async fn fixtures(work: &std::path::Path) -> Result<Fixtures> {
    let server = Server::start_with_auth(&work.join("home"), &[])?;
    let tokens = login(&server, "admin", ADMIN_PASSWORD).await?;
    let admin = bearer_client(tokens["access_token"].as_str().context("token")?);
    for slug in ["own", "other"] {
        let r =
            admin.post(server.url("/api/v1/projects")).json(&json!({"slug": slug})).send().await?;
        ensure!(r.status() == 201);
    }
    let mut users = BTreeMap::new();
    for role in ROLES {
        let name = format!("the-{role}");
        let password = format!("{name}-password");
        let (roles, member) =
            if role == "admin" { (vec!["admin"], None) } else { (vec![], Some(role)) };
        let body = json!({"name": name, "password": password, "roles": roles, "must_change_password": false});
        let r = admin.post(server.url("/api/v1/users")).json(&body).send().await?;
        ensure!(r.status() == 201, "user {name}: {}", r.status());
        if let Some(role) = member {
            let r = admin
                .put(server.url(&format!("/api/v1/projects/own/members/{name}")))
                .json(&json!({"role": role}))
                .send()
                .await?;
            ensure!(r.status() == 200);
        }
        let tokens = login(&server, &name, &password).await?;
        let c = bearer_client(tokens["access_token"].as_str().context("token")?);
        users.insert(role, (name, c, tokens));
    }
    // Whom memberships are given to and taken from.
    let outsider = json!({"name": "the-outsider", "password": "outsider-password"});
    ensure!(admin.post(server.url("/api/v1/users")).json(&outsider).send().await?.status() == 201);
    // One picture per side (the same bytes twice in a project would be one asset).
    let mut pngs = Vec::new();
    for (i, w) in [48, 56, 64].into_iter().enumerate() {
        let png = work.join(format!("foto-{i}.png"));
        make_image(&png, w, 32)?;
        pngs.push(png);
    }
    let mut photo: [String; 3] = Default::default();
    let mut note: [String; 3] = Default::default();
    for (i, project) in ["own", "own", "other"].into_iter().enumerate() {
        let form = reqwest::multipart::Form::new().text("project", project.to_string()).part(
            "file",
            reqwest::multipart::Part::bytes(std::fs::read(&pngs[i])?)
                .file_name(format!("foto-{project}.png")),
        );
        let r = admin.post(server.url("/api/v1/assets")).multipart(form).send().await?;
        ensure!(r.status() == 201, "photo: {}", r.status());
        photo[i] = r.json::<Value>().await?["id"].as_str().context("id")?.to_string();
        note[i] = text_asset(&admin, &server, &format!("Nota de {project}"), "", project).await?;
    }
    for id in photo.iter().chain(note.iter()) {
        wait_status(&admin, &server, id, &["ready"], Duration::from_secs(60)).await?;
    }
    for side in [0, 2] {
        publish(&admin, &server, &photo[side]).await?;
        publish(&admin, &server, &note[side]).await?;
    }
    let own = new_collection(&admin, &server, "own").await?;
    let other = new_collection(&admin, &server, "other").await?;
    let collection = [own.clone(), own, other];
    Ok(Fixtures { server, users, admin, photo, note, collection })
}

/// The request `op` makes for `role` on side `side` (0: its own project's published resource,
/// 1: its own project's draft, 2: another project's).
async fn request(
    f: &Fixtures,
    op: &str,
    role: &'static str,
    side: usize,
) -> Result<reqwest::RequestBuilder> {
    let (name, c, tokens) = &f.users[role];
    let s = &f.server;
    let project = ["own", "own", "other"][side];
    let (photo, note, collection) = (&f.photo[side], &f.note[side], &f.collection[side]);
    let (draft, mine) = (side == 1, side < 2);
    let other_user = if role == "viewer" { "the-editor" } else { "the-viewer" };
    let u = |p: &str| s.url(p);
    Ok(match op {
        "GET /healthz" => c.get(u("/healthz")),
        "GET /metrics" => c.get(u("/metrics")),
        "GET /api/v1/openapi.json" => c.get(u("/api/v1/openapi.json")),
        "GET /api/v1/auth/config" => c.get(u("/api/v1/auth/config")),
        "POST /api/v1/auth/login" => client()
            .post(u("/api/v1/auth/login"))
            .json(&json!({"username": name, "password": format!("{name}-password")})),
        "POST /api/v1/auth/refresh" => {
            // A login of its own, so the shared session is not spent.
            let t = login(s, name, &format!("{name}-password")).await?;
            client().post(u("/api/v1/auth/refresh")).json(&json!({"refresh_token": t["refresh_token"]}))
        }
        "POST /api/v1/auth/logout" => {
            let t = login(s, name, &format!("{name}-password")).await?;
            bearer_client(t["access_token"].as_str().context("token")?).post(u("/api/v1/auth/logout"))
        }
        "GET /api/v1/auth/me" => c.get(u("/api/v1/auth/me")),
        "PUT /api/v1/auth/password" => c
            .put(u("/api/v1/auth/password"))
            .json(&json!({"current_password": "not-the-password", "new_password": "another-password-1"})),
        "GET /api/v1/auth/tokens" => c.get(u("/api/v1/auth/tokens")),
        "POST /api/v1/auth/tokens" => c.post(u("/api/v1/auth/tokens")).json(&json!({"name": "matrix"})),
        "DELETE /api/v1/auth/tokens/{id}" => {
            // Its own token, or another user's.
            let owner = if mine { c } else { &f.users[if role == "viewer" { "editor" } else { "viewer" }].1 };
            let t: Value = owner.post(u("/api/v1/auth/tokens")).json(&json!({"name": "to revoke"})).send().await?.json().await?;
            c.delete(u(&format!("/api/v1/auth/tokens/{}", t["id"].as_str().context("token id")?)))
        }
        "GET /api/v1/users" => c.get(u("/api/v1/users")),
        "POST /api/v1/users" => c.post(u("/api/v1/users")).json(&json!({
            "name": format!("new-{role}-{}", uuid::Uuid::now_v7().simple()),
            "password": "a-new-password-1"
        })),
        "GET /api/v1/users/{name}" => c.get(u(&format!("/api/v1/users/{}", if mine { name } else { other_user }))),
        "PATCH /api/v1/users/{name}" => c.patch(u(&format!("/api/v1/users/{other_user}"))).json(&json!({"display_name": "X"})),
        "PUT /api/v1/users/{name}/password" => {
            // A user of its own, so no fixture's password changes.
            let victim = format!("victim-{role}-{}", uuid::Uuid::now_v7().simple());
            let r = f.admin.post(u("/api/v1/users")).json(&json!({"name": victim, "password": "victim-password-1"})).send().await?;
            ensure!(r.status() == 201);
            c.put(u(&format!("/api/v1/users/{victim}/password"))).json(&json!({"password": "victim-password-2"}))
        }
        "GET /api/v1/projects" => c.get(u("/api/v1/projects")),
        "POST /api/v1/projects" => c
            .post(u("/api/v1/projects"))
            .json(&json!({"slug": format!("p-{role}-{}", &uuid::Uuid::now_v7().simple().to_string()[20..])})),
        "GET /api/v1/projects/{slug}" => c.get(u(&format!("/api/v1/projects/{project}"))),
        "PUT /api/v1/projects/{slug}/members/{user}" => {
            c.put(u(&format!("/api/v1/projects/{project}/members/the-outsider"))).json(&json!({"role": "viewer"}))
        }
        "DELETE /api/v1/projects/{slug}/members/{user}" => {
            c.delete(u(&format!("/api/v1/projects/{project}/members/the-outsider")))
        }
        "GET /api/v1/audit" => c.get(u("/api/v1/audit?limit=1")),
        "GET /api/v1/assets" => c.get(u(&format!("/api/v1/assets?project={project}"))),
        "POST /api/v1/assets" => {
            let form = reqwest::multipart::Form::new().text("project", project.to_string()).part(
                "file",
                reqwest::multipart::Part::bytes(format!("matrix {role} {}", uuid::Uuid::now_v7()).into_bytes()).file_name("m.txt"),
            );
            c.post(u("/api/v1/assets")).multipart(form)
        }
        "GET /api/v1/assets/{id}" => c.get(u(&format!("/api/v1/assets/{photo}"))),
        "PATCH /api/v1/assets/{id}" => c.patch(u(&format!("/api/v1/assets/{note}"))).json(&json!({"title": "Otra"})),
        "DELETE /api/v1/assets/{id}" => {
            let fresh = fresh(f, project, draft).await?;
            c.delete(u(&format!("/api/v1/assets/{fresh}")))
        }
        "POST /api/v1/assets/{id}/editorial-status" => {
            let fresh = fresh(f, project, draft).await?;
            let to = if draft { "in_review" } else { "archived" };
            c.post(u(&format!("/api/v1/assets/{fresh}/editorial-status"))).json(&json!({"status": to}))
        }
        "GET /api/v1/collections" => c.get(u(&format!("/api/v1/collections?project={project}"))),
        "POST /api/v1/collections" => c
            .post(u("/api/v1/collections"))
            .json(&json!({"project": project, "name": format!("de {role}")})),
        "GET /api/v1/collections/{id}" => c.get(u(&format!("/api/v1/collections/{collection}"))),
        "PATCH /api/v1/collections/{id}" => {
            c.patch(u(&format!("/api/v1/collections/{collection}"))).json(&json!({"name": format!("renamed by {role}")}))
        }
        "DELETE /api/v1/collections/{id}" => {
            let empty = new_collection(&f.admin, s, project).await?;
            c.delete(u(&format!("/api/v1/collections/{empty}")))
        }
        "PUT /api/v1/collections/{id}/grants/{user}" => {
            c.put(u(&format!("/api/v1/collections/{collection}/grants/the-outsider")))
        }
        "DELETE /api/v1/collections/{id}/grants/{user}" => {
            c.delete(u(&format!("/api/v1/collections/{collection}/grants/the-outsider")))
        }
        "POST /api/v1/collections/{id}/assets" => {
            c.post(u(&format!("/api/v1/collections/{collection}/assets"))).json(&json!({"add": [note]}))
        }
        "POST /api/v1/assets/{id}/ai/accept" | "POST /api/v1/assets/{id}/ai/reject" => {
            let verb = op.rsplit('/').next().unwrap_or("accept");
            c.post(u(&format!("/api/v1/assets/{note}/ai/{verb}"))).json(&json!({"labels": ["not-a-suggestion"]}))
        }
        "GET /api/v1/assets/{id}/download" => c.get(u(&format!("/api/v1/assets/{photo}/download"))),
        "PUT /api/v1/assets/{id}/enrichment" => {
            c.put(u(&format!("/api/v1/assets/{note}/enrichment"))).json(&json!({"ocr_text": "texto"}))
        }
        "GET /api/v1/assets/{id}/frames" => c.get(u(&format!("/api/v1/assets/{photo}/frames"))),
        "GET /api/v1/assets/{id}/segments" => c.get(u(&format!("/api/v1/assets/{photo}/segments"))),
        "GET /api/v1/assets/{id}/history" => c.get(u(&format!("/api/v1/assets/{photo}/history"))),
        "PUT /api/v1/assets/{id}/legal-hold" => {
            c.put(u(&format!("/api/v1/assets/{photo}/legal-hold"))).json(&json!({"reason": format!("causa de {role}")}))
        }
        "DELETE /api/v1/assets/{id}/legal-hold" => c.delete(u(&format!("/api/v1/assets/{photo}/legal-hold"))),
        "POST /api/v1/assets/{id}/ondemand" => c
            .post(u(&format!("/api/v1/assets/{note}/ondemand")))
            .json(&json!({"long_side": 640, "short_side": 360, "bitrate_kbps": 800})),
        "GET /api/v1/assets/{id}/renditions/{profile}" => c.get(u(&format!("/api/v1/assets/{photo}/renditions/display"))),
        "GET /api/v1/assets/{id}/renditions/{profile}/{file}" => {
            c.get(u(&format!("/api/v1/assets/{photo}/renditions/hls/index.m3u8")))
        }
        // The photo is not deleted: an allowed restore is a 409.
        "POST /api/v1/assets/{id}/restore" => c.post(u(&format!("/api/v1/assets/{photo}/restore"))),
        "POST /api/v1/assets/{id}/reprocess" => c.post(u(&format!("/api/v1/assets/{note}/reprocess"))),
        "GET /api/v1/jobs/{id}" => c.get(u(&format!("/api/v1/jobs/{photo}"))),
        "DELETE /api/v1/jobs/{id}" => c.delete(u(&format!("/api/v1/jobs/{photo}"))),
        "GET /api/v1/jobs/{id}/output" => c.get(u(&format!("/api/v1/jobs/{photo}/output"))),
        "GET /api/v1/dead-letters" => c.get(u(&format!("/api/v1/dead-letters?asset_id={photo}"))),
        // A dry run: the matrix's assets are not deleted, and a real purge is tested apart.
        "POST /api/v1/purge" => c.post(u("/api/v1/purge")).json(&json!({"dry_run": true})),
        "POST /api/v1/reindex" => c.post(u("/api/v1/reindex")).json(&json!({"stage": "enrich"})),
        // The stream's headers answer at once; the stream itself is dropped.
        "GET /api/v1/events" => c.get(u("/api/v1/events")),
        "GET /api/v1/search" => c.get(u(&format!("/api/v1/search?q=&project={project}"))),
        "POST /api/v1/search" => c.post(u("/api/v1/search")).json(&json!({"q": "", "project": project})),
        "POST /api/v1/sql" => c.post(u("/api/v1/sql")).json(&json!({"query": "SELECT count(*) AS n FROM assets"})),
        other => {
            let _ = tokens;
            bail!("the matrix test does not know how to call {other}: add it here and to the table")
        }
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn every_operation_answers_each_role_as_the_matrix_says() -> Result<()> {
    let work = tempfile::tempdir()?;
    let f = fixtures(work.path()).await?;
    let rows = table()?;
    // Every documented operation has its row, and every row is a documented operation.
    let doc: Value =
        client().get(f.server.url("/api/v1/openapi.json")).send().await?.json().await?;
    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().context("paths")? {
        for m in ["get", "post", "put", "patch", "delete"] {
            if item.get(m).is_some() {
                documented.push(format!("{} {path}", m.to_uppercase()));
            }
        }
    }
    let in_table: Vec<&str> = rows.iter().map(|r| r.op.as_str()).collect();
    let missing: Vec<&String> =
        documented.iter().filter(|o| !in_table.contains(&o.as_str())).collect();
    ensure!(missing.is_empty(), "operations without a row in authz_matrix.txt: {missing:?}");
    let stale: Vec<&&str> =
        in_table.iter().filter(|o| !documented.iter().any(|d| d == *o)).collect();
    ensure!(stale.is_empty(), "rows for operations openapi.json does not have: {stale:?}");

    let mut wrong = Vec::new();
    let mut requests = 0usize;
    for row in &rows {
        for (side, expected) in row.sides.iter().enumerate() {
            let Some(expected) = expected else { continue };
            for (i, role) in ROLES.into_iter().enumerate() {
                let resp = request(&f, &row.op, role, side).await?.send().await?;
                requests += 1;
                let got = resp.status().as_u16();
                if got != expected[i] {
                    let body = resp.text().await.unwrap_or_default();
                    wrong.push(format!(
                        "{} [{}] as {role}: {got}, the table says {} ({})",
                        row.op,
                        SIDES[side],
                        expected[i],
                        body.chars().take(160).collect::<String>()
                    ));
                }
            }
        }
    }
    ensure!(
        wrong.is_empty(),
        "{} of {requests} answers differ from the matrix:\n{}",
        wrong.len(),
        wrong.join("\n")
    );

    // The refusals among them left audit rows (denied), each with its principal.
    let page: Value = f
        .admin
        .get(f.server.url("/api/v1/audit?result=denied&limit=1000"))
        .send()
        .await?
        .json()
        .await?;
    let denied: Vec<&Value> = page["rows"].as_array().context("rows")?.iter().collect();
    for role in ["viewer", "editor", "producer", "archivist"] {
        let name = &f.users[role].0;
        ensure!(denied.iter().any(|r| r["who"] == name.as_str()), "no denied row for {name}");
    }
    Ok(())
}
