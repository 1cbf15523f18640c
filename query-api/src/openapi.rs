//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::OpenApi;

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
        routes::download::master,
        routes::download::rendition,
        routes::download::rendition_file,
        routes::assets::reprocess,
        routes::assets::ondemand,
        routes::enrichment::put,
        routes::enrichment::segments,
        routes::enrichment::frames,
        routes::search::search,
        routes::search::search_post,
        routes::sql::sql,
        routes::jobs::job,
        routes::jobs::cancel,
        routes::jobs::output,
        routes::jobs::dead_letters,
        routes::reindex::reindex,
    ),
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
        acervo_catalog::OnDemandSpec,
        acervo_catalog::OnDemandJob,
        acervo_catalog::JobState,
        acervo_catalog::Lane,
        acervo_catalog::DeadLetter,
        acervo_catalog::EnrichPart,
    ))
)]
pub struct ApiDoc;
