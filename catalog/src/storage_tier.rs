//! Where a master's bytes live: `hot` storage serves at once; `cold` (archive) storage must be
//! restored before a download.

crate::names! {
    pub enum StorageTier / UnknownStorageTier ("storage tier") {
        Hot = "hot",
        Cold = "cold",
    }
}
