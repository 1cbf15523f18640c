//! The `history` table: the catalog writer appends an entry per intent that changed an asset
//! (`acervo_catalog::history`), read back newest first for `GET /api/v1/assets/{id}/history`.
//! Appended before the asset rows of the same write, so a crash between the two loses no entry;
//! a retried write may append an entry twice, and reads keep one per log offset.

use std::sync::Arc;

use acervo_catalog::schema::HISTORY;
use acervo_catalog::{AssetId, HistoryEntry};
use arrow_array::cast::AsArray;
use arrow_array::types::{TimestampMicrosecondType, UInt64Type};
use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampMicrosecondArray, UInt64Array};
use chrono::{DateTime, Utc};
use lance::dataset::scanner::ColumnOrdering;

use super::asset_rows::RowError;
use super::catalog::{Catalog, CatalogError, lance_err, rows};
use super::filter::quote;

fn json_text(m: &serde_json::Map<String, serde_json::Value>) -> String {
    serde_json::Value::Object(m.clone()).to_string()
}

fn history_to_batch(rows: &[HistoryEntry]) -> Result<RecordBatch, RowError> {
    let ids: Vec<String> = rows.iter().map(|r| r.asset_id.to_string()).collect();
    let before: Vec<String> = rows.iter().map(|r| json_text(&r.before)).collect();
    let after: Vec<String> = rows.iter().map(|r| json_text(&r.after)).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(ids.iter())),
        Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.seq))),
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(
                rows.iter().map(|r| r.at.timestamp_micros()),
            )
            .with_timezone("UTC"),
        ),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.principal.as_str()))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.change.as_str()))),
        Arc::new(StringArray::from_iter_values(before.iter())),
        Arc::new(StringArray::from_iter_values(after.iter())),
    ];
    Ok(RecordBatch::try_new(HISTORY.clone(), columns)?)
}

fn batch_to_history(b: &RecordBatch) -> Result<Vec<HistoryEntry>, RowError> {
    let text = |name: &'static str| {
        b.column_by_name(name)
            .and_then(|c| c.as_string_opt::<i32>())
            .ok_or(RowError::MissingColumn(name))
    };
    let seq = b
        .column_by_name("seq")
        .and_then(|c| c.as_primitive_opt::<UInt64Type>())
        .ok_or(RowError::MissingColumn("seq"))?;
    let at = b
        .column_by_name("at")
        .and_then(|c| c.as_primitive_opt::<TimestampMicrosecondType>())
        .ok_or(RowError::MissingColumn("at"))?;
    let (ids, principal, change) = (text("asset_id")?, text("principal")?, text("change")?);
    let (before, after) = (text("before")?, text("after")?);
    (0..b.num_rows())
        .map(|i| {
            let bad = |column: &'static str, reason: String| RowError::BadValue {
                row: i,
                column,
                reason,
            };
            let object = |column: &'static str, s: &str| match serde_json::from_str(s) {
                Ok(serde_json::Value::Object(m)) => Ok(m),
                Ok(_) => Err(bad(column, "not a JSON object".into())),
                Err(e) => Err(bad(column, e.to_string())),
            };
            Ok(HistoryEntry {
                asset_id: ids
                    .value(i)
                    .parse::<AssetId>()
                    .map_err(|e| bad("asset_id", e.to_string()))?,
                seq: seq.value(i),
                at: DateTime::<Utc>::from_timestamp_micros(at.value(i))
                    .ok_or_else(|| bad("at", format!("{} is no time", at.value(i))))?,
                principal: principal.value(i).to_string(),
                change: change.value(i).to_string(),
                before: object("before", before.value(i))?,
                after: object("after", after.value(i))?,
            })
        })
        .collect()
}

impl Catalog {
    /// Appends history entries (the catalog writer's, before the rows they describe).
    pub async fn append_history(&self, entries: &[HistoryEntry]) -> Result<(), CatalogError> {
        if entries.is_empty() {
            return Ok(());
        }
        let batch = history_to_batch(entries)?;
        let _guard = self.write_lock.lock().await;
        let mut ds = (*Self::current(&self.history)).clone();
        let reader = arrow_array::RecordBatchIterator::new(vec![Ok(batch)], HISTORY.clone());
        ds.append(reader, None).await.map_err(lance_err("history"))?;
        Self::replace(&self.history, Arc::new(ds));
        Ok(())
    }

    /// The asset's entries older than log offset `before` (all when `None`), newest first, at
    /// most `limit`.
    pub async fn history_of(
        &self,
        id: AssetId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>, CatalogError> {
        let ds = Self::current(&self.history);
        let mut scan = ds.scan();
        let mut predicate = format!("asset_id = {}", quote(&id.to_string()));
        if let Some(b) = before {
            predicate.push_str(&format!(" AND seq < {b}"));
        }
        scan.filter(&predicate).map_err(lance_err("history"))?;
        scan.order_by(Some(vec![ColumnOrdering::desc_nulls_last("seq".into())]))
            .map_err(lance_err("history"))?;
        // Twice the page: a retried write may have appended an entry twice.
        scan.limit(Some((limit.saturating_mul(2)) as i64), None).map_err(lance_err("history"))?;
        let mut out = rows(&scan, "history", batch_to_history).await?;
        out.sort_by_key(|e| std::cmp::Reverse(e.seq));
        out.dedup_by_key(|e| e.seq);
        out.truncate(limit);
        Ok(out)
    }
}
