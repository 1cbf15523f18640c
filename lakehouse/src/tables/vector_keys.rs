//! The names of the `embeddings` rows: the table owns them. Each asset with vectors has a dense
//! `ord` (kept across replacements: the text index filters vectors by it) and each vector a
//! `vkey` never reused. They are minted here, under the catalog's write lock, from the highest
//! ones the table holds when it is opened; the search index only maps them.

use std::collections::HashMap;

use acervo_catalog::{AssetId, EmbeddingRow, NewVectors};

#[derive(Default)]
pub(crate) struct VectorKeys {
    ords: HashMap<AssetId, u32>,
    next_ord: u32,
    next_vkey: u64,
}

impl VectorKeys {
    /// Notes a stored row (the table's rows at open).
    pub(crate) fn saw(&mut self, asset: AssetId, ord: u32, vkey: u64) {
        self.ords.insert(asset, ord);
        self.next_ord = self.next_ord.max(ord + 1);
        self.next_vkey = self.next_vkey.max(vkey + 1);
    }

    /// The rows of `set`: the asset's ord (a new one if it never had vectors) and fresh keys.
    pub(crate) fn name(&mut self, set: &NewVectors) -> Vec<EmbeddingRow> {
        let ord = match self.ords.get(&set.asset_id) {
            Some(o) => *o,
            None => {
                let o = self.next_ord;
                self.next_ord += 1;
                self.ords.insert(set.asset_id, o);
                o
            }
        };
        set.vectors
            .iter()
            .map(|(at_ms, vector)| {
                let vkey = self.next_vkey;
                self.next_vkey += 1;
                EmbeddingRow {
                    asset_id: set.asset_id,
                    ord,
                    vkey,
                    at_ms: *at_ms,
                    vector: vector.clone(),
                    model: set.model.clone(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::VectorKeys;
    use acervo_catalog::{AssetId, NewVectors};

    fn set(asset: AssetId, n: usize) -> NewVectors {
        NewVectors {
            asset_id: asset,
            vectors: (0..n).map(|i| (Some(i as u64), vec![1.0])).collect(),
            model: None,
        }
    }

    #[test]
    fn an_asset_keeps_its_ord_and_every_vector_gets_a_new_key() {
        let (a, b) = (AssetId::new(), AssetId::new());
        let mut keys = VectorKeys::default();
        keys.saw(a, 4, 10);
        let first = keys.name(&set(b, 2));
        assert_eq!(
            first.iter().map(|r| (r.ord, r.vkey)).collect::<Vec<_>>(),
            vec![(5, 11), (5, 12)]
        );
        let again = keys.name(&set(a, 1));
        assert_eq!(
            (again[0].ord, again[0].vkey),
            (4, 13),
            "a replaced set keeps the ord, never a key"
        );
        assert_eq!(keys.name(&set(b, 0)), Vec::new());
        assert_eq!(keys.name(&set(b, 1))[0].ord, 5);
    }
}
