//! Signed photo receipts (issue 18, item 4): the server signs what it
//! received (the photo's id, the SHA-256 of the stored bytes, the server's
//! time) with an Ed25519 key and publishes the public half, so a reporter,
//! a lawyer or a court can check a receipt offline with openssl alone
//! (docs/receipts.md has the command).
//!
//! Ed25519 through `ed25519-dalek` (RustCrypto/dalek): signatures are
//! deterministic (no random number at signing time to get wrong, and a
//! receipt can be signed again from the stored photo record and compare
//! equal), keys are 32 bytes, the crate reads and writes the PKCS#8 and SPKI
//! PEM files openssl uses (`openssl genpkey -algorithm ed25519`,
//! `openssl pkeyutl -verify -rawin`), and it is pure Rust, like the rest of
//! our crypto (no OpenSSL linked into the server).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signer, SigningKey};
use uuid::Uuid;

/// The first line of every signed receipt: names what is signed and how, so
/// a signature can never be taken for one over another kind of message.
pub const RECEIPT_TAG: &str = "sansuo-photo-receipt-v1";

/// The server's receipt key.
pub struct ReceiptSigner {
    key: SigningKey,
}

impl std::fmt::Debug for ReceiptSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReceiptSigner(..)")
    }
}

/// A receipt's signed text and its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedReceipt {
    /// The exact bytes signed (UTF-8 text, lines ending in `\n`).
    pub message: String,
    /// The Ed25519 signature of `message`, standard base64 (64 bytes).
    pub signature: String,
}

impl ReceiptSigner {
    /// From `SANSUO_RECEIPT_KEY`: a PKCS#8 PEM Ed25519 private key (what
    /// `openssl genpkey -algorithm ed25519` writes), or its 32-byte seed in
    /// standard base64. The error says which and never echoes the key.
    pub fn parse(setting: &str) -> Result<Self, String> {
        let setting = setting.trim();
        if setting.starts_with("-----BEGIN") {
            return SigningKey::from_pkcs8_pem(setting)
                .map(|key| ReceiptSigner { key })
                .map_err(|_| {
                    "is not an Ed25519 private key in PKCS#8 PEM (make one with `openssl genpkey -algorithm ed25519`)".to_owned()
                });
        }
        let seed = STANDARD
            .decode(setting)
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or_else(|| {
                "is neither a PKCS#8 PEM Ed25519 private key nor 32 bytes in base64 (make one with `openssl genpkey -algorithm ed25519`)".to_owned()
            })?;
        Ok(ReceiptSigner {
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// A new key from 32 random bytes (the caller's), as PKCS#8 PEM: what
    /// the embedded default writes to its data directory.
    pub fn new_pem(seed: [u8; 32]) -> String {
        SigningKey::from_bytes(&seed)
            .to_pkcs8_pem(LineEnding::LF)
            .expect("an Ed25519 key encodes")
            .to_string()
    }

    /// The public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`), what
    /// `openssl pkeyutl -verify -pubin -inkey` reads.
    pub fn public_key_pem(&self) -> String {
        self.key
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("an Ed25519 public key encodes")
    }

    /// The text signed for one photo.
    pub fn message(photo_id: Uuid, sha256_hex: &str, received_at: DateTime<Utc>) -> String {
        format!(
            "{RECEIPT_TAG}\nphoto_id={}\nsha256={sha256_hex}\nreceived_at={}\n",
            photo_id,
            received_at.to_rfc3339_opts(SecondsFormat::Micros, true)
        )
    }

    /// Signs one photo's receipt.
    pub fn sign(
        &self,
        photo_id: Uuid,
        sha256_hex: &str,
        received_at: DateTime<Utc>,
    ) -> SignedReceipt {
        let message = Self::message(photo_id, sha256_hex, received_at);
        let signature = self.key.sign(message.as_bytes());
        SignedReceipt {
            signature: STANDARD.encode(signature.to_bytes()),
            message,
        }
    }

    /// Whether `signature` (base64) is ours over `message`.
    pub fn verify(&self, message: &str, signature: &str) -> bool {
        let Some(bytes) = STANDARD
            .decode(signature)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
        else {
            return false;
        };
        self.key
            .verifying_key()
            .verify_strict(
                message.as_bytes(),
                &ed25519_dalek::Signature::from_bytes(&bytes),
            )
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> ReceiptSigner {
        ReceiptSigner::parse(&ReceiptSigner::new_pem([7; 32])).unwrap()
    }

    #[test]
    fn a_receipt_verifies_and_an_altered_one_does_not() {
        let s = signer();
        let at = DateTime::from_timestamp_micros(1_796_000_000_123_456).unwrap();
        let id = Uuid::from_u128(1);
        let receipt = s.sign(id, &"ab".repeat(32), at);
        assert!(
            receipt
                .message
                .starts_with("sansuo-photo-receipt-v1\nphoto_id=")
        );
        assert!(receipt.message.contains("received_at=2026-"));
        assert!(s.verify(&receipt.message, &receipt.signature));
        let altered = receipt.message.replace("sha256=ab", "sha256=ac");
        assert!(!s.verify(&altered, &receipt.signature));
        // Deterministic: the same receipt signs the same.
        assert_eq!(s.sign(id, &"ab".repeat(32), at), receipt);
    }

    #[test]
    fn keys_read_from_pem_or_a_base64_seed_and_bad_ones_are_named_without_echo() {
        let from_seed = ReceiptSigner::parse(&STANDARD.encode([7u8; 32])).unwrap();
        assert_eq!(from_seed.public_key_pem(), signer().public_key_pem());
        assert!(
            signer()
                .public_key_pem()
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );
        for bad in [
            "secret-but-not-a-key",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            "",
        ] {
            let err = ReceiptSigner::parse(bad).unwrap_err();
            assert!(bad.is_empty() || !err.contains(bad), "{err}");
        }
    }
}
