//! The search index as SQL: `search(query [, limit])` is a DataFusion table function, so a
//! data team can join ranked results with the catalog tables, e.g.
//! `SELECT s.rank, a.title FROM search('camión incendio', 50) s JOIN assets a ON a.id = s.asset_id`.
//! It runs the same text search as `/api/v1/search` (BM25F, both languages, phrases,
//! exclusions, prefix*), within one read scope: assets outside it never come back.

use std::sync::Arc;

use acervo_catalog::ReadScope;
use arrow::array::{
    ArrayRef, Float32Array, RecordBatch, StringArray, TimestampMillisecondArray, UInt32Array,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DataFusionError, ScalarValue, plan_err};
use datafusion::datasource::MemTable;
use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::Expr;

use super::SearchError;
use super::index::SearchIndex;
use super::request::{Mode, SearchHit, SearchRequest};

/// The name SQL calls it by.
pub const FUNCTION: &str = "search";
/// Rows `search()` returns when no limit is given, and the most it returns.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 10_000;

/// The columns of `search()`: enough to rank and show; join `assets` on `id` for the rest.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("asset_id", DataType::Utf8, false),
        Field::new("rank", DataType::UInt32, false),
        Field::new("score", DataType::Float32, false),
        Field::new("title", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("project", DataType::Utf8, false),
        Field::new(
            "created_at",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            false,
        ),
    ]))
}

/// Makes `search()` available in `ctx`, answering within `scope`.
pub fn register(ctx: &SessionContext, index: Arc<SearchIndex>, scope: ReadScope) {
    ctx.register_udtf(FUNCTION, Arc::new(SearchFunction { index, scope }));
}

struct SearchFunction {
    index: Arc<SearchIndex>,
    scope: ReadScope,
}

impl std::fmt::Debug for SearchFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchFunction").field("scope", &self.scope).finish()
    }
}

fn literal(e: &Expr) -> Option<&ScalarValue> {
    match e {
        Expr::Literal(v, _) => Some(v),
        _ => None,
    }
}

/// The query and limit of a call: a text literal, then an optional positive integer literal.
fn arguments(exprs: &[Expr]) -> Result<(String, usize), DataFusionError> {
    let usage = "search(query text [, limit integer])";
    let q = match exprs.first().and_then(literal) {
        Some(
            ScalarValue::Utf8(Some(q))
            | ScalarValue::LargeUtf8(Some(q))
            | ScalarValue::Utf8View(Some(q)),
        ) => q.clone(),
        _ => return plan_err!("{usage}: the first argument must be a text literal"),
    };
    let limit = match exprs.get(1) {
        None => DEFAULT_LIMIT,
        Some(e) => match literal(e).and_then(|v| match v {
            ScalarValue::Int64(Some(n)) => Some(*n),
            ScalarValue::Int32(Some(n)) => Some(i64::from(*n)),
            ScalarValue::UInt64(Some(n)) => i64::try_from(*n).ok(),
            _ => None,
        }) {
            Some(n) if n >= 1 && n as usize <= MAX_LIMIT => n as usize,
            _ => return plan_err!("{usage}: the limit must be an integer from 1 to {MAX_LIMIT}"),
        },
    };
    if exprs.len() > 2 {
        return plan_err!("{usage}: takes at most two arguments, got {}", exprs.len());
    }
    Ok((q, limit))
}

impl TableFunctionImpl for SearchFunction {
    fn call_with_args(
        &self,
        args: TableFunctionArgs,
    ) -> datafusion::common::Result<Arc<dyn TableProvider>> {
        let (q, limit) = arguments(args.exprs())?;
        let req = SearchRequest {
            q,
            mode: Mode::Text,
            limit,
            facets: false,
            highlight: false,
            ..Default::default()
        };
        // Top-k text search takes milliseconds: answering at planning time keeps the
        // result consistent with one index snapshot for the whole statement.
        // A bad query is the caller's mistake (a planning error); a failing index is not.
        let found = self.index.search(&req, &self.scope).map_err(|e| match e {
            SearchError::BadRequest(m) => DataFusionError::Plan(format!("search(): {m}")),
            other => DataFusionError::External(Box::new(other)),
        })?;
        let hits = &found.hits;
        let text = |f: fn(&SearchHit) -> &str| -> ArrayRef {
            Arc::new(StringArray::from_iter_values(hits.iter().map(f)))
        };
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(hits.iter().map(|h| h.asset.id.to_string()))),
            Arc::new(UInt32Array::from_iter_values(1..=hits.len() as u32)),
            Arc::new(Float32Array::from_iter_values(hits.iter().map(|h| h.score))),
            text(|h| &h.asset.title),
            text(|h| h.asset.kind.as_str()),
            text(|h| h.asset.status.as_str()),
            text(|h| &h.asset.project),
            Arc::new(
                TimestampMillisecondArray::from_iter_values(
                    hits.iter().map(|h| h.asset.created_at.timestamp_millis()),
                )
                .with_timezone("UTC"),
            ),
        ];
        let schema = schema();
        let batch = RecordBatch::try_new(schema.clone(), columns)?;
        Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
    }
}
