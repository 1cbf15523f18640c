//! Decisions remembered by their whole input (the principal's roles included, so a changed
//! membership is a different key), emptied at every change of the policy or its data. Bounded:
//! past the cap the map starts over rather than grow with every principal and asset seen.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

pub(crate) struct DecisionCache<K, V> {
    map: Mutex<HashMap<K, V>>,
    cap: usize,
}

impl<K: Eq + Hash, V: Clone> DecisionCache<K, V> {
    pub(crate) fn new(cap: usize) -> Self {
        DecisionCache { map: Mutex::new(HashMap::new()), cap }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, V>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn get(&self, key: &K) -> Option<V> {
        self.lock().get(key).cloned()
    }

    pub(crate) fn put(&self, key: K, value: V) {
        let mut map = self.lock();
        if map.len() >= self.cap {
            map.clear();
        }
        map.insert(key, value);
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }
}
