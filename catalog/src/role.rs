//! What a principal may do, in increasing order of power: a role applies everywhere (a realm
//! role) or in one project.

crate::names! {
    pub enum Role / UnknownRole ("role") {
        /// Finds, watches and downloads renditions.
        Viewer = "viewer",
        /// Uploads and edits descriptive metadata.
        Editor = "editor",
        /// Approves, publishes and distributes.
        Producer = "producer",
        /// Manages retention, versions, restores and purges.
        Archivist = "archivist",
        /// Everything, users and configuration included.
        Admin = "admin",
    }
}
