//! The first start: an empty store gets its administrator. Its password comes from the
//! deployment (`ACERVO_ADMIN_PASSWORD` or a file such as a Kubernetes secret, read by the binary)
//! or is generated: 20 random characters printed once and kept in a 0600 file until the
//! administrator replaces it, which the first login requires. There is no default password.

use std::path::PathBuf;

use acervo_catalog::{ADMIN, Role};

use crate::error::IdentityError;
use crate::local_tokens::write_private;
use crate::random;
use crate::store::{IdentityStore, NewUser};

/// Where the administrator's first password comes from.
pub enum AdminPassword {
    /// Set by the deployment: used as it is, no change forced.
    Given(String),
    /// Generated now.
    Generate,
}

/// What `ensure_admin` did.
#[derive(Debug)]
pub enum FirstStart {
    /// The store had users already.
    Existing,
    /// `admin` was created with the deployment's password.
    Given,
    /// `admin` was created with `password`, also written to `file`.
    Generated { password: String, file: PathBuf },
}

/// The file that holds a generated first password until it is changed.
pub fn initial_password_file(store: &IdentityStore) -> PathBuf {
    store.folder().join("initial-admin-password")
}

pub fn ensure_admin(
    store: &IdentityStore,
    password: AdminPassword,
) -> Result<FirstStart, IdentityError> {
    if !store.is_empty() {
        return Ok(FirstStart::Existing);
    }
    let new = |password: String, must_change| NewUser {
        name: ADMIN.into(),
        display_name: "Administrator".into(),
        password: Some(password),
        roles: vec![Role::Admin],
        must_change_password: must_change,
    };
    match password {
        AdminPassword::Given(p) => {
            store.create_user(new(p, false))?;
            Ok(FirstStart::Given)
        }
        AdminPassword::Generate => {
            let password = random::password()?;
            let file = initial_password_file(store);
            // Written before the user exists: a crash in between leaves a file and no admin,
            // and the next start (finding no users) writes a new one.
            if file.exists() {
                std::fs::remove_file(&file).map_err(IdentityError::io("remove", &file))?;
            }
            write_private(&file, format!("{password}\n").as_bytes())?;
            store.create_user(new(password.clone(), true))?;
            Ok(FirstStart::Generated { password, file })
        }
    }
}
