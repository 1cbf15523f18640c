//! `IdentityStore`: the directory behind a lock, its journal, the local token issuer and the
//! login throttle. Every change is journaled (fsynced) before it is applied and answered. The
//! calls that hash a password (login, creating a user, changing a password) take tens of
//! milliseconds of CPU: the API runs them on a blocking thread.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use acervo_catalog::config::AuthConfig;
use acervo_catalog::{Principal, ProjectSlug, Role};
use chrono::{DateTime, Utc};

use crate::authenticator::AuthFailure;
use crate::directory::{ApiTokenInfo, Directory, ProjectInfo, Record, UserInfo};
use crate::error::IdentityError;
use crate::journal::Journal;
use crate::local_tokens::{API_TOKEN_PREFIX, LocalIssuer, TOKEN_TYPE, TokenPair, split_opaque};
use crate::password::PasswordPolicy;
use crate::random;
use crate::scram::ScramVerifier;

/// Compaction happens when the journal holds this many records more than a snapshot would.
const COMPACT_SLACK: usize = 10_000;

pub struct NewUser {
    pub name: String,
    pub display_name: String,
    pub password: Option<String>,
    pub roles: Vec<Role>,
    /// Set by an administrator (or the first start): the user must choose their own.
    pub must_change_password: bool,
}

pub(crate) struct Inner {
    pub(crate) dir: Directory,
    journal: Journal,
}

pub struct IdentityStore {
    folder: PathBuf,
    inner: Mutex<Inner>,
    passwords: PasswordPolicy,
    scram_iterations: u32,
    pub(crate) issuer: LocalIssuer,
    refresh_days: i64,
    throttle: Mutex<Throttle>,
    attempts_per_minute: usize,
}

/// A user name is what people type to sign in: lower-case letters, digits, `.`, `_`, `-`.
fn check_user_name(name: &str) -> Result<(), IdentityError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(IdentityError::Invalid(format!(
            "{name:?} is not a user name (lower-case letters, digits, '.', '_', '-', at most 64)"
        )))
    }
}

impl IdentityStore {
    /// Opens the store in `folder` (created if missing).
    pub fn open(folder: &Path, config: &AuthConfig) -> Result<IdentityStore, IdentityError> {
        std::fs::create_dir_all(folder).map_err(IdentityError::io("create", folder))?;
        let (journal, records) = Journal::open::<Record>(&folder.join("journal.jsonl"))?;
        let mut dir = Directory::default();
        for r in &records {
            dir.apply(r);
        }
        let issuer = LocalIssuer::open(
            &folder.join("token.key"),
            &config.local_issuer,
            config.access_token_minutes.saturating_mul(60),
        )?;
        let store = IdentityStore {
            folder: folder.to_path_buf(),
            inner: Mutex::new(Inner { dir, journal }),
            passwords: PasswordPolicy {
                memory_kib: config.argon2_memory_kib,
                iterations: config.argon2_iterations,
                min_length: config.min_password_length,
            },
            scram_iterations: config.scram_iterations,
            issuer,
            refresh_days: i64::from(config.refresh_token_days),
            throttle: Mutex::new(Throttle::default()),
            attempts_per_minute: config.login_attempts_per_minute,
        };
        store.compact_if_long()?;
        Ok(store)
    }

    pub fn folder(&self) -> &Path {
        &self.folder
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Journals `records` (one fsync), then applies them.
    pub(crate) fn commit(inner: &mut Inner, records: Vec<Record>) -> Result<(), IdentityError> {
        inner.journal.append(&records)?;
        for r in &records {
            inner.dir.apply(r);
        }
        Ok(())
    }

    fn compact_if_long(&self) -> Result<(), IdentityError> {
        let mut inner = self.lock();
        let snapshot = inner.dir.snapshot(Utc::now());
        if inner.journal.records > snapshot.len() + COMPACT_SLACK {
            inner.journal.rewrite(&snapshot)?;
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.lock().dir.users.is_empty()
    }

    pub fn passwords(&self) -> &PasswordPolicy {
        &self.passwords
    }

    fn password_records(
        &self,
        name: &str,
        password: &str,
        must_change: bool,
    ) -> Result<Record, IdentityError> {
        self.passwords.check(password)?;
        Ok(Record::PasswordSet {
            name: name.to_string(),
            argon2: self.passwords.hash(password)?,
            scram: ScramVerifier::new(password, self.scram_iterations)?.encode(),
            must_change,
        })
    }

    // ---- users ----

    pub fn create_user(&self, new: NewUser) -> Result<UserInfo, IdentityError> {
        check_user_name(&new.name)?;
        // Hash before taking the lock: it is the slow part.
        let password = match &new.password {
            Some(p) => Some(self.password_records(&new.name, p, new.must_change_password)?),
            None => None,
        };
        let mut inner = self.lock();
        if inner.dir.users.contains_key(&new.name) {
            return Err(IdentityError::UserExists(new.name));
        }
        let mut records = vec![Record::UserCreated {
            name: new.name.clone(),
            display_name: new.display_name,
            roles: new.roles,
            at: Utc::now(),
        }];
        records.extend(password);
        Self::commit(&mut inner, records)?;
        inner.dir.user_info(&new.name).ok_or(IdentityError::NoSuchUser(new.name))
    }

    pub fn user(&self, name: &str) -> Option<UserInfo> {
        self.lock().dir.user_info(name)
    }

    pub fn users(&self) -> Vec<UserInfo> {
        let inner = self.lock();
        inner.dir.users.keys().filter_map(|n| inner.dir.user_info(n)).collect()
    }

    pub fn update_user(
        &self,
        name: &str,
        display_name: Option<String>,
        roles: Option<Vec<Role>>,
        disabled: Option<bool>,
    ) -> Result<UserInfo, IdentityError> {
        let mut inner = self.lock();
        if !inner.dir.users.contains_key(name) {
            return Err(IdentityError::NoSuchUser(name.to_string()));
        }
        let mut records =
            vec![Record::UserChanged { name: name.to_string(), display_name, roles, disabled }];
        if disabled == Some(true) {
            // A disabled user's sessions end now, not when their tokens expire.
            records.extend(Self::family_revocations(&inner.dir, name, "user disabled"));
        }
        Self::commit(&mut inner, records)?;
        inner.dir.user_info(name).ok_or_else(|| IdentityError::NoSuchUser(name.to_string()))
    }

    fn family_revocations(dir: &Directory, user: &str, reason: &str) -> Vec<Record> {
        dir.families
            .iter()
            .filter(|(_, f)| f.user == user && !f.revoked)
            .map(|(id, _)| Record::FamilyRevoked { family: id.clone(), reason: reason.to_string() })
            .collect()
    }

    /// An administrator sets `name`'s password (`must_change`: the user chooses their own at
    /// the next login).
    pub fn set_password(
        &self,
        name: &str,
        password: &str,
        must_change: bool,
    ) -> Result<(), IdentityError> {
        let record = self.password_records(name, password, must_change)?;
        let mut inner = self.lock();
        if !inner.dir.users.contains_key(name) {
            return Err(IdentityError::NoSuchUser(name.to_string()));
        }
        let mut records = vec![record];
        records.extend(Self::family_revocations(
            &inner.dir,
            name,
            "password set by an administrator",
        ));
        Self::commit(&mut inner, records)
    }

    /// A user changes their own password, proving the current one. Their other sessions end.
    pub fn change_password(
        &self,
        name: &str,
        current: &str,
        new: &str,
        keep_family: Option<&str>,
    ) -> Result<(), AuthFailure> {
        // Guessing the current password with a stolen session is throttled like a login.
        let keys = [format!("user:{name}")];
        if let Some(wait) = self.throttled(&keys) {
            return Err(AuthFailure::TooManyAttempts(wait));
        }
        let stored = self.lock().dir.users.get(name).and_then(|u| u.argon2.clone());
        match stored {
            Some(h) if self.passwords.verify(current, &h) => {}
            _ => {
                self.note_failure(&keys);
                return Err(AuthFailure::BadCredentials);
            }
        }
        if current == new {
            return Err(AuthFailure::Refused("the new password is the current one".into()));
        }
        let record = self.password_records(name, new, false).map_err(AuthFailure::from_identity)?;
        let mut inner = self.lock();
        let mut records = vec![record];
        records.extend(
            Self::family_revocations(&inner.dir, name, "password changed")
                .into_iter()
                .filter(|r| !matches!(r, Record::FamilyRevoked { family, .. } if Some(family.as_str()) == keep_family)),
        );
        Self::commit(&mut inner, records).map_err(AuthFailure::from_identity)?;
        drop(inner);
        // A generated first password is spent once its owner has chosen one.
        let first = crate::bootstrap::initial_password_file(self);
        if name == acervo_catalog::ADMIN
            && first.exists()
            && let Err(e) = std::fs::remove_file(&first)
        {
            tracing::warn!(file = %first.display(), error = %e, "cannot remove the first password's file");
        }
        Ok(())
    }

    /// The SCRAM-SHA-256 verifier of a local user who may sign in (for the SQL endpoint).
    pub fn scram_verifier(&self, name: &str) -> Option<ScramVerifier> {
        let inner = self.lock();
        let u = inner.dir.users.get(name).filter(|u| !u.disabled)?;
        ScramVerifier::decode(u.scram.as_deref()?).ok()
    }

    // ---- projects ----

    pub fn create_project(
        &self,
        slug: ProjectSlug,
        title: String,
    ) -> Result<ProjectInfo, IdentityError> {
        let mut inner = self.lock();
        if inner.dir.projects.contains_key(&slug) {
            return Err(IdentityError::ProjectExists(slug.as_str().to_string()));
        }
        Self::commit(
            &mut inner,
            vec![Record::ProjectCreated { slug: slug.clone(), title, at: Utc::now() }],
        )?;
        inner
            .dir
            .project_info(&slug)
            .ok_or_else(|| IdentityError::NoSuchProject(slug.as_str().into()))
    }

    /// Creates each project of `slugs` that does not exist yet (titled by its slug), in one
    /// fsync: how the projects named by existing assets become projects.
    pub fn ensure_projects(&self, slugs: &[ProjectSlug]) -> Result<usize, IdentityError> {
        let mut inner = self.lock();
        let now = Utc::now();
        let records: Vec<Record> = slugs
            .iter()
            .filter(|s| !inner.dir.projects.contains_key(*s))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|s| Record::ProjectCreated {
                slug: s.clone(),
                title: s.as_str().to_string(),
                at: now,
            })
            .collect();
        let n = records.len();
        if n > 0 {
            Self::commit(&mut inner, records)?;
        }
        Ok(n)
    }

    pub fn project(&self, slug: &ProjectSlug) -> Option<ProjectInfo> {
        self.lock().dir.project_info(slug)
    }

    pub fn projects(&self) -> Vec<ProjectInfo> {
        let inner = self.lock();
        inner.dir.projects.keys().filter_map(|s| inner.dir.project_info(s)).collect()
    }

    /// Grants `user` `role` in `project`, or ends the membership (`None`).
    pub fn set_member(
        &self,
        project: &ProjectSlug,
        user: &str,
        role: Option<Role>,
    ) -> Result<ProjectInfo, IdentityError> {
        let mut inner = self.lock();
        if !inner.dir.projects.contains_key(project) {
            return Err(IdentityError::NoSuchProject(project.as_str().into()));
        }
        if !inner.dir.users.contains_key(user) {
            return Err(IdentityError::NoSuchUser(user.to_string()));
        }
        Self::commit(
            &mut inner,
            vec![Record::MemberSet { project: project.clone(), user: user.to_string(), role }],
        )?;
        inner
            .dir
            .project_info(project)
            .ok_or_else(|| IdentityError::NoSuchProject(project.as_str().into()))
    }

    // ---- personal API tokens ----

    /// A new token for `user`: the token itself (shown once) and what is kept of it.
    pub fn create_api_token(
        &self,
        user: &str,
        name: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(String, ApiTokenInfo), IdentityError> {
        if name.trim().is_empty() || name.len() > 200 {
            return Err(IdentityError::Invalid("a token needs a name of at most 200 bytes".into()));
        }
        if expires_at.is_some_and(|e| e <= Utc::now()) {
            return Err(IdentityError::Invalid("a token's expiry must be in the future".into()));
        }
        let id = uuid::Uuid::now_v7().simple().to_string();
        let secret = random::token()?;
        let mut inner = self.lock();
        if !inner.dir.users.contains_key(user) {
            return Err(IdentityError::NoSuchUser(user.to_string()));
        }
        Self::commit(
            &mut inner,
            vec![Record::TokenCreated {
                id: id.clone(),
                user: user.to_string(),
                name: name.to_string(),
                hash: random::sha256_hex(&secret),
                at: Utc::now(),
                expires_at,
            }],
        )?;
        let info =
            inner.dir.token_info(&id).ok_or_else(|| IdentityError::NoSuchToken(id.clone()))?;
        Ok((format!("{API_TOKEN_PREFIX}{id}.{secret}"), info))
    }

    pub fn api_tokens(&self, user: Option<&str>) -> Vec<ApiTokenInfo> {
        let inner = self.lock();
        inner
            .dir
            .tokens
            .iter()
            .filter(|(_, t)| user.is_none_or(|u| t.user == u))
            .filter_map(|(id, _)| inner.dir.token_info(id))
            .collect()
    }

    pub fn api_token(&self, id: &str) -> Option<ApiTokenInfo> {
        self.lock().dir.token_info(id)
    }

    pub fn revoke_api_token(&self, id: &str) -> Result<(), IdentityError> {
        let mut inner = self.lock();
        if !inner.dir.tokens.contains_key(id) {
            return Err(IdentityError::NoSuchToken(id.to_string()));
        }
        Self::commit(&mut inner, vec![Record::TokenRevoked { id: id.to_string() }])
    }

    // ---- sessions ----

    /// Checks a login attempt from `client` (an IP) against the throttle, then the password.
    pub fn login(
        &self,
        name: &str,
        password: &str,
        client: &str,
    ) -> Result<TokenPair, AuthFailure> {
        let keys = [format!("user:{name}"), format!("ip:{client}")];
        if let Some(wait) = self.throttled(&keys) {
            return Err(AuthFailure::TooManyAttempts(wait));
        }
        let found =
            self.lock().dir.users.get(name).map(|u| (u.argon2.clone(), u.disabled, u.must_change));
        let ok = match &found {
            Some((Some(hash), _, _)) => self.passwords.verify(password, hash),
            _ => {
                self.passwords.waste_time(password);
                false
            }
        };
        if !ok {
            self.note_failure(&keys);
            return Err(AuthFailure::BadCredentials);
        }
        let Some((_, disabled, must_change)) = found else {
            return Err(AuthFailure::BadCredentials);
        };
        if disabled {
            return Err(AuthFailure::Disabled(name.to_string()));
        }
        self.open_session(name, must_change)
    }

    fn open_session(&self, name: &str, must_change: bool) -> Result<TokenPair, AuthFailure> {
        let family = uuid::Uuid::now_v7().simple().to_string();
        let secret = random::token().map_err(AuthFailure::from_identity)?;
        let now = Utc::now();
        let mut inner = self.lock();
        Self::commit(
            &mut inner,
            vec![Record::RefreshIssued {
                family: family.clone(),
                user: name.to_string(),
                hash: random::sha256_hex(&secret),
                expires_at: now + chrono::Duration::days(self.refresh_days),
            }],
        )
        .map_err(AuthFailure::from_identity)?;
        drop(inner);
        self.pair(name, &family, &secret, must_change, now)
    }

    fn pair(
        &self,
        name: &str,
        family: &str,
        secret: &str,
        must_change: bool,
        now: DateTime<Utc>,
    ) -> Result<TokenPair, AuthFailure> {
        Ok(TokenPair {
            access_token: self
                .issuer
                .access_token(name, family, now)
                .map_err(AuthFailure::from_identity)?,
            refresh_token: format!("{family}.{secret}"),
            token_type: TOKEN_TYPE,
            expires_in: self.issuer.access_seconds,
            must_change_password: must_change,
        })
    }

    /// Trades a refresh token for a new pair. The old one is spent: presenting it again (a
    /// stolen copy, or the thief's after the owner refreshed) revokes the whole family.
    pub fn refresh(&self, refresh_token: &str) -> Result<TokenPair, AuthFailure> {
        let (family, secret) =
            split_opaque(refresh_token).ok_or(AuthFailure::Malformed("not a refresh token"))?;
        let now = Utc::now();
        let mut inner = self.lock();
        let Some(f) = inner.dir.families.get(family).cloned() else {
            return Err(AuthFailure::Revoked);
        };
        if f.revoked || f.expires_at <= now {
            return Err(AuthFailure::Revoked);
        }
        if !random::same(random::sha256_hex(secret).as_bytes(), f.current.as_bytes()) {
            Self::commit(
                &mut inner,
                vec![Record::FamilyRevoked {
                    family: family.to_string(),
                    reason: "refresh token reused".into(),
                }],
            )
            .map_err(AuthFailure::from_identity)?;
            tracing::warn!(user = %f.user, "a spent refresh token was presented: its family is revoked");
            return Err(AuthFailure::Reused(f.user));
        }
        let (disabled, must_change) = inner
            .dir
            .users
            .get(&f.user)
            .map(|u| (u.disabled, u.must_change))
            .unwrap_or((true, false));
        if disabled {
            return Err(AuthFailure::Disabled(f.user));
        }
        let next = random::token().map_err(AuthFailure::from_identity)?;
        Self::commit(
            &mut inner,
            vec![Record::RefreshIssued {
                family: family.to_string(),
                user: f.user.clone(),
                hash: random::sha256_hex(&next),
                expires_at: f.expires_at,
            }],
        )
        .map_err(AuthFailure::from_identity)?;
        drop(inner);
        self.pair(&f.user, family, &next, must_change, now)
    }

    /// Ends a session (its refresh family, and with it its access tokens).
    pub fn logout(&self, family: &str) -> Result<(), IdentityError> {
        let mut inner = self.lock();
        if inner.dir.families.get(family).is_some_and(|f| !f.revoked) {
            Self::commit(
                &mut inner,
                vec![Record::FamilyRevoked { family: family.to_string(), reason: "logout".into() }],
            )?;
        }
        Ok(())
    }

    // ---- what the authenticator asks ----

    /// The principal of a local access token's user, if the session is still open.
    pub(crate) fn session_principal(
        &self,
        user: &str,
        family: &str,
    ) -> Result<(Principal, bool), AuthFailure> {
        let inner = self.lock();
        match inner.dir.families.get(family) {
            Some(f) if !f.revoked && f.user == user => {}
            _ => return Err(AuthFailure::Revoked),
        }
        Self::active_principal(&inner.dir, user)
    }

    fn active_principal(dir: &Directory, user: &str) -> Result<(Principal, bool), AuthFailure> {
        let u = dir.users.get(user).ok_or(AuthFailure::Revoked)?;
        if u.disabled {
            return Err(AuthFailure::Disabled(user.to_string()));
        }
        let p = dir.principal(user).ok_or(AuthFailure::Revoked)?;
        Ok((p, u.must_change))
    }

    /// The principal of a personal API token.
    pub(crate) fn api_token_principal(&self, token: &str) -> Result<Principal, AuthFailure> {
        let rest = token
            .strip_prefix(API_TOKEN_PREFIX)
            .ok_or(AuthFailure::Malformed("not an API token"))?;
        let (id, secret) = split_opaque(rest).ok_or(AuthFailure::Malformed("not an API token"))?;
        let inner = self.lock();
        let t = inner.dir.tokens.get(id).ok_or(AuthFailure::Revoked)?;
        if !random::same(random::sha256_hex(secret).as_bytes(), t.hash.as_bytes()) {
            return Err(AuthFailure::BadSignature);
        }
        if t.revoked {
            return Err(AuthFailure::Revoked);
        }
        if t.expires_at.is_some_and(|e| e <= Utc::now()) {
            return Err(AuthFailure::Expired);
        }
        Self::active_principal(&inner.dir, &t.user).map(|(p, _)| p)
    }

    // ---- the login throttle ----

    /// How long these keys must wait. An address is allowed ten times a user name's failures:
    /// a newsroom signs in from behind one NAT address.
    fn throttled(&self, keys: &[String]) -> Option<Duration> {
        let mut t = self.throttle.lock().unwrap_or_else(|p| p.into_inner());
        keys.iter()
            .filter_map(|k| {
                let allowed = if k.starts_with("ip:") {
                    self.attempts_per_minute.saturating_mul(10)
                } else {
                    self.attempts_per_minute
                };
                t.wait(k, allowed)
            })
            .max()
    }

    fn note_failure(&self, keys: &[String]) {
        let mut t = self.throttle.lock().unwrap_or_else(|p| p.into_inner());
        for k in keys {
            t.fail(k);
        }
    }
}

/// Failed logins per key (a user name, a client address) over the last minute.
#[derive(Default)]
struct Throttle {
    failures: HashMap<String, VecDeque<Instant>>,
}

const WINDOW: Duration = Duration::from_secs(60);

impl Throttle {
    fn wait(&mut self, key: &str, allowed: usize) -> Option<Duration> {
        let q = self.failures.get_mut(key)?;
        let now = Instant::now();
        while q.front().is_some_and(|t| now.duration_since(*t) > WINDOW) {
            q.pop_front();
        }
        if q.is_empty() {
            self.failures.remove(key);
            return None;
        }
        (q.len() >= allowed)
            .then(|| q.front().map_or(WINDOW, |t| WINDOW.saturating_sub(now.duration_since(*t))))
    }

    fn fail(&mut self, key: &str) {
        // Bounded memory under a spray of user names: forget the oldest keys first.
        if self.failures.len() > 100_000 {
            self.failures.clear();
        }
        self.failures.entry(key.to_string()).or_default().push_back(Instant::now());
    }
}
