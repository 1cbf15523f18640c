//! `Policy`: the loaded Rego modules with their directory data, a pool of engines to evaluate
//! them on several threads at once, and the decision caches.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use acervo_catalog::{Action, Principal, ReadScope};
use regorus::{Engine, Value};
use serde::Serialize;

use crate::cache::DecisionCache;
use crate::error::PolicyError;
use acervo_catalog::RestrictedCollection;

use crate::input::{Resource, Transition};

/// The policy Acervo runs with when `policy.file` is not set.
pub const DEFAULT_POLICY: &str = include_str!("default.rego");

/// Decisions kept per cache before it starts over.
const CACHE_CAP: usize = 100_000;

struct Loaded {
    /// The modules and the data, ready to clone into a pool engine.
    prototype: Engine,
    origin: String,
}

pub struct Policy {
    loaded: RwLock<Loaded>,
    /// Engines evaluated before and returned, of generation `.0`.
    pool: Mutex<(u64, Vec<Engine>)>,
    generation: AtomicU64,
    file: Option<PathBuf>,
    file_mtime: Mutex<Option<SystemTime>>,
    allow_cache: DecisionCache<String, bool>,
    scope_cache: DecisionCache<String, Arc<ReadScope>>,
}

#[derive(Serialize)]
struct AllowInput<'a> {
    principal: &'a Principal,
    action: Action,
    resource: &'a Resource,
    #[serde(skip_serializing_if = "Option::is_none")]
    transition: Option<Transition>,
}

#[derive(Serialize)]
struct ScopeInput<'a> {
    principal: &'a Principal,
}

/// A regorus error in one line, "file:line:col: error: what" (regorus prints the place, the
/// source line with a caret, then what is wrong).
fn first_line(e: impl std::fmt::Display) -> String {
    let text = e.to_string();
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let place = lines.iter().find_map(|l| l.strip_prefix("--> "));
    let what = lines.last().copied().unwrap_or("");
    match place {
        Some(place) if *place != *what => format!("{place}: {what}"),
        _ => what.to_string(),
    }
}

fn compile(origin: &str, source: &str) -> Result<Engine, PolicyError> {
    let mut engine = Engine::new();
    engine
        .add_policy(origin.to_string(), source.to_string())
        .map_err(|e| PolicyError::Parse(first_line(e)))?;
    for rule in ["allow", "scope"] {
        let declared = engine
            .has_declared_rule_rooted_at(origin, rule)
            .map_err(|e| PolicyError::Parse(first_line(e)))?;
        if !declared {
            return Err(PolicyError::MissingRule { origin: origin.to_string(), rule });
        }
    }
    engine.add_data(directory_data(&[])).map_err(|e| PolicyError::Parse(first_line(e)))?;
    Ok(engine)
}

fn directory_data(restricted: &[RestrictedCollection]) -> Value {
    let map: serde_json::Map<String, serde_json::Value> = restricted
        .iter()
        .map(|c| (c.id.clone(), serde_json::json!({"project": c.project, "granted": c.granted})))
        .collect();
    Value::from(serde_json::json!({"acervo_directory": {"restricted": map}}))
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl Policy {
    /// The embedded default policy.
    pub fn embedded() -> Result<Policy, PolicyError> {
        Policy::load(None)
    }

    /// The policy in `file`, or the embedded default. A file that does not parse, or that
    /// lacks `allow` or `scope` in package `acervo`, is an error naming the file and line.
    pub fn load(file: Option<&Path>) -> Result<Policy, PolicyError> {
        let (origin, source) = match file {
            Some(path) => (
                path.display().to_string(),
                std::fs::read_to_string(path)
                    .map_err(|source| PolicyError::Read { path: path.to_path_buf(), source })?,
            ),
            None => ("default.rego (embedded)".to_string(), DEFAULT_POLICY.to_string()),
        };
        let prototype = compile(&origin, &source)?;
        Ok(Policy {
            loaded: RwLock::new(Loaded { prototype, origin }),
            pool: Mutex::new((0, Vec::new())),
            generation: AtomicU64::new(0),
            file: file.map(Path::to_path_buf),
            file_mtime: Mutex::new(file.and_then(mtime)),
            allow_cache: DecisionCache::new(CACHE_CAP),
            scope_cache: DecisionCache::new(CACHE_CAP),
        })
    }

    /// Where the running policy came from.
    pub fn origin(&self) -> String {
        self.loaded.read().unwrap_or_else(|p| p.into_inner()).origin.clone()
    }

    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.allow_cache.clear();
        self.scope_cache.clear();
    }

    /// The directory data changed (a collection restricted or granted, a membership): the
    /// policy sees the new data and every cached decision is forgotten.
    pub fn set_directory(&self, restricted: &[RestrictedCollection]) -> Result<(), PolicyError> {
        {
            let mut loaded = self.loaded.write().unwrap_or_else(|p| p.into_inner());
            loaded.prototype.clear_data();
            loaded
                .prototype
                .add_data(directory_data(restricted))
                .map_err(|e| PolicyError::Parse(first_line(e)))?;
        }
        self.changed();
        Ok(())
    }

    /// Forgets every cached decision (a membership changed).
    pub fn invalidate(&self) {
        self.changed();
    }

    /// Reads the policy file again if it changed on disk. A file that no longer parses keeps
    /// the running policy (the error says why). `Ok(true)`: a new policy is in force.
    pub fn reload_if_changed(
        &self,
        restricted: &[RestrictedCollection],
    ) -> Result<bool, PolicyError> {
        let Some(path) = &self.file else { return Ok(false) };
        let now = mtime(path);
        {
            let mut seen = self.file_mtime.lock().unwrap_or_else(|p| p.into_inner());
            if *seen == now {
                return Ok(false);
            }
            *seen = now;
        }
        let source = std::fs::read_to_string(path)
            .map_err(|source| PolicyError::Read { path: path.clone(), source })?;
        let origin = path.display().to_string();
        let mut prototype = compile(&origin, &source)?;
        prototype.clear_data();
        prototype
            .add_data(directory_data(restricted))
            .map_err(|e| PolicyError::Parse(first_line(e)))?;
        *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = Loaded { prototype, origin };
        self.changed();
        Ok(true)
    }

    fn eval(&self, rule: &'static str, input_json: &str) -> Result<Value, PolicyError> {
        let eval_err = |e: String| PolicyError::Eval { rule, reason: first_line(e) };
        let input = Value::from_json_str(input_json).map_err(|e| eval_err(e.to_string()))?;
        let generation = self.generation.load(Ordering::SeqCst);
        let pooled = {
            let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
            if pool.0 != generation {
                *pool = (generation, Vec::new());
            }
            pool.1.pop()
        };
        let mut engine = match pooled {
            Some(e) => e,
            None => self.loaded.read().unwrap_or_else(|p| p.into_inner()).prototype.clone(),
        };
        engine.set_input(input);
        let out = engine.eval_rule(format!("data.acervo.{rule}"));
        {
            let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
            if pool.0 == generation && pool.1.len() < 64 {
                pool.1.push(engine);
            }
        }
        out.map_err(|e| eval_err(e.to_string()))
    }

    /// Whether `principal` may do `action` to `resource` (a workflow move names its
    /// `transition`). An evaluation error denies, and is logged.
    pub fn allow(
        &self,
        principal: &Principal,
        action: Action,
        resource: &Resource,
        transition: Option<Transition>,
    ) -> bool {
        let input = AllowInput { principal, action, resource, transition };
        let Ok(key) = serde_json::to_string(&input) else { return false };
        if let Some(hit) = self.allow_cache.get(&key) {
            return hit;
        }
        let decision = self.decide(&key);
        self.allow_cache.put(key, decision);
        decision
    }

    /// `allow` without the cache (what a first decision costs).
    pub fn allow_uncached(
        &self,
        principal: &Principal,
        action: Action,
        resource: &Resource,
        transition: Option<Transition>,
    ) -> bool {
        let input = AllowInput { principal, action, resource, transition };
        serde_json::to_string(&input).is_ok_and(|key| self.decide(&key))
    }

    fn decide(&self, input_json: &str) -> bool {
        match self.eval("allow", input_json) {
            Ok(v) => v == Value::from(true),
            Err(e) => {
                tracing::error!(error = %e, "a policy decision failed: denied");
                false
            }
        }
    }

    /// Whether `principal` may do `action` in at least one project: everywhere (asked with no
    /// project, which only roles of every project answer), or in one of its memberships.
    pub fn allow_somewhere(&self, principal: &Principal, action: Action) -> bool {
        if self.allow(principal, action, &Resource::global(), None) {
            return true;
        }
        principal
            .project_roles
            .keys()
            .any(|p| self.allow(principal, action, &Resource::project(p), None))
    }

    /// What `principal` may read. An evaluation error reads nothing, and is logged.
    pub fn scope(&self, principal: &Principal) -> Arc<ReadScope> {
        let Ok(key) = serde_json::to_string(&ScopeInput { principal }) else {
            return Arc::new(ReadScope::default());
        };
        if let Some(hit) = self.scope_cache.get(&key) {
            return hit;
        }
        let scope = match self.scope_uncached_json(&key) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                tracing::error!(error = %e, principal = %principal.name, "the read scope failed: nothing readable");
                Arc::new(ReadScope::default())
            }
        };
        self.scope_cache.put(key, scope.clone());
        scope
    }

    /// `scope` without the cache, with its error.
    pub fn scope_uncached(&self, principal: &Principal) -> Result<ReadScope, PolicyError> {
        let key = serde_json::to_string(&ScopeInput { principal })
            .map_err(|e| PolicyError::Eval { rule: "scope", reason: e.to_string() })?;
        self.scope_uncached_json(&key)
    }

    fn scope_uncached_json(&self, input_json: &str) -> Result<ReadScope, PolicyError> {
        let value = self.eval("scope", input_json)?;
        let shape = |v: &Value| PolicyError::Shape {
            rule: "scope",
            value: v.to_json_str().unwrap_or_else(|_| "?".into()),
            expected: "{grants: [{project, statuses}], hidden_collections: [id]}",
        };
        let json = value.to_json_str().map_err(|_| shape(&value))?;
        serde_json::from_str(&json).map_err(|_| shape(&value))
    }
}
