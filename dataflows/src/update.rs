//! What flows from the log and the media operators into the catalog writer.

use acervo_catalog::{EventEnvelope, WorkResult};
use serde::{Deserialize, Serialize};

use crate::json::Json;

/// An intent read from the log at `offset`, or a result of media work for the intent there.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Update {
    Event { offset: u64, event: Json<EventEnvelope> },
    Result { offset: u64, result: Json<WorkResult> },
}
