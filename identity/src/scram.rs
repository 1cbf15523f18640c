//! The SCRAM-SHA-256 verifier (RFC 5802, RFC 7677) kept beside each local password, in
//! PostgreSQL's own format (`SCRAM-SHA-256$iterations:salt$StoredKey:ServerKey`), so the SQL
//! endpoint can authenticate PostgreSQL clients without ever holding the password: it checks a
//! client's proof against `StoredKey` and signs its answer with `ServerKey`.

use std::num::NonZeroU32;

use aws_lc_rs::{digest, hmac, pbkdf2};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::IdentityError;
use crate::random;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScramVerifier {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub stored_key: [u8; 32],
    pub server_key: [u8; 32],
}

fn hmac256(key: &[u8], text: &[u8]) -> [u8; 32] {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), text);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, bytes).as_ref());
    out
}

impl ScramVerifier {
    /// A verifier for `password` with a fresh 16-byte salt.
    pub fn new(password: &str, iterations: u32) -> Result<ScramVerifier, IdentityError> {
        Self::with_salt(password, &random::bytes::<16>()?, iterations)
    }

    /// (The password is used as UTF-8 bytes: SASLprep changes only rare non-ASCII characters,
    /// and PostgreSQL itself falls back to the raw bytes for what SASLprep refuses.)
    pub fn with_salt(
        password: &str,
        salt: &[u8],
        iterations: u32,
    ) -> Result<ScramVerifier, IdentityError> {
        let rounds = NonZeroU32::new(iterations)
            .ok_or_else(|| IdentityError::Invalid("SCRAM needs at least one iteration".into()))?;
        let mut salted = [0u8; 32];
        pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, rounds, salt, password.as_bytes(), &mut salted);
        let client_key = hmac256(&salted, b"Client Key");
        Ok(ScramVerifier {
            iterations,
            salt: salt.to_vec(),
            stored_key: sha256(&client_key),
            server_key: hmac256(&salted, b"Server Key"),
        })
    }

    /// Whether `proof` (the client-final message's `p=`, decoded) proves the password for
    /// `auth_message` (client-first-bare, server-first and client-final without the proof,
    /// joined by commas).
    pub fn verify_proof(&self, auth_message: &str, proof: &[u8]) -> bool {
        if proof.len() != 32 {
            return false;
        }
        let signature = hmac256(&self.stored_key, auth_message.as_bytes());
        let client_key: Vec<u8> = proof.iter().zip(signature).map(|(p, s)| p ^ s).collect();
        random::same(&sha256(&client_key), &self.stored_key)
    }

    /// The server's signature (`v=` of the server-final message) for `auth_message`.
    pub fn server_signature(&self, auth_message: &str) -> [u8; 32] {
        hmac256(&self.server_key, auth_message.as_bytes())
    }

    /// PostgreSQL's text form, as `pg_authid.rolpassword` holds it.
    pub fn encode(&self) -> String {
        format!(
            "SCRAM-SHA-256${}:{}${}:{}",
            self.iterations,
            STANDARD.encode(&self.salt),
            STANDARD.encode(self.stored_key),
            STANDARD.encode(self.server_key)
        )
    }

    pub fn decode(text: &str) -> Result<ScramVerifier, IdentityError> {
        let bad = || IdentityError::Invalid(format!("not a SCRAM-SHA-256 verifier: {text:?}"));
        let rest = text.strip_prefix("SCRAM-SHA-256$").ok_or_else(bad)?;
        let (params, keys) = rest.split_once('$').ok_or_else(bad)?;
        let (iterations, salt) = params.split_once(':').ok_or_else(bad)?;
        let (stored, server) = keys.split_once(':').ok_or_else(bad)?;
        let key = |b64: &str| -> Result<[u8; 32], IdentityError> {
            STANDARD.decode(b64).ok().and_then(|v| v.try_into().ok()).ok_or_else(bad)
        };
        Ok(ScramVerifier {
            iterations: iterations.parse().map_err(|_| bad())?,
            salt: STANDARD.decode(salt).map_err(|_| bad())?,
            stored_key: key(stored)?,
            server_key: key(server)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::ScramVerifier;

    /// The SCRAM-SHA-256 exchange of RFC 7677 §3 (user "user", password "pencil").
    const AUTH_MESSAGE: &str = "n=user,r=rOprNGfwEbeRWgbNEkqO,\
        r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,\
        c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";

    fn rfc_verifier(password: &str) -> ScramVerifier {
        let salt = STANDARD.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        ScramVerifier::with_salt(password, &salt, 4096).unwrap()
    }

    #[test]
    fn the_rfc_7677_client_proof_verifies_and_the_server_signature_matches() {
        let v = rfc_verifier("pencil");
        let proof = STANDARD.decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=").unwrap();
        assert!(v.verify_proof(AUTH_MESSAGE, &proof));
        assert_eq!(
            STANDARD.encode(v.server_signature(AUTH_MESSAGE)),
            "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
    }

    #[test]
    fn a_proof_for_another_password_or_message_fails() {
        let proof = STANDARD.decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=").unwrap();
        assert!(!rfc_verifier("pencil2").verify_proof(AUTH_MESSAGE, &proof));
        assert!(
            !rfc_verifier("pencil").verify_proof(&AUTH_MESSAGE.replace("i=4096", "i=4097"), &proof)
        );
        assert!(!rfc_verifier("pencil").verify_proof(AUTH_MESSAGE, &proof[..31]));
    }

    #[test]
    fn the_postgresql_text_form_round_trips() {
        let v = ScramVerifier::new("correct horse", 4096).unwrap();
        let text = v.encode();
        assert!(text.starts_with("SCRAM-SHA-256$4096:"), "{text}");
        assert_eq!(ScramVerifier::decode(&text).unwrap(), v);
        assert!(ScramVerifier::decode("md5abc").is_err());
        assert!(ScramVerifier::decode("SCRAM-SHA-256$x:AA==$AA==:AA==").is_err());
    }
}
