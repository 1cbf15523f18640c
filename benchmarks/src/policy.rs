//! The cost of an authorisation decision: the default Rego policy (regorus) deciding `allow` and
//! yielding a read scope, evaluated (a first decision, or after a membership or the policy
//! changed) and from the decision cache, for principals of a newsroom of 200 projects. Next to
//! it, the peer: the same role table written by hand in Rust (what Acervo ran before policies
//! were Rego), so the figures say what declarative policies cost per request.
//!
//! Usage: bench-policy [DECISIONS]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use acervo_catalog::{Action, EditorialStatus, Principal, Role};
use acervo_policy::{Policy, Resource, RestrictedCollection};

/// The default policy's `allow`, by hand (the peer; asset reads and edits only).
fn by_hand(p: &Principal, action: Action, r: &Resource) -> bool {
    let project = r.project.as_deref().unwrap_or("");
    let roles = p.roles.iter().chain(p.project_roles.get(project).into_iter().flatten());
    roles.into_iter().any(|role| match (role, action) {
        (Role::Admin, _) => true,
        (Role::Viewer, Action::AssetRead) => r.editorial_status == Some(EditorialStatus::Published),
        (Role::Editor | Role::Producer, Action::AssetRead | Action::AssetEdit) => true,
        (Role::Archivist, Action::AssetRead) => true,
        _ => false,
    })
}

fn member(name: &str, role: Role, of: usize) -> Principal {
    Principal {
        name: name.into(),
        roles: vec![],
        project_roles: (0..of)
            .map(|i| (format!("proyecto-{:03}", i * 10), vec![role]))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn percentiles(mut lat: Vec<Duration>) -> (f64, f64, f64) {
    lat.sort();
    let at = |q: f64| lat[((lat.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e6;
    (at(0.5), at(0.99), lat.len() as f64 / lat.iter().sum::<Duration>().as_secs_f64())
}

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(20_000);
    let policy = Policy::embedded()?;
    // A newsroom's restricted collections: the policy data every decision reads.
    let restricted: Vec<RestrictedCollection> = (0..50)
        .map(|i| RestrictedCollection {
            id: format!("c{i}"),
            project: format!("proyecto-{:03}", i * 4),
            granted: vec!["editor".into(), format!("user{i}")],
        })
        .collect();
    policy.set_directory(&restricted)?;
    let principals = [
        ("editor of 20 projects", member("editor", Role::Editor, 20)),
        ("viewer of 20 projects", member("viewer", Role::Viewer, 20)),
        ("admin", Principal::local_admin()),
    ];
    // Assets spread over 200 projects and the five statuses; some in collections.
    let resources: Vec<Resource> = (0..n)
        .map(|i| Resource {
            project: Some(format!("proyecto-{:03}", (i * 7919) % 200)),
            editorial_status: Some(EditorialStatus::ALL[i % EditorialStatus::ALL.len()]),
            collections: if i % 3 == 0 { vec![format!("c{}", i % 60)] } else { vec![] },
        })
        .collect();
    println!(
        "bench-policy: {n} decisions per row, default policy, 200 projects, 50 restricted collections"
    );
    println!(
        "{:<24} {:<26} {:>9} {:>9} {:>12}",
        "principal", "decision", "p50 µs", "p99 µs", "per second"
    );
    for (label, p) in &principals {
        let mut rows: Vec<(&str, Vec<Duration>)> = Vec::new();
        let timed = |f: &mut dyn FnMut(&Resource) -> bool| {
            let mut lat = Vec::with_capacity(n);
            let mut allowed = 0usize;
            for r in &resources {
                let t = Instant::now();
                allowed += usize::from(f(r));
                lat.push(t.elapsed());
            }
            (lat, allowed)
        };
        let (lat, a1) = timed(&mut |r| policy.allow_uncached(p, Action::AssetRead, r, None));
        rows.push(("allow read, evaluated", lat));
        policy.invalidate();
        // Fill the cache, then read from it.
        timed(&mut |r| policy.allow(p, Action::AssetRead, r, None));
        let (lat, a2) = timed(&mut |r| policy.allow(p, Action::AssetRead, r, None));
        rows.push(("allow read, cached", lat));
        let (lat, a3) = timed(&mut |r| by_hand(p, Action::AssetRead, r));
        rows.push(("peer: role table in Rust", lat));
        anyhow::ensure!(a1 == a2, "cached and evaluated decisions differ");
        let hidden = resources.iter().filter(|r| !r.collections.is_empty()).count();
        // The hand table knows no collections: it may allow more, never less.
        anyhow::ensure!(a3 + hidden >= a1, "the peer disagrees beyond the restricted collections");
        let mut lat = Vec::with_capacity(n / 10);
        for _ in 0..n / 10 {
            let t = Instant::now();
            policy.scope_uncached(p)?;
            lat.push(t.elapsed());
        }
        rows.push(("read scope, evaluated", lat));
        let mut lat = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            std::hint::black_box(policy.scope(p));
            lat.push(t.elapsed());
        }
        rows.push(("read scope, cached", lat));
        for (what, lat) in rows {
            let (p50, p99, per_s) = percentiles(lat);
            println!("{label:<24} {what:<26} {p50:>9.2} {p99:>9.2} {per_s:>12.0}");
        }
    }
    Ok(())
}
