//! A bitset of dense ids, shared by the vector prefilter and the text filter cache.

/// A set of dense `u32` ids as a bitset: the asset ords a filter lets through (vector
/// prefilters), or the documents of one segment that pass a filter (text post-filters).
#[derive(Clone, Debug, Default)]
pub struct OrdSet {
    words: Vec<u64>,
    count: usize,
}

impl OrdSet {
    /// An empty set with room for ids below `n` (inserts then never reallocate).
    pub fn with_capacity(n: usize) -> OrdSet {
        OrdSet { words: Vec::with_capacity(n.div_ceil(64)), count: 0 }
    }

    #[inline]
    pub fn insert(&mut self, ord: u32) {
        let (w, b) = (ord as usize / 64, ord % 64);
        if w >= self.words.len() {
            self.words.resize(w + 1, 0);
        }
        if self.words[w] & (1 << b) == 0 {
            self.words[w] |= 1 << b;
            self.count += 1;
        }
    }
    #[inline]
    pub fn contains(&self, ord: u32) -> bool {
        self.words.get(ord as usize / 64).is_some_and(|w| w & (1 << (ord % 64)) != 0)
    }
    pub fn len(&self) -> usize {
        self.count
    }
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    /// The ids, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(w, bits)| {
            let mut rest = *bits;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let b = rest.trailing_zeros();
                    rest &= rest - 1;
                    (w * 64) as u32 + b
                })
            })
        })
    }
}
