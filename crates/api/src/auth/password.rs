use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use rand::Rng;

/// Hash a password with Argon2id and a random salt (PHC string format).
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| e.to_string())
}

/// Hash a password this server generated ([`generate_password`]) with
/// Argon2id at a small cost (1 MiB, one pass: about a millisecond against
/// the default's tens). The slow default is there to make guessing a
/// person's chosen password expensive; a 112-bit random secret cannot be
/// guessed at any speed, and a district's import of 700 accounts must not
/// take minutes. The parameters are stored in the PHC string, so
/// [`verify_password`] checks either kind, and the password the person
/// sets next is hashed with the default again.
pub fn hash_generated_password(password: &str) -> Result<String, String> {
    let params = argon2::Params::new(1024, 1, 1, None).map_err(|e| e.to_string())?;
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| e.to_string())
}

/// 20 characters from an alphabet without look-alikes (no 0/O, 1/l/I), about
/// 112 bits: read off a terminal and typed once, then changed.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Whether `password` matches the stored PHC hash. A malformed hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_passwords_cheap_hash_verifies_with_the_default_checker() {
        let password = generate_password();
        let hash = hash_generated_password(&password).unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(hash.contains("m=1024,t=1,p=1"), "{hash}");
        assert!(verify_password(&password, &hash));
        assert!(!verify_password("another-password", &hash));
    }

    #[test]
    fn hashes_verify_only_their_password() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not-a-hash"));
    }
}
