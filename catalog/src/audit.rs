//! The audit trail's rows and their chain: each row carries the SHA-256 of its own content and of
//! the row before it, so rewriting or removing a row breaks every hash after it, and a head kept
//! outside the table (the last sequence number and hash) shows rows cut off the end.
//! `verify_chain` walks rows in order and names the first that does not fit.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

crate::names! {
    /// How an audited request ended.
    pub enum AuditResult / UnknownAuditResult ("audit result") {
        /// Done (or read).
        Allowed = "allowed",
        /// Refused: no valid credentials, or not allowed by role.
        Denied = "denied",
        /// Tried and failed (bad input, a conflict, a server error).
        Failed = "failed",
    }
}

/// What a caller records; the trail gives it its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// The principal's name ("anonymous" when none was proven).
    pub who: String,
    /// What was asked, e.g. `PATCH /api/v1/assets/{id}` or `login`.
    pub action: String,
    /// What it was asked of, e.g. `asset:0192…` or `user:ana`.
    pub resource: String,
    pub result: AuditResult,
    /// The HTTP status, when the entry is a request's.
    pub status: Option<u16>,
    pub client_ip: String,
    pub user_agent: String,
    /// Why it was refused or failed, or what it did.
    pub detail: String,
}

/// One row of the `audit` table: an entry in its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditRow {
    /// 1, 2, 3, … without gaps.
    pub seq: u64,
    #[serde(flatten)]
    pub entry: AuditEntry,
    /// The hash of the row before (`GENESIS` for the first).
    pub prev_hash: String,
    /// SHA-256 (hex) over this row's content and `prev_hash`.
    pub hash: String,
}

/// The `prev_hash` of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl AuditRow {
    /// The row `entry` becomes at `seq`, after the row whose hash is `prev_hash`.
    pub fn chain(seq: u64, entry: AuditEntry, prev_hash: &str) -> AuditRow {
        // Microseconds: what the table keeps, so a row read back hashes the same.
        let at = DateTime::from_timestamp_micros(entry.at.timestamp_micros()).unwrap_or(entry.at);
        let mut row = AuditRow {
            seq,
            entry: AuditEntry { at, ..entry },
            prev_hash: prev_hash.to_string(),
            hash: String::new(),
        };
        row.hash = row.content_hash();
        row
    }

    /// The hash this row's content gives (a canonical JSON array of every field but `hash`).
    pub fn content_hash(&self) -> String {
        use sha2::Digest;
        let e = &self.entry;
        let canonical = serde_json::json!([
            self.seq,
            e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            e.who,
            e.action,
            e.resource,
            e.result.as_str(),
            e.status,
            e.client_ip,
            e.user_agent,
            e.detail,
            self.prev_hash,
        ]);
        hex::encode(sha2::Sha256::digest(canonical.to_string().as_bytes()))
    }
}

/// Where the chain breaks.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("row {seq} was changed: its hash does not match its content")]
    Rewritten { seq: u64 },
    #[error("row {seq} does not follow row {prev}: its prev_hash is not that row's hash")]
    Unlinked { seq: u64, prev: u64 },
    #[error("rows are missing: row {found} comes where row {expected} should")]
    Gap { expected: u64, found: u64 },
    #[error(
        "rows are missing at the end: the table ends at row {last}, the chain's head is row {head}"
    )]
    Truncated { last: u64, head: u64 },
    #[error(
        "the table's last row {seq} is not the chain's head (its hash differs from the head's)"
    )]
    HeadMismatch { seq: u64 },
}

/// Checks `rows` (in `seq` order, from 1) against each other and against the `head` kept outside
/// the table; returns how many rows were checked, or every break found (the walk goes on past a
/// break, so a rewritten row and rows cut off the end are both named).
pub fn verify_chain(
    rows: impl IntoIterator<Item = AuditRow>,
    head: Option<(u64, &str)>,
) -> Result<u64, Vec<ChainBreak>> {
    let (mut expected, mut prev_hash) = (1u64, GENESIS.to_string());
    let mut breaks = Vec::new();
    let mut last_hash: Option<String> = None;
    for row in rows {
        if row.seq != expected {
            breaks.push(ChainBreak::Gap { expected, found: row.seq });
        } else if row.prev_hash != prev_hash {
            breaks.push(ChainBreak::Unlinked { seq: row.seq, prev: row.seq.saturating_sub(1) });
        }
        if row.content_hash() != row.hash {
            breaks.push(ChainBreak::Rewritten { seq: row.seq });
        }
        // Resynchronised on this row, so one break is reported once.
        prev_hash = row.hash.clone();
        expected = row.seq + 1;
        last_hash = Some(row.hash);
    }
    let last = expected - 1;
    if let Some((head_seq, head_hash)) = head {
        if last < head_seq {
            breaks.push(ChainBreak::Truncated { last, head: head_seq });
        } else if last == head_seq && last_hash.as_deref().is_some_and(|h| h != head_hash) {
            breaks.push(ChainBreak::HeadMismatch { seq: last });
        }
    }
    if breaks.is_empty() { Ok(last) } else { Err(breaks) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u32) -> AuditEntry {
        AuditEntry {
            at: DateTime::from_timestamp(1_800_000_000 + i64::from(n), 0).unwrap(),
            who: "ana".into(),
            action: "PATCH /api/v1/assets/{id}".into(),
            resource: format!("asset:{n}"),
            result: AuditResult::Allowed,
            status: Some(200),
            client_ip: "127.0.0.1".into(),
            user_agent: "curl".into(),
            detail: String::new(),
        }
    }

    fn chain(n: u32) -> Vec<AuditRow> {
        let mut rows: Vec<AuditRow> = Vec::new();
        for i in 1..=n {
            let prev = rows.last().map_or(GENESIS.to_string(), |r| r.hash.clone());
            rows.push(AuditRow::chain(u64::from(i), entry(i), &prev));
        }
        rows
    }

    #[test]
    fn an_intact_chain_verifies_against_its_head() {
        let rows = chain(5);
        let head = rows[4].hash.clone();
        assert_eq!(verify_chain(rows, Some((5, &head))), Ok(5));
        assert_eq!(verify_chain(Vec::new(), None), Ok(0));
    }

    #[test]
    fn a_rewritten_row_is_named() {
        let mut rows = chain(5);
        rows[2].entry.who = "mallory".into();
        assert_eq!(verify_chain(rows, None), Err(vec![ChainBreak::Rewritten { seq: 3 }]));
    }

    #[test]
    fn a_row_rewritten_with_a_fresh_hash_breaks_the_next_link() {
        let mut rows = chain(5);
        rows[2].entry.detail = "nothing happened".into();
        rows[2].hash = rows[2].content_hash();
        assert_eq!(verify_chain(rows, None), Err(vec![ChainBreak::Unlinked { seq: 4, prev: 3 }]));
    }

    #[test]
    fn removed_rows_are_found_in_the_middle_and_at_the_end() {
        let mut rows = chain(5);
        let head = rows[4].hash.clone();
        rows.remove(1);
        assert_eq!(
            verify_chain(rows, Some((5, &head))),
            Err(vec![ChainBreak::Gap { expected: 2, found: 3 }])
        );
        let mut rows = chain(5);
        rows.pop();
        assert_eq!(
            verify_chain(rows, Some((5, &head))),
            Err(vec![ChainBreak::Truncated { last: 4, head: 5 }])
        );
    }

    #[test]
    fn a_rewritten_row_and_a_cut_end_are_both_named() {
        let mut rows = chain(5);
        let head = rows[4].hash.clone();
        rows[1].entry.result = AuditResult::Denied;
        rows.pop();
        assert_eq!(
            verify_chain(rows, Some((5, &head))),
            Err(vec![ChainBreak::Rewritten { seq: 2 }, ChainBreak::Truncated { last: 4, head: 5 }])
        );
    }
}
