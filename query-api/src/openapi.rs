//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::OpenApi;

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Acervo API", description = "Digital asset management: upload, catalog, search, download."),
    paths(
        routes::ops::healthz,
        routes::ops::metrics,
        routes::ops::openapi,
        routes::assets::create,
        routes::assets::list,
        routes::assets::get_one,
        routes::assets::patch,
        routes::assets::delete,
        routes::download::master,
        routes::download::rendition,
        routes::search::search,
        routes::jobs::job,
    ),
    components(schemas(
        acervo_catalog::Asset,
        acervo_catalog::Rendition,
        acervo_catalog::TechnicalMetadata,
        acervo_catalog::ImageExif,
        acervo_lakehouse::tables::SearchResults,
        acervo_lakehouse::tables::SearchHit,
        acervo_lakehouse::tables::Facets,
    ))
)]
pub struct ApiDoc;
