//! The OpenAPI document, generated from the handlers' annotations. Every operation but the
//! public ones (the `PUBLIC` list of the auth middleware) gets the bearer security requirement
//! and its 401 problem here, once, rather than in each annotation; every operation with a JSON
//! body its 413 (`limits.max_json_bytes`), and every operation the 429 of the rate limits.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Acervo API",
        description = "Digital asset management: upload, catalog, search, download."
    ),
    paths(
        routes::ops::healthz,
        routes::ops::metrics,
        routes::ops::openapi,
        routes::assets::create,
        routes::assets::list,
        routes::assets::get_one,
        routes::assets::patch,
        routes::assets::delete,
        routes::assets::accept,
        routes::assets::reject,
        routes::download::master,
        routes::download::rendition,
        routes::download::rendition_file,
        routes::assets::reprocess,
        routes::workflow::move_status,
        routes::collections::list,
        routes::collections::create,
        routes::collections::get_one,
        routes::collections::update,
        routes::collections::delete,
        routes::collections::grant,
        routes::collections::revoke,
        routes::collections::change_assets,
        routes::assets::ondemand,
        routes::enrichment::put,
        routes::enrichment::segments,
        routes::enrichment::frames,
        routes::history::history,
        routes::legal_hold::place,
        routes::legal_hold::release,
        routes::purge::purge,
        routes::restore::restore,
        routes::events::events,
        routes::search::search,
        routes::search::search_post,
        routes::sql::sql,
        routes::jobs::job,
        routes::jobs::cancel,
        routes::jobs::output,
        routes::jobs::dead_letters,
        routes::reindex::reindex,
        routes::audit::list,
        routes::auth::login,
        routes::auth::refresh,
        routes::auth::logout,
        routes::auth::config,
        routes::auth::me,
        routes::auth::change_password,
        routes::auth::tokens,
        routes::auth::create_token,
        routes::auth::revoke_token,
        routes::admin::list_users,
        routes::admin::create_user,
        routes::admin::get_user,
        routes::admin::update_user,
        routes::admin::set_password,
        routes::admin::list_projects,
        routes::admin::create_project,
        routes::admin::get_project,
        routes::admin::set_member,
        routes::admin::remove_member,
    ),
    modifiers(&BearerAuth),
    components(schemas(
        crate::problem::Problem,
        acervo_catalog::Asset,
        acervo_catalog::Rendition,
        acervo_catalog::TechnicalMetadata,
        acervo_catalog::ImageExif,
        acervo_catalog::Enrichment,
        acervo_catalog::AiInfo,
        acervo_catalog::ScoredLabel,
        acervo_catalog::FrameRow,
        acervo_catalog::HistoryEntry,
        routes::history::HistoryPage,
        routes::legal_hold::LegalHoldRequest,
        routes::purge::PurgeRequest,
        routes::purge::PurgeCandidate,
        routes::purge::PurgeReport,
        acervo_catalog::LegalHold,
        acervo_catalog::FrameResult,
        routes::assets::Suggestions,
        routes::assets::SuggestedLabel,
        routes::assets::AcceptSuggestions,
        routes::reindex::ReindexRequest,
        routes::reindex::ReindexQueued,
        acervo_catalog::TranscriptSegment,
        acervo_catalog::FrameEmbedding,
        acervo_catalog::SegmentRow,
        acervo_lakehouse::search::SearchResponse,
        acervo_lakehouse::search::SearchHit,
        acervo_lakehouse::search::AssetSummary,
        acervo_lakehouse::search::Moment,
        acervo_lakehouse::search::Facets,
        acervo_lakehouse::search::DateInterval,
        acervo_lakehouse::search::DateBucket,
        acervo_lakehouse::search::DurationBucket,
        acervo_catalog::OnDemandSpec,
        acervo_catalog::OnDemandJob,
        acervo_catalog::JobState,
        acervo_catalog::Lane,
        acervo_catalog::DeadLetter,
        acervo_catalog::EnrichPart,
        acervo_catalog::Role,
        acervo_catalog::AuditRow,
        acervo_catalog::AuditEntry,
        acervo_catalog::AuditResult,
        routes::audit::AuditPage,
        acervo_identity::TokenPair,
        acervo_identity::UserInfo,
        acervo_identity::ProjectInfo,
        acervo_identity::Member,
        acervo_identity::ApiTokenInfo,
        routes::auth::LoginRequest,
        routes::auth::RefreshRequest,
        routes::auth::PasswordChange,
        routes::auth::NewApiToken,
        routes::auth::CreatedApiToken,
        routes::auth::Me,
        routes::auth::AuthConfigView,
        routes::auth::OidcLogin,
        routes::admin::CreateUser,
        routes::admin::UpdateUser,
        routes::admin::SetPassword,
        routes::admin::CreateProject,
        routes::admin::Membership,
        acervo_catalog::EditorialStatus,
        routes::workflow::StatusMove,
        acervo_identity::CollectionInfo,
        routes::collections::CreateCollection,
        routes::collections::CollectionPatch,
        routes::collections::CollectionAssets,
        routes::collections::CollectionAssetsChanged,
        routes::events::AssetChange,
    ))
)]
pub struct ApiDoc;

struct BearerAuth;

/// A response documented as a problem+json body.
fn problem(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(RefOr::Ref(Ref::from_schema_name("Problem"))))
                .build(),
        )
        .build()
}

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let scheme = SecurityScheme::Http(
            HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build(),
        );
        doc.components.get_or_insert_with(Default::default).add_security_scheme("bearer", scheme);
        let unauthorized = problem("No valid bearer token");
        // Any protected operation refuses a user who must change the password first, besides
        // what its role does not allow.
        let forbidden =
            problem("Not allowed to the caller's role, or the password must be changed first");
        for (path, item) in doc.paths.paths.iter_mut() {
            if crate::auth::PUBLIC.contains(&path.as_str()) {
                continue;
            }
            let ops =
                [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for op in ops.into_iter().flatten() {
                op.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
                op.responses
                    .responses
                    .entry("401".into())
                    .or_insert_with(|| RefOr::T(unauthorized.clone()));
                op.responses
                    .responses
                    .entry("403".into())
                    .or_insert_with(|| RefOr::T(forbidden.clone()));
            }
        }
        let too_large = problem("The body is larger than the server accepts");
        let too_many =
            problem("Too many requests from this principal or address (see Retry-After)");
        for item in doc.paths.paths.values_mut() {
            let every =
                [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for op in every.into_iter().flatten() {
                op.responses
                    .responses
                    .entry("429".into())
                    .or_insert_with(|| RefOr::T(too_many.clone()));
            }
            let ops = [&mut item.put, &mut item.post, &mut item.patch];
            for op in ops.into_iter().flatten() {
                if op.request_body.is_some() {
                    op.responses
                        .responses
                        .entry("413".into())
                        .or_insert_with(|| RefOr::T(too_large.clone()));
                }
            }
        }
    }
}
