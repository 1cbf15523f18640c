//! The `audit` table: rows appended in sequence by the audit trail, read back in order (to verify
//! the chain, and for `GET /api/v1/audit` with its filters pushed into the scan).

use std::sync::Arc;

use acervo_catalog::schema::AUDIT;
use acervo_catalog::{AuditEntry, AuditResult, AuditRow};
use arrow_array::cast::AsArray;
use arrow_array::types::{TimestampMicrosecondType, UInt16Type, UInt64Type};
use arrow_array::{
    Array, ArrayRef, RecordBatch, StringArray, TimestampMicrosecondArray, UInt16Array, UInt64Array,
};
use chrono::{DateTime, Utc};

use super::asset_rows::RowError;
use super::catalog::{Catalog, CatalogError, lance_err, rows};

fn strings<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

fn audit_to_batch(rows: &[AuditRow]) -> Result<RecordBatch, RowError> {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.seq))),
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(
                rows.iter().map(|r| r.entry.at.timestamp_micros()),
            )
            .with_timezone("UTC"),
        ),
        strings(rows.iter().map(|r| r.entry.who.as_str())),
        strings(rows.iter().map(|r| r.entry.action.as_str())),
        strings(rows.iter().map(|r| r.entry.resource.as_str())),
        strings(rows.iter().map(|r| r.entry.result.as_str())),
        Arc::new(UInt16Array::from(rows.iter().map(|r| r.entry.status).collect::<Vec<_>>())),
        strings(rows.iter().map(|r| r.entry.client_ip.as_str())),
        strings(rows.iter().map(|r| r.entry.user_agent.as_str())),
        strings(rows.iter().map(|r| r.entry.detail.as_str())),
        strings(rows.iter().map(|r| r.prev_hash.as_str())),
        strings(rows.iter().map(|r| r.hash.as_str())),
    ];
    Ok(RecordBatch::try_new(AUDIT.clone(), columns)?)
}

fn batch_to_audit(b: &RecordBatch) -> Result<Vec<AuditRow>, RowError> {
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
    let status = b
        .column_by_name("status")
        .and_then(|c| c.as_primitive_opt::<UInt16Type>())
        .ok_or(RowError::MissingColumn("status"))?;
    let (who, action, resource, result) =
        (text("who")?, text("action")?, text("resource")?, text("result")?);
    let (ip, ua, detail) = (text("client_ip")?, text("user_agent")?, text("detail")?);
    let (prev, hash) = (text("prev_hash")?, text("hash")?);
    (0..b.num_rows())
        .map(|i| {
            let bad = |column: &'static str, reason: String| RowError::BadValue {
                row: i,
                column,
                reason,
            };
            Ok(AuditRow {
                seq: seq.value(i),
                entry: AuditEntry {
                    at: DateTime::<Utc>::from_timestamp_micros(at.value(i))
                        .ok_or_else(|| bad("at", format!("{} is no time", at.value(i))))?,
                    who: who.value(i).to_string(),
                    action: action.value(i).to_string(),
                    resource: resource.value(i).to_string(),
                    result: result
                        .value(i)
                        .parse::<AuditResult>()
                        .map_err(|e| bad("result", e.to_string()))?,
                    status: status.is_valid(i).then(|| status.value(i)),
                    client_ip: ip.value(i).to_string(),
                    user_agent: ua.value(i).to_string(),
                    detail: detail.value(i).to_string(),
                },
                prev_hash: prev.value(i).to_string(),
                hash: hash.value(i).to_string(),
            })
        })
        .collect()
}

impl Catalog {
    /// Appends rows the trail has chained and made durable in its own log.
    pub async fn append_audit(&self, rows: &[AuditRow]) -> Result<(), CatalogError> {
        if rows.is_empty() {
            return Ok(());
        }
        let batch = audit_to_batch(rows)?;
        let _guard = self.audit_lock.lock().await;
        let mut ds = (*Self::current(&self.audit)).clone();
        let reader = arrow_array::RecordBatchIterator::new(vec![Ok(batch)], AUDIT.clone());
        ds.append(reader, None).await.map_err(lance_err("audit"))?;
        Self::replace(&self.audit, Arc::new(ds));
        Ok(())
    }

    /// Audit rows matching a Lance SQL `filter` ("true" for all), in sequence order.
    pub async fn audit_rows(&self, filter: &str) -> Result<Vec<AuditRow>, CatalogError> {
        let ds = Self::current(&self.audit);
        let mut scan = ds.scan();
        scan.filter(filter).map_err(lance_err("audit"))?;
        let mut out = rows(&scan, "audit", batch_to_audit).await?;
        out.sort_by_key(|r| r.seq);
        Ok(out)
    }

    /// The highest sequence number in the table (0 when empty).
    pub async fn audit_last_seq(&self) -> Result<u64, CatalogError> {
        let ds = Self::current(&self.audit);
        let mut scan = ds.scan();
        scan.project(&["seq"]).map_err(lance_err("audit"))?;
        let batches: Vec<RecordBatch> = futures::TryStreamExt::try_collect(
            scan.try_into_stream().await.map_err(lance_err("audit"))?,
        )
        .await
        .map_err(lance_err("audit"))?;
        Ok(batches
            .iter()
            .filter_map(|b| {
                b.column(0).as_primitive_opt::<UInt64Type>().and_then(arrow::compute::max)
            })
            .max()
            .unwrap_or(0))
    }
}
