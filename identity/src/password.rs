//! Local passwords: argon2id in the PHC string format (`$argon2id$v=19$m=…,t=…,p=1$salt$hash`),
//! at the cost the configuration sets. A stored hash carries its own parameters, so raising the
//! cost later still verifies the old ones.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::IdentityError;
use crate::random;

/// The rules and the cost of local passwords.
#[derive(Clone, Debug)]
pub struct PasswordPolicy {
    pub memory_kib: u32,
    pub iterations: u32,
    pub min_length: usize,
}

impl PasswordPolicy {
    fn hasher(&self) -> Result<Argon2<'static>, IdentityError> {
        let params = Params::new(self.memory_kib, self.iterations, 1, None)
            .map_err(|e| IdentityError::Invalid(format!("argon2 parameters: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Refuses a password too short to be one (length in characters, not bytes).
    pub fn check(&self, password: &str) -> Result<(), IdentityError> {
        if password.chars().count() < self.min_length {
            return Err(IdentityError::Invalid(format!(
                "a password has at least {} characters",
                self.min_length
            )));
        }
        Ok(())
    }

    pub fn hash(&self, password: &str) -> Result<String, IdentityError> {
        let salt = random::bytes::<16>()?;
        let hash = self
            .hasher()?
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map_err(|e| IdentityError::Hash(e.to_string()))?;
        Ok(hash.to_string())
    }

    /// Whether `password` matches `stored`; a stored value that is not a PHC string matches
    /// nothing.
    pub fn verify(&self, password: &str, stored: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(stored) else { return false };
        Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
    }

    /// Spends the time of one verification, so a login for an unknown user takes as long as one
    /// for a known user with a wrong password.
    pub fn waste_time(&self, password: &str) {
        if let Ok(h) = self.hasher() {
            let mut out = [0u8; 32];
            let _ = h.hash_password_into(password.as_bytes(), b"acervo-no-such-user", &mut out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PasswordPolicy;

    fn cheap() -> PasswordPolicy {
        PasswordPolicy { memory_kib: 64, iterations: 1, min_length: 12 }
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let p = cheap();
        let h = p.hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{h}");
        assert!(p.verify("correct horse battery", &h));
        assert!(!p.verify("correct horse batterY", &h));
        assert!(!p.verify("correct horse battery", "not a hash"));
        assert_ne!(h, p.hash("correct horse battery").unwrap(), "each hash has its own salt");
    }

    #[test]
    fn a_hash_made_at_another_cost_still_verifies() {
        let h = cheap().hash("correct horse battery").unwrap();
        let dearer = PasswordPolicy { memory_kib: 128, iterations: 2, ..cheap() };
        assert!(dearer.verify("correct horse battery", &h));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(cheap().check("short").is_err());
        assert!(cheap().check("ñandúñandúña").is_ok(), "twelve characters, more bytes");
    }
}
