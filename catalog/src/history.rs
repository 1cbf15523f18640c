//! An asset's history: one entry per intent that changed its row, with who, when, and the
//! fields before and after. The catalog writer makes the entries as it applies intents (it has
//! both rows at hand), so the history is a table, not a scan of the log; the log offset keys an
//! entry, so a replay rewrites the same ones.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::asset::{Asset, AssetId};
use crate::event::EventEnvelope;

/// Fields of the row a history entry never shows: bookkeeping (`updated_at`), what operators
/// compute (stages, technical metadata, suggestion details) and the long texts models produce
/// (a transcript does not belong in a list of edits; its segments are their own table).
const NOT_SHOWN: &[&str] =
    &["updated_at", "stages", "technical", "ai", "ocr_text", "transcript_text"];

/// One change of one asset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntry {
    #[schema(value_type = String)]
    pub asset_id: AssetId,
    /// The intent's offset in the event log: entries are in this order.
    pub seq: u64,
    pub at: DateTime<Utc>,
    /// Who asked for the change.
    pub principal: String,
    /// What was asked (the intent's type: `metadata_edited`, `editorial_status_changed`…).
    pub change: String,
    /// The fields that changed, as they were (absent from an entry that created the asset).
    #[schema(value_type = Object)]
    pub before: Map<String, Value>,
    /// The same fields as they became.
    #[schema(value_type = Object)]
    pub after: Map<String, Value>,
}

fn shown(asset: &Asset) -> Map<String, Value> {
    match serde_json::to_value(asset) {
        Ok(Value::Object(mut m)) => {
            for k in NOT_SHOWN {
                m.remove(*k);
            }
            m
        }
        // An asset always serialises to an object; nothing to show otherwise.
        _ => Map::new(),
    }
}

/// Nothing to tell: null, an empty text or list.
fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// The entry of intent `env` (at log offset `seq`) that turned `before` into `after`, or
/// `None` when no shown field changed (an intent that only restarts work, or a replay).
pub fn entry(
    seq: u64,
    env: &EventEnvelope,
    before: Option<&Asset>,
    after: &Asset,
) -> Option<HistoryEntry> {
    let new = shown(after);
    let (mut was, mut now) = (Map::new(), Map::new());
    match before {
        None => {
            for (k, v) in new {
                if !is_blank(&v) {
                    now.insert(k, v);
                }
            }
        }
        Some(before) => {
            let old = shown(before);
            for (k, v) in new {
                let prior = old.get(&k).cloned().unwrap_or(Value::Null);
                if prior != v {
                    was.insert(k.clone(), prior);
                    now.insert(k, v);
                }
            }
        }
    }
    // A purge keeps no text, here neither: the entry says only that the status moved.
    if after.status == crate::status::AssetStatus::Purged {
        was.retain(|k, _| k == "status");
        now.retain(|k, _| k == "status");
    }
    if now.is_empty() && was.is_empty() {
        return None;
    }
    let change = match serde_json::to_value(&env.event) {
        Ok(Value::Object(m)) => m.get("type").and_then(Value::as_str).unwrap_or("").to_string(),
        _ => String::new(),
    };
    Some(HistoryEntry {
        asset_id: after.id,
        seq,
        at: env.at,
        principal: env.principal.clone(),
        change,
        before: was,
        after: now,
    })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::entry;
    use crate::{Event, EventEnvelope, MediaKind, apply_event};

    #[test]
    fn an_edit_shows_only_the_fields_it_changed_and_a_replay_shows_nothing() {
        let created = crate::apply::tests::ingested(MediaKind::Image);
        let id = created.event.asset_id();
        let asset = apply_event(None, &created).unwrap();
        let first = entry(1, &created, None, &asset).unwrap();
        assert_eq!(first.change, "asset_ingested");
        assert!(first.before.is_empty());
        assert_eq!(first.after["title"], "Pleno del Congreso");
        assert!(!first.after.contains_key("stages"), "operators' fields are not shown");
        assert!(!first.after.contains_key("status_reason"), "blank fields are not shown");

        let edit = EventEnvelope {
            at: Utc::now(),
            principal: "ana".into(),
            event: Event::MetadataEdited {
                id,
                title: Some("Pleno extraordinario".into()),
                description: None,
                tags: Some(vec!["política".into()]),
                descriptive: Default::default(),
            },
        };
        let edited = apply_event(Some(asset.clone()), &edit).unwrap();
        let e = entry(2, &edit, Some(&asset), &edited).unwrap();
        assert_eq!(e.principal, "ana");
        assert_eq!(e.change, "metadata_edited");
        assert_eq!(e.before.keys().collect::<Vec<_>>(), vec!["title"], "tags did not change");
        assert_eq!(e.before["title"], "Pleno del Congreso");
        assert_eq!(e.after["title"], "Pleno extraordinario");
        // The same intent again (a replay) changes nothing.
        let again = apply_event(Some(edited.clone()), &edit).unwrap();
        assert_eq!(entry(2, &edit, Some(&edited), &again), None);
    }
}
