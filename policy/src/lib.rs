//! Authorisation as declarative Rego (the language of the Open Policy Agent), evaluated
//! in-process by `regorus`. The policy answers two questions: may this principal do this action
//! to this resource (`allow`), and what may it read (`scope`, turned into the filters every
//! reader pushes into its query). The default policy is embedded; `policy.file` replaces it.
//! Decisions are cached, and the caches are emptied whenever the policy or the directory data
//! it reads (memberships, restricted collections) changes.

mod cache;
mod error;
mod input;
mod policy;

pub use acervo_catalog::RestrictedCollection;
pub use error::PolicyError;
pub use input::{Resource, Transition};
pub use policy::{DEFAULT_POLICY, Policy};

#[cfg(test)]
mod tests;
