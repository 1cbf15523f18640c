//! `GET /api/v1/events`: a server-sent event stream of the changes the caller may see, so a web
//! page never polls. Each committed catalog write that touches assets the caller may read (the
//! policy decides per asset, at the time of the change) becomes one `assets` event listing them
//! as they now stand; a listener too slow to keep up gets a `lagged` event (reload what you
//! show). The stream ends when the caller's access token would (`auth.access_token_minutes`): a
//! client reconnects with a fresh one, so a revoked membership or session stops the flow.

use std::convert::Infallible;
use std::time::Duration;

use acervo_catalog::{Action, Asset, AssetId, AssetStatus, EditorialStatus, Principal, Stages};
use acervo_policy::Resource;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::{DateTime, Utc};
use futures::Stream;
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::state::AppState;

/// An asset as it stands after a change (what a list or a progress bar shows).
#[derive(Serialize, ToSchema)]
pub struct AssetChange {
    pub id: AssetId,
    pub title: String,
    pub project: String,
    pub status: AssetStatus,
    pub status_reason: Option<String>,
    pub editorial_status: EditorialStatus,
    pub collections: Vec<String>,
    #[schema(value_type = Object)]
    pub stages: Stages,
    pub updated_at: DateTime<Utc>,
}

impl AssetChange {
    fn of(a: &Asset) -> Self {
        AssetChange {
            id: a.id,
            title: a.title.clone(),
            project: a.project.clone(),
            status: a.status,
            status_reason: a.status_reason.clone(),
            editorial_status: a.editorial_status,
            collections: a.collections.clone(),
            stages: a.stages.clone(),
            updated_at: a.updated_at,
        }
    }
}

/// The changes the caller may see, as they are committed (`text/event-stream`).
#[utoipa::path(get, path = "/api/v1/events", tag = "assets",
    responses(
        (status = 200, description = "A stream of `assets` events (data: the changed assets, JSON) and `lagged` events", body = Vec<AssetChange>, content_type = "text/event-stream"),
    ))]
pub async fn events(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = state.search.subscribe();
    let lifetime = Duration::from_secs(state.config.auth.access_token_minutes.max(1) * 60);
    let until = tokio::time::Instant::now() + lifetime;
    let stream = futures::stream::unfold(
        (rx, state, principal),
        move |(mut rx, state, principal): (_, AppState, Principal)| async move {
            loop {
                let next = tokio::time::timeout_at(until, rx.recv()).await.ok()?;
                let event = match next {
                    Ok(batch) => {
                        let visible: Vec<AssetChange> = batch
                            .iter()
                            .filter(|a| {
                                state.may(&principal, Action::AssetRead, &Resource::asset(a))
                            })
                            .map(AssetChange::of)
                            .collect();
                        if visible.is_empty() {
                            continue;
                        }
                        match Event::default().event("assets").json_data(&visible) {
                            Ok(e) => e,
                            Err(e) => {
                                tracing::error!(error = %e, "encoding a change event");
                                continue;
                            }
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        Event::default().event("lagged").data(missed.to_string())
                    }
                    Err(RecvError::Closed) => return None,
                };
                return Some((Ok(event), (rx, state, principal)));
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
