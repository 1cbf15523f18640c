//! The `segments`, `embeddings` and `frames` tables: an asset's timed transcript pieces, its
//! vectors, and what the picture models found in each sampled frame.
//! Each asset's set is replaced as a whole in one commit, so a replay rewrites the same rows.

use std::sync::Arc;

use acervo_catalog::schema::{FRAMES, SEGMENTS, embeddings};
use acervo_catalog::{AssetId, EmbeddingRow, FrameRow, NewVectors, ScoredLabel, SegmentRow};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, UInt32Type, UInt64Type};
use arrow_array::{
    Array, ArrayRef, FixedSizeListArray, Float32Array, RecordBatch, StringArray, UInt32Array,
    UInt64Array,
};
use arrow_schema::Field;
use futures::{Stream, StreamExt, TryStreamExt};

use super::asset_rows::RowError;
use super::catalog::{Catalog, CatalogError, lance_err, replace_on, rows};
use super::filter::quote;

fn id_list(ids: &[AssetId]) -> String {
    let list: Vec<String> = ids.iter().map(|id| quote(&id.to_string())).collect();
    format!("asset_id IN ({})", list.join(", "))
}

fn missing(c: &'static str) -> RowError {
    RowError::MissingColumn(c)
}

fn parse_id(s: &str, row: usize) -> Result<AssetId, RowError> {
    s.parse().map_err(|e: uuid::Error| RowError::BadValue {
        row,
        column: "asset_id",
        reason: e.to_string(),
    })
}

fn segments_to_batch(rows: &[SegmentRow]) -> Result<RecordBatch, RowError> {
    let ids: Vec<String> = rows.iter().map(|r| r.asset_id.to_string()).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(ids.iter())),
        Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.start_ms))),
        Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.end_ms))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.text.as_str()))),
        Arc::new(StringArray::from(rows.iter().map(|r| r.model.as_deref()).collect::<Vec<_>>())),
    ];
    Ok(RecordBatch::try_new(SEGMENTS.clone(), columns)?)
}

pub fn batch_to_segments(b: &RecordBatch) -> Result<Vec<SegmentRow>, RowError> {
    let id = b
        .column_by_name("asset_id")
        .and_then(|c| c.as_string_opt::<i32>())
        .ok_or(missing("asset_id"))?;
    let start = b
        .column_by_name("start_ms")
        .and_then(|c| c.as_primitive_opt::<UInt64Type>())
        .ok_or(missing("start_ms"))?;
    let end = b
        .column_by_name("end_ms")
        .and_then(|c| c.as_primitive_opt::<UInt64Type>())
        .ok_or(missing("end_ms"))?;
    let text =
        b.column_by_name("text").and_then(|c| c.as_string_opt::<i32>()).ok_or(missing("text"))?;
    // Tables written before the column existed have none.
    let model = b.column_by_name("model").and_then(|c| c.as_string_opt::<i32>());
    (0..b.num_rows())
        .map(|i| {
            let model = model.filter(|m| m.is_valid(i)).map(|m| m.value(i).to_string());
            Ok(SegmentRow {
                asset_id: parse_id(id.value(i), i)?,
                start_ms: start.value(i),
                end_ms: end.value(i),
                text: text.value(i).to_string(),
                model,
            })
        })
        .collect()
}

fn frames_to_batch(rows: &[FrameRow]) -> Result<RecordBatch, RowError> {
    let ids: Vec<String> = rows.iter().map(|r| r.asset_id.to_string()).collect();
    let names: Vec<Vec<String>> =
        rows.iter().map(|r| r.labels.iter().map(|l| l.name.clone()).collect()).collect();
    let mut scores =
        arrow_array::builder::ListBuilder::new(arrow_array::builder::Float32Builder::new());
    for r in rows {
        for l in &r.labels {
            scores.values().append_value(l.score);
        }
        scores.append(true);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(ids.iter())),
        Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.at_ms))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.ocr_text.as_str()))),
        super::asset_rows::string_lists(names.iter()),
        Arc::new(scores.finish()),
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.ocr_model.as_deref()).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.label_model.as_deref()).collect::<Vec<_>>(),
        )),
    ];
    Ok(RecordBatch::try_new(FRAMES.clone(), columns)?)
}

fn batch_to_frames(b: &RecordBatch) -> Result<Vec<FrameRow>, RowError> {
    let id = b
        .column_by_name("asset_id")
        .and_then(|c| c.as_string_opt::<i32>())
        .ok_or(missing("asset_id"))?;
    let at = b
        .column_by_name("at_ms")
        .and_then(|c| c.as_primitive_opt::<UInt64Type>())
        .ok_or(missing("at_ms"))?;
    let text = b
        .column_by_name("ocr_text")
        .and_then(|c| c.as_string_opt::<i32>())
        .ok_or(missing("ocr_text"))?;
    let labels =
        b.column_by_name("labels").and_then(|c| c.as_list_opt::<i32>()).ok_or(missing("labels"))?;
    let scores = b
        .column_by_name("label_scores")
        .and_then(|c| c.as_list_opt::<i32>())
        .ok_or(missing("label_scores"))?;
    let ocr_model = b
        .column_by_name("ocr_model")
        .and_then(|c| c.as_string_opt::<i32>())
        .ok_or(missing("ocr_model"))?;
    let label_model = b
        .column_by_name("label_model")
        .and_then(|c| c.as_string_opt::<i32>())
        .ok_or(missing("label_model"))?;
    let opt = |a: &StringArray, i: usize| a.is_valid(i).then(|| a.value(i).to_string());
    (0..b.num_rows())
        .map(|i| {
            let names = super::asset_rows::list_at(labels, i, "labels")?;
            let values = scores.value(i);
            let values = values.as_primitive_opt::<Float32Type>().ok_or(missing("label_scores"))?;
            let labels = names
                .into_iter()
                .zip(values.values().iter())
                .map(|(name, score)| ScoredLabel { name, score: *score })
                .collect();
            Ok(FrameRow {
                asset_id: parse_id(id.value(i), i)?,
                at_ms: at.value(i),
                ocr_text: text.value(i).to_string(),
                labels,
                ocr_model: opt(ocr_model, i),
                label_model: opt(label_model, i),
            })
        })
        .collect()
}

fn embeddings_to_batch(rows: &[EmbeddingRow], dim: usize) -> Result<RecordBatch, RowError> {
    let ids: Vec<String> = rows.iter().map(|r| r.asset_id.to_string()).collect();
    let mut flat = Vec::with_capacity(rows.len() * dim);
    for r in rows {
        if r.vector.len() != dim {
            return Err(RowError::BadValue {
                row: 0,
                column: "vector",
                reason: format!("{} values, expected {dim}", r.vector.len()),
            });
        }
        flat.extend_from_slice(&r.vector);
    }
    let item = Arc::new(Field::new("item", arrow_schema::DataType::Float32, true));
    let vectors =
        FixedSizeListArray::try_new(item, dim as i32, Arc::new(Float32Array::from(flat)), None)?;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(ids.iter())),
        Arc::new(UInt32Array::from_iter_values(rows.iter().map(|r| r.ord))),
        Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.vkey))),
        Arc::new(UInt64Array::from(rows.iter().map(|r| r.at_ms).collect::<Vec<_>>())),
        Arc::new(vectors),
        Arc::new(StringArray::from(rows.iter().map(|r| r.model.as_deref()).collect::<Vec<_>>())),
    ];
    Ok(RecordBatch::try_new(embeddings(dim), columns)?)
}

pub fn batch_to_embeddings(b: &RecordBatch) -> Result<Vec<EmbeddingRow>, RowError> {
    let id = b
        .column_by_name("asset_id")
        .and_then(|c| c.as_string_opt::<i32>())
        .ok_or(missing("asset_id"))?;
    let ord = b
        .column_by_name("ord")
        .and_then(|c| c.as_primitive_opt::<UInt32Type>())
        .ok_or(missing("ord"))?;
    let vkey = b
        .column_by_name("vkey")
        .and_then(|c| c.as_primitive_opt::<UInt64Type>())
        .ok_or(missing("vkey"))?;
    let at = b
        .column_by_name("at_ms")
        .and_then(|c| c.as_primitive_opt::<UInt64Type>())
        .ok_or(missing("at_ms"))?;
    let vec = b
        .column_by_name("vector")
        .and_then(|c| c.as_fixed_size_list_opt())
        .ok_or(missing("vector"))?;
    let values = vec.values().as_primitive_opt::<Float32Type>().ok_or(missing("vector"))?;
    let dim = vec.value_length() as usize;
    let model = b.column_by_name("model").and_then(|c| c.as_string_opt::<i32>());
    (0..b.num_rows())
        .map(|i| {
            let start = vec.value_offset(i) as usize;
            Ok(EmbeddingRow {
                asset_id: parse_id(id.value(i), i)?,
                ord: ord.value(i),
                vkey: vkey.value(i),
                at_ms: (!at.is_null(i)).then(|| at.value(i)),
                vector: values.values()[start..start + dim].to_vec(),
                model: model.filter(|a| a.is_valid(i)).map(|a| a.value(i).to_string()),
            })
        })
        .collect()
}

impl Catalog {
    /// Replaces the transcript segments of `assets` with `rows` (which belong to them).
    pub async fn replace_segments(
        &self,
        assets: &[AssetId],
        rows: &[SegmentRow],
    ) -> Result<(), CatalogError> {
        let batch = (!rows.is_empty()).then(|| segments_to_batch(rows)).transpose()?;
        replace_rows(self, &self.segments, "segments", &["asset_id", "start_ms"], assets, batch)
            .await
    }

    /// Replaces all vectors of each set's asset with the set (an empty set removes them),
    /// naming the new rows; returns them as written, per asset, for the search index.
    pub async fn replace_embeddings(
        &self,
        sets: &[NewVectors],
    ) -> Result<Vec<(AssetId, Vec<EmbeddingRow>)>, CatalogError> {
        if sets.is_empty() {
            return Ok(Vec::new());
        }
        let _guard = self.write_lock.lock().await;
        let named = self.name_vectors(sets);
        let rows: Vec<EmbeddingRow> = named.iter().flat_map(|(_, r)| r.iter().cloned()).collect();
        let assets: Vec<AssetId> = named.iter().map(|(a, _)| *a).collect();
        let batch = (!rows.is_empty())
            .then(|| embeddings_to_batch(&rows, self.embedding_dim))
            .transpose()?;
        replace_rows_locked(&self.embeddings, "embeddings", &["vkey"], &assets, batch).await?;
        Ok(named)
    }

    /// Appends the vectors of assets known to have none yet (bulk loads; no key check),
    /// naming them; returns the rows as written, per asset.
    pub async fn append_embeddings(
        &self,
        sets: &[NewVectors],
    ) -> Result<Vec<(AssetId, Vec<EmbeddingRow>)>, CatalogError> {
        let _guard = self.write_lock.lock().await;
        let named = self.name_vectors(sets);
        let rows: Vec<EmbeddingRow> = named.iter().flat_map(|(_, r)| r.iter().cloned()).collect();
        if !rows.is_empty() {
            append_locked(
                &self.embeddings,
                embeddings_to_batch(&rows, self.embedding_dim)?,
                "embeddings",
            )
            .await?;
        }
        Ok(named)
    }

    fn name_vectors(&self, sets: &[NewVectors]) -> Vec<(AssetId, Vec<EmbeddingRow>)> {
        let mut keys = self.vector_keys.lock().unwrap_or_else(|p| p.into_inner());
        sets.iter().map(|s| (s.asset_id, keys.name(s))).collect()
    }

    /// Appends segment rows known to be new (bulk loads).
    pub async fn append_segments(&self, rows: &[SegmentRow]) -> Result<(), CatalogError> {
        append(self, &self.segments, segments_to_batch(rows)?, "segments").await
    }

    /// Appends asset rows known to be new (bulk loads).
    pub async fn append_assets(
        &self,
        assets: &[acervo_catalog::Asset],
    ) -> Result<(), CatalogError> {
        append(self, &self.assets, super::assets_to_batch(assets)?, "assets").await
    }

    pub async fn segments_of(&self, id: AssetId) -> Result<Vec<SegmentRow>, CatalogError> {
        let ds = Self::current(&self.segments);
        let mut scan = ds.scan();
        scan.filter(&format!("asset_id = {}", quote(&id.to_string())))
            .map_err(lance_err("segments"))?;
        let mut out = rows(&scan, "segments", batch_to_segments).await?;
        out.sort_by_key(|s| s.start_ms);
        Ok(out)
    }

    /// Replaces the frame results of `assets` with `rows` (which belong to them).
    pub async fn replace_frames(
        &self,
        assets: &[AssetId],
        rows: &[FrameRow],
    ) -> Result<(), CatalogError> {
        let batch = (!rows.is_empty()).then(|| frames_to_batch(rows)).transpose()?;
        replace_rows(self, &self.frames, "frames", &["asset_id", "at_ms"], assets, batch).await
    }

    /// An asset's frame results, in time order.
    pub async fn frames_of(&self, id: AssetId) -> Result<Vec<FrameRow>, CatalogError> {
        let ds = Self::current(&self.frames);
        let mut scan = ds.scan();
        scan.filter(&format!("asset_id = {}", quote(&id.to_string())))
            .map_err(lance_err("frames"))?;
        let mut out = rows(&scan, "frames", batch_to_frames).await?;
        out.sort_by_key(|f| f.at_ms);
        Ok(out)
    }

    /// An asset's vectors: the asset's own (`at_ms` none) and those at moments (frames, segments).
    pub async fn embeddings_of(&self, id: AssetId) -> Result<Vec<EmbeddingRow>, CatalogError> {
        let ds = Self::current(&self.embeddings);
        let mut scan = ds.scan();
        scan.filter(&format!("asset_id = {}", quote(&id.to_string())))
            .map_err(lance_err("embeddings"))?;
        rows(&scan, "embeddings", batch_to_embeddings).await
    }

    /// Every row of a table as a stream of batches (index rebuilds read the whole catalog).
    pub async fn scan_table(
        &self,
        table: &'static str,
    ) -> Result<impl Stream<Item = Result<RecordBatch, CatalogError>> + use<>, CatalogError> {
        let slot = match table {
            "assets" => &self.assets,
            "segments" => &self.segments,
            "embeddings" => &self.embeddings,
            "frames" => &self.frames,
            _ => &self.renditions,
        };
        let ds = Self::current(slot);
        let stream = ds.scan().try_into_stream().await.map_err(lance_err(table))?;
        Ok(stream.map_err(move |e| CatalogError::Lance { table, source: e }).boxed())
    }
}

/// Replaces every row of `assets` in a table by `batch` (none: deletes them), in one commit.
async fn replace_rows(
    catalog: &Catalog,
    slot: &std::sync::RwLock<Arc<lance::Dataset>>,
    table: &'static str,
    keys: &[&str],
    assets: &[AssetId],
    batch: Option<RecordBatch>,
) -> Result<(), CatalogError> {
    let _guard = catalog.write_lock.lock().await;
    replace_rows_locked(slot, table, keys, assets, batch).await
}

/// `replace_rows` for a caller holding the write lock.
async fn replace_rows_locked(
    slot: &std::sync::RwLock<Arc<lance::Dataset>>,
    table: &'static str,
    keys: &[&str],
    assets: &[AssetId],
    batch: Option<RecordBatch>,
) -> Result<(), CatalogError> {
    if assets.is_empty() {
        return Ok(());
    }
    let ds = Catalog::current(slot);
    let ds = match batch {
        Some(batch) => replace_on(ds, keys, batch, Some(&id_list(assets)), table).await?,
        None => {
            let mut ds = (*ds).clone();
            ds.delete(&id_list(assets)).await.map_err(lance_err(table))?;
            Arc::new(ds)
        }
    };
    Catalog::replace(slot, ds);
    Ok(())
}

async fn append(
    catalog: &Catalog,
    slot: &std::sync::RwLock<Arc<lance::Dataset>>,
    batch: RecordBatch,
    table: &'static str,
) -> Result<(), CatalogError> {
    let _guard = catalog.write_lock.lock().await;
    append_locked(slot, batch, table).await
}

/// `append` for a caller holding the write lock.
async fn append_locked(
    slot: &std::sync::RwLock<Arc<lance::Dataset>>,
    batch: RecordBatch,
    table: &'static str,
) -> Result<(), CatalogError> {
    let mut ds = (*Catalog::current(slot)).clone();
    let schema = batch.schema();
    let reader = arrow_array::RecordBatchIterator::new(vec![Ok(batch)], schema);
    ds.append(reader, None).await.map_err(lance_err(table))?;
    Catalog::replace(slot, Arc::new(ds));
    Ok(())
}
