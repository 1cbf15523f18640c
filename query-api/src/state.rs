//! What every handler shares.

use std::sync::Arc;

use acervo_catalog::{AcervoConfig, Action, Principal, ReadScope};
use acervo_dataflows::{Engine, JobRegistry, Metrics};
use acervo_identity::{Authenticator, IdentityStore};
use acervo_lakehouse::{AuditTrail, Catalog, EventLog, MasterStore, SearchIndex};
use acervo_policy::{Policy, Resource};

use crate::http_metrics::HttpMetrics;
use crate::pending::PendingWrites;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<AcervoConfig>,
    pub catalog: Arc<Catalog>,
    pub search: Arc<SearchIndex>,
    pub log: Arc<dyn EventLog>,
    pub masters: MasterStore,
    pub engine: Arc<Engine>,
    pub jobs: Arc<JobRegistry>,
    pub metrics: Arc<Metrics>,
    /// Users, projects, memberships and sessions.
    pub identity: Arc<IdentityStore>,
    /// Bearer token → principal (local tokens and the OpenID provider's).
    pub authenticator: Arc<Authenticator>,
    /// Who did what, chained and durable (the `audit` table).
    pub audit: Arc<AuditTrail>,
    /// Who may do what (Rego), and what each principal may read.
    pub policy: Arc<Policy>,
    /// Every request acts as the administrator (loopback only: `acervo serve` checks).
    pub auth_disabled: bool,
    /// The sentence model that embeds text queries for vector and hybrid search.
    pub text_model: Option<Arc<acervo_operators::embed::TextVectors>>,
    /// The model behind each enrichment part now (`name@version`), for reindexing.
    pub ai_models: std::collections::BTreeMap<acervo_catalog::EnrichPart, String>,
    pub(crate) http: Arc<HttpMetrics>,
    pub(crate) pending: Arc<PendingWrites>,
    /// Serialises the duplicate check and the append of an ingest, so two uploads of the same
    /// content cannot both pass the check.
    pub(crate) admission: Arc<tokio::sync::Mutex<()>>,
}

impl AppState {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: Arc<AcervoConfig>,
        catalog: Arc<Catalog>,
        search: Arc<SearchIndex>,
        log: Arc<dyn EventLog>,
        masters: MasterStore,
        engine: Arc<Engine>,
        jobs: Arc<JobRegistry>,
        metrics: Arc<Metrics>,
        authenticator: Arc<Authenticator>,
        audit: Arc<AuditTrail>,
        policy: Arc<Policy>,
    ) -> AppState {
        let http = Arc::new(HttpMetrics::register(&metrics.registry));
        let auth_disabled = config.auth.disabled;
        AppState {
            config,
            catalog,
            search,
            log,
            masters,
            engine,
            jobs,
            metrics,
            identity: Arc::clone(&authenticator.store),
            auth_disabled,
            authenticator,
            audit,
            policy,
            text_model: None,
            ai_models: Default::default(),
            http,
            pending: Arc::new(PendingWrites::default()),
            admission: Arc::default(),
        }
    }
}

/// The policy's decisions, as handlers ask them.
impl AppState {
    pub(crate) fn may(&self, principal: &Principal, action: Action, resource: &Resource) -> bool {
        self.policy.allow(principal, action, resource, None)
    }

    /// An action of no project (the audit trail, administration, SQL over every row).
    pub(crate) fn may_everywhere(&self, principal: &Principal, action: Action) -> bool {
        self.policy.allow(principal, action, &Resource::global(), None)
    }

    /// In at least one project (refusing an upload before its bytes, a reindex).
    pub(crate) fn may_somewhere(&self, principal: &Principal, action: Action) -> bool {
        self.policy.allow_somewhere(principal, action)
    }

    /// What `principal` may read, the filter every listing and search applies.
    pub(crate) fn scope(&self, principal: &Principal) -> Arc<ReadScope> {
        self.policy.scope(principal)
    }
}
