//! Collections in the identity store: named, nestable groups of assets inside a project. They
//! live beside memberships because a restricted one is access-control data (who was granted
//! it); which assets are in a collection is the catalog's (each asset row lists its
//! collections).

use acervo_catalog::{ProjectSlug, RestrictedCollection};
use chrono::Utc;

use crate::directory::{CollectionInfo, Directory, Record};
use crate::error::IdentityError;
use crate::store::IdentityStore;

/// What a new collection is.
pub struct NewCollection {
    pub project: ProjectSlug,
    pub name: String,
    pub parent: Option<String>,
    pub restricted: bool,
    /// Who creates it (granted it, when it is restricted, so it does not lose sight of it).
    pub by: String,
}

/// A change to a collection; `parent: Some(None)` moves it to the top of its project.
#[derive(Default)]
pub struct CollectionChange {
    pub name: Option<String>,
    pub parent: Option<Option<String>>,
    pub restricted: Option<bool>,
}

fn check_name(name: &str) -> Result<String, IdentityError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(IdentityError::Invalid(format!(
            "{name:?} is not a collection name (1 to 200 printable characters)"
        )));
    }
    Ok(name.to_string())
}

/// `parent` may hold `id` in `project`: it exists there and is not `id` or one of its
/// descendants.
fn check_parent(
    dir: &Directory,
    id: Option<&str>,
    project: &ProjectSlug,
    parent: &str,
) -> Result<(), IdentityError> {
    let p = dir
        .collections
        .get(parent)
        .ok_or_else(|| IdentityError::NoSuchCollection(parent.into()))?;
    if p.project != *project {
        return Err(IdentityError::Invalid(format!(
            "collection {parent:?} is in project {:?}, not {:?}",
            p.project.as_str(),
            project.as_str()
        )));
    }
    if let Some(id) = id
        && dir.lineage(parent).iter().any(|(a, _)| a.as_str() == id)
    {
        return Err(IdentityError::Invalid(format!(
            "collection {id:?} cannot be nested in itself or in one of its own collections"
        )));
    }
    Ok(())
}

impl IdentityStore {
    pub fn create_collection(&self, new: NewCollection) -> Result<CollectionInfo, IdentityError> {
        let name = check_name(&new.name)?;
        let mut inner = self.lock();
        if !inner.dir.projects.contains_key(&new.project) {
            return Err(IdentityError::NoSuchProject(new.project.as_str().into()));
        }
        if let Some(parent) = &new.parent {
            check_parent(&inner.dir, None, &new.project, parent)?;
        }
        let id = uuid::Uuid::now_v7().to_string();
        Self::commit(
            &mut inner,
            vec![Record::CollectionCreated {
                id: id.clone(),
                project: new.project,
                name,
                parent: new.parent,
                restricted: new.restricted,
                by: new.by,
                at: Utc::now(),
            }],
        )?;
        inner.dir.collection_info(&id).ok_or(IdentityError::NoSuchCollection(id))
    }

    pub fn collection(&self, id: &str) -> Option<CollectionInfo> {
        self.lock().dir.collection_info(id)
    }

    /// Every collection, or those of one project; parents before their children.
    pub fn collections(&self, project: Option<&ProjectSlug>) -> Vec<CollectionInfo> {
        let inner = self.lock();
        inner
            .dir
            .collections_top_down()
            .iter()
            .filter(|id| project.is_none_or(|p| inner.dir.collections[*id].project == *p))
            .filter_map(|id| inner.dir.collection_info(id))
            .collect()
    }

    pub fn update_collection(
        &self,
        id: &str,
        change: CollectionChange,
    ) -> Result<CollectionInfo, IdentityError> {
        let mut inner = self.lock();
        let project = inner
            .dir
            .collections
            .get(id)
            .map(|c| c.project.clone())
            .ok_or_else(|| IdentityError::NoSuchCollection(id.into()))?;
        let name = change.name.as_deref().map(check_name).transpose()?;
        if let Some(Some(parent)) = &change.parent {
            check_parent(&inner.dir, Some(id), &project, parent)?;
        }
        Self::commit(
            &mut inner,
            vec![Record::CollectionChanged {
                id: id.to_string(),
                name,
                parent: change.parent,
                restricted: change.restricted,
            }],
        )?;
        inner.dir.collection_info(id).ok_or_else(|| IdentityError::NoSuchCollection(id.into()))
    }

    /// Deletes a collection without children (the caller checks it holds no assets).
    pub fn delete_collection(&self, id: &str) -> Result<(), IdentityError> {
        let mut inner = self.lock();
        if !inner.dir.collections.contains_key(id) {
            return Err(IdentityError::NoSuchCollection(id.into()));
        }
        if inner.dir.collections.values().any(|c| c.parent.as_deref() == Some(id)) {
            return Err(IdentityError::Conflict(format!(
                "collection {id:?} has collections inside it: move or delete them first"
            )));
        }
        Self::commit(&mut inner, vec![Record::CollectionDeleted { id: id.to_string() }])
    }

    /// Grants `user` the collection (and its descendants), or takes the grant back.
    pub fn grant_collection(
        &self,
        id: &str,
        user: &str,
        granted: bool,
    ) -> Result<CollectionInfo, IdentityError> {
        let mut inner = self.lock();
        if !inner.dir.collections.contains_key(id) {
            return Err(IdentityError::NoSuchCollection(id.into()));
        }
        if !inner.dir.users.contains_key(user) {
            return Err(IdentityError::NoSuchUser(user.into()));
        }
        Self::commit(
            &mut inner,
            vec![Record::CollectionGranted { id: id.to_string(), user: user.to_string(), granted }],
        )?;
        inner.dir.collection_info(id).ok_or_else(|| IdentityError::NoSuchCollection(id.into()))
    }

    /// The collections restricted by themselves or an ancestor, each with the users granted it
    /// or an ancestor: what the policy reads.
    pub fn restricted_collections(&self) -> Vec<RestrictedCollection> {
        let inner = self.lock();
        let dir = &inner.dir;
        dir.collections
            .iter()
            .filter_map(|(id, c)| {
                let lineage = dir.lineage(id);
                lineage.iter().any(|(_, a)| a.restricted).then(|| {
                    let mut granted: Vec<String> =
                        lineage.iter().flat_map(|(_, a)| a.granted.iter().cloned()).collect();
                    granted.sort();
                    granted.dedup();
                    RestrictedCollection {
                        id: id.clone(),
                        project: c.project.as_str().to_string(),
                        granted,
                    }
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use acervo_catalog::config::AuthConfig;

    use super::*;

    fn config() -> AuthConfig {
        let mut c = acervo_catalog::AcervoConfig::defaults().auth;
        c.argon2_memory_kib = 64;
        c.argon2_iterations = 1;
        c
    }

    fn store() -> (tempfile::TempDir, IdentityStore) {
        let dir = tempfile::tempdir().unwrap();
        let config = config();
        let s = IdentityStore::open(dir.path(), &config).unwrap();
        s.create_project("news".parse().unwrap(), "News".into()).unwrap();
        s.create_project("sport".parse().unwrap(), "Sport".into()).unwrap();
        (dir, s)
    }

    fn new(project: &str, name: &str, parent: Option<&str>, restricted: bool) -> NewCollection {
        NewCollection {
            project: project.parse().unwrap(),
            name: name.into(),
            parent: parent.map(str::to_string),
            restricted,
            by: "ana".into(),
        }
    }

    #[test]
    fn a_restriction_and_its_grants_reach_the_nested_collections_and_survive_a_reopen() {
        let (dir, s) = store();
        let top = s.create_collection(new("news", "Investigations", None, true)).unwrap();
        let child = s.create_collection(new("news", "Leaks", Some(&top.id), false)).unwrap();
        let open = s.create_collection(new("news", "Daily", None, false)).unwrap();
        assert!(child.effectively_restricted && !child.restricted);
        let r = s.restricted_collections();
        assert_eq!(r.len(), 2);
        assert!(r.iter().all(|c| c.granted == vec!["ana".to_string()]));
        assert!(!r.iter().any(|c| c.id == open.id));
        // The journal rebuilds the same tree.
        drop(s);
        let config = config();
        let again = IdentityStore::open(dir.path(), &config).unwrap();
        assert_eq!(again.restricted_collections(), r);
        assert_eq!(again.collections(None).len(), 3);
    }

    #[test]
    fn nesting_stays_a_tree_inside_one_project() {
        let (_dir, s) = store();
        let a = s.create_collection(new("news", "A", None, false)).unwrap();
        let b = s.create_collection(new("news", "B", Some(&a.id), false)).unwrap();
        let other = s.create_collection(new("sport", "C", None, false)).unwrap();
        let cycle = CollectionChange { parent: Some(Some(b.id.clone())), ..Default::default() };
        assert!(matches!(s.update_collection(&a.id, cycle), Err(IdentityError::Invalid(_))));
        assert!(matches!(
            s.create_collection(new("news", "D", Some(&other.id), false)),
            Err(IdentityError::Invalid(_))
        ));
        assert!(matches!(s.delete_collection(&a.id), Err(IdentityError::Conflict(_))));
        s.delete_collection(&b.id).unwrap();
        s.delete_collection(&a.id).unwrap();
        assert!(matches!(
            s.create_collection(new("news", " ", None, false)),
            Err(IdentityError::Invalid(_))
        ));
    }
}
