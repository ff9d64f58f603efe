//! Encryption of personal data at rest, and keyed pseudonyms.

mod pseudonym;
pub use pseudonym::Pseudonymiser;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use std::fmt;

const VERSION: &str = "v1";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error("the key ring is empty")]
    NoKeys,
    #[error("key `{0}`: {1}")]
    BadKey(String, &'static str),
    #[error("no key with id `{0}`")]
    UnknownKey(String),
    #[error("the sealed value is malformed")]
    Malformed,
    #[error("the sealed value does not decrypt (wrong key or tampered)")]
    Tampered,
}

struct Key {
    id: String,
    key: LessSafeKey,
}

/// The keys of one deployment; the first one seals.
pub struct KeyRing {
    keys: Vec<Key>,
    rng: SystemRandom,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("KeyRing").field("key_ids", &ids).finish()
    }
}

impl KeyRing {
    /// `id:base64(32 bytes)[,id:base64...]`.
    pub fn parse(spec: &str) -> Result<Self, VaultError> {
        let mut keys = Vec::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (id, material) = entry.split_once(':').ok_or_else(|| {
                VaultError::BadKey(entry.chars().take(8).collect(), "write it as id:base64")
            })?;
            if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(VaultError::BadKey(
                    id.to_owned(),
                    "ids are letters and digits",
                ));
            }
            let bytes = STANDARD
                .decode(material)
                .map_err(|_| VaultError::BadKey(id.to_owned(), "not base64"))?;
            keys.push(Self::key(id, &bytes)?);
        }
        if keys.is_empty() {
            return Err(VaultError::NoKeys);
        }
        Ok(Self {
            keys,
            rng: SystemRandom::new(),
        })
    }

    /// A ring with one fresh random key: the demo mode, where values need
    /// not outlive the process.
    pub fn ephemeral() -> Self {
        let rng = SystemRandom::new();
        let mut bytes = [0u8; 32];
        rng.fill(&mut bytes).expect("the system RNG works");
        Self {
            keys: vec![Self::key("ephemeral", &bytes).expect("32 bytes")],
            rng,
        }
    }

    /// A new random key written as `parse` reads it (`id:base64(32 bytes)`),
    /// for a key file the demo keeps beside its database.
    pub fn random_spec(id: &str) -> String {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .expect("the system RNG works");
        format!("{id}:{}", STANDARD.encode(bytes))
    }

    fn key(id: &str, bytes: &[u8]) -> Result<Key, VaultError> {
        if bytes.len() != 32 {
            return Err(VaultError::BadKey(id.to_owned(), "must be 32 bytes"));
        }
        let unbound = UnboundKey::new(&AES_256_GCM, bytes)
            .map_err(|_| VaultError::BadKey(id.to_owned(), "rejected"))?;
        Ok(Key {
            id: id.to_owned(),
            key: LessSafeKey::new(unbound),
        })
    }

    /// Encrypt under the current key. `context` (e.g. "resident.phone") is
    /// bound into the tag, so a value cannot be moved to another field.
    pub fn seal(&self, context: &str, plaintext: &str) -> String {
        let key = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).expect("the system RNG works");
        let mut data = plaintext.as_bytes().to_vec();
        key.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut data,
            )
            .expect("AES-GCM seals any length we store");
        format!(
            "{VERSION}.{}.{}.{}",
            key.id,
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(data)
        )
    }

    pub fn open(&self, context: &str, sealed: &str) -> Result<String, VaultError> {
        let mut parts = sealed.split('.');
        let (Some(VERSION), Some(id), Some(nonce), Some(data), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(VaultError::Malformed);
        };
        let key = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| VaultError::UnknownKey(id.to_owned()))?;
        let nonce: [u8; NONCE_LEN] = URL_SAFE_NO_PAD
            .decode(nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or(VaultError::Malformed)?;
        let mut data = URL_SAFE_NO_PAD
            .decode(data)
            .map_err(|_| VaultError::Malformed)?;
        let plain = key
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut data,
            )
            .map_err(|_| VaultError::Tampered)?;
        String::from_utf8(plain.to_vec()).map_err(|_| VaultError::Tampered)
    }

    /// Whether a value was sealed under an older key (re-seal it).
    pub fn needs_reseal(&self, sealed: &str) -> bool {
        sealed.split('.').nth(1) != Some(self.keys[0].id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: &str, byte: u8) -> String {
        format!("{id}:{}", STANDARD.encode([byte; 32]))
    }

    #[test]
    fn sealed_values_open_only_with_the_right_key_and_context() {
        let ring = KeyRing::parse(&spec("k1", 7)).unwrap();
        let sealed = ring.seal("resident.phone", "13812345678");
        assert!(!sealed.contains("13812345678"));
        assert_eq!(ring.open("resident.phone", &sealed).unwrap(), "13812345678");
        assert_eq!(
            ring.open("resident.id_number", &sealed),
            Err(VaultError::Tampered)
        );
        let other = KeyRing::parse(&spec("k1", 8)).unwrap();
        assert_eq!(
            other.open("resident.phone", &sealed),
            Err(VaultError::Tampered)
        );
        let mut flipped = sealed.clone();
        flipped.pop();
        flipped.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(ring.open("resident.phone", &flipped).is_err());
        assert_eq!(
            ring.open("resident.phone", "garbage"),
            Err(VaultError::Malformed)
        );
    }

    #[test]
    fn the_same_value_seals_differently_each_time() {
        let ring = KeyRing::parse(&spec("k1", 7)).unwrap();
        assert_ne!(ring.seal("c", "x"), ring.seal("c", "x"));
    }

    #[test]
    fn rotation_keeps_old_values_readable_and_flags_them() {
        let old = KeyRing::parse(&spec("k1", 1)).unwrap();
        let sealed = old.seal("c", "13900001111");
        let rotated = KeyRing::parse(&format!("{},{}", spec("k2", 2), spec("k1", 1))).unwrap();
        assert_eq!(rotated.open("c", &sealed).unwrap(), "13900001111");
        assert!(rotated.needs_reseal(&sealed));
        assert!(!rotated.needs_reseal(&rotated.seal("c", "13900001111")));
        let dropped = KeyRing::parse(&spec("k2", 2)).unwrap();
        assert_eq!(
            dropped.open("c", &sealed),
            Err(VaultError::UnknownKey("k1".into()))
        );
    }

    #[test]
    fn bad_key_rings_are_refused_without_echoing_keys() {
        assert_eq!(KeyRing::parse("").unwrap_err(), VaultError::NoKeys);
        assert!(matches!(
            KeyRing::parse("k1:c2hvcnQ="),
            Err(VaultError::BadKey(_, "must be 32 bytes"))
        ));
        assert!(matches!(
            KeyRing::parse("k1:***"),
            Err(VaultError::BadKey(_, "not base64"))
        ));
        assert!(matches!(
            KeyRing::parse("nocolon"),
            Err(VaultError::BadKey(_, _))
        ));
        let ring = KeyRing::parse(&spec("k1", 9)).unwrap();
        assert_eq!(format!("{ring:?}"), "KeyRing { key_ids: [\"k1\"] }");
    }
}
