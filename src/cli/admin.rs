//! `acervo user …` and `acervo project …`: users, projects and memberships, through a running
//! server's `/api/v1/users` and `/api/v1/projects` (as the logged-in administrator).

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::session::{client_for, problem_detail, read_password};

#[derive(Args)]
pub struct ServerArg {
    /// The server to manage.
    #[arg(long, env = "ACERVO_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a local user; the password is read from stdin or asked for.
    Add {
        name: String,
        #[arg(long, default_value = "")]
        display_name: String,
        /// A role in every project (most users get roles per project instead).
        #[arg(long = "role")]
        roles: Vec<String>,
        /// The user keeps this password (by default they must change it at the first login).
        #[arg(long)]
        keep_password: bool,
        #[command(flatten)]
        server: ServerArg,
    },
    /// List the users.
    List {
        #[command(flatten)]
        server: ServerArg,
    },
    /// Disable a user: no login, and their sessions and tokens stop working.
    Disable {
        name: String,
        #[command(flatten)]
        server: ServerArg,
    },
    /// Enable a disabled user.
    Enable {
        name: String,
        #[command(flatten)]
        server: ServerArg,
    },
}

#[derive(Subcommand)]
pub enum ProjectCommand {
    /// Create a project.
    Add {
        slug: String,
        #[arg(long, default_value = "")]
        title: String,
        #[command(flatten)]
        server: ServerArg,
    },
    /// List the projects (with members, for an administrator).
    List {
        #[command(flatten)]
        server: ServerArg,
    },
    /// Give a user a role in a project (viewer, editor, producer, archivist, admin).
    Member {
        slug: String,
        user: String,
        role: String,
        #[command(flatten)]
        server: ServerArg,
    },
    /// End a user's membership of a project.
    RemoveMember {
        slug: String,
        user: String,
        #[command(flatten)]
        server: ServerArg,
    },
}

async fn call(
    server: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let base = server.trim_end_matches('/');
    let mut req = client_for(server).await?.request(method, format!("{base}{path}"));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.with_context(|| format!("cannot reach the server at {base}"))?;
    let status = resp.status();
    let text = resp.text().await?;
    anyhow::ensure!(status.is_success(), "{}", problem_detail(&text));
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub async fn user(cmd: UserCommand) -> anyhow::Result<ExitCode> {
    use reqwest::Method;
    match cmd {
        UserCommand::Add { name, display_name, roles, keep_password, server } => {
            let password = match std::env::var("ACERVO_NEW_PASSWORD") {
                Ok(p) if !p.is_empty() => p,
                _ => read_password(&format!("password for the new user {name}: "))?,
            };
            let body = json!({"name": name, "display_name": display_name, "password": password,
                              "roles": roles, "must_change_password": !keep_password});
            call(&server.server, Method::POST, "/api/v1/users", Some(body)).await?;
            println!("created user {name}");
        }
        UserCommand::List { server } => {
            let users = call(&server.server, Method::GET, "/api/v1/users", None).await?;
            for u in users.as_array().into_iter().flatten() {
                let projects: Vec<String> = u["projects"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(p, r)| format!("{p}:{}", r.as_str().unwrap_or("?")))
                    .collect();
                let roles: Vec<&str> =
                    u["roles"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                println!(
                    "{}\troles={}\tprojects={}{}",
                    u["name"].as_str().unwrap_or("?"),
                    roles.join(","),
                    projects.join(","),
                    if u["disabled"] == true { "\tdisabled" } else { "" }
                );
            }
        }
        UserCommand::Disable { name, server } => {
            call(
                &server.server,
                Method::PATCH,
                &format!("/api/v1/users/{name}"),
                Some(json!({"disabled": true})),
            )
            .await?;
            println!("disabled {name}");
        }
        UserCommand::Enable { name, server } => {
            call(
                &server.server,
                Method::PATCH,
                &format!("/api/v1/users/{name}"),
                Some(json!({"disabled": false})),
            )
            .await?;
            println!("enabled {name}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn project(cmd: ProjectCommand) -> anyhow::Result<ExitCode> {
    use reqwest::Method;
    match cmd {
        ProjectCommand::Add { slug, title, server } => {
            call(
                &server.server,
                Method::POST,
                "/api/v1/projects",
                Some(json!({"slug": slug, "title": title})),
            )
            .await?;
            println!("created project {slug}");
        }
        ProjectCommand::List { server } => {
            let projects = call(&server.server, Method::GET, "/api/v1/projects", None).await?;
            for p in projects.as_array().into_iter().flatten() {
                let members: Vec<String> = p["members"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|m| {
                        format!(
                            "{}:{}",
                            m["user"].as_str().unwrap_or("?"),
                            m["role"].as_str().unwrap_or("?")
                        )
                    })
                    .collect();
                println!(
                    "{}\t{}\t{}",
                    p["slug"].as_str().unwrap_or("?"),
                    p["title"].as_str().unwrap_or(""),
                    members.join(",")
                );
            }
        }
        ProjectCommand::Member { slug, user, role, server } => {
            call(
                &server.server,
                Method::PUT,
                &format!("/api/v1/projects/{slug}/members/{user}"),
                Some(json!({"role": role})),
            )
            .await?;
            println!("{user} is {role} in {slug}");
        }
        ProjectCommand::RemoveMember { slug, user, server } => {
            call(
                &server.server,
                Method::DELETE,
                &format!("/api/v1/projects/{slug}/members/{user}"),
                None,
            )
            .await?;
            println!("{user} is no longer in {slug}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
