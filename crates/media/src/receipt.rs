//! From an upload to the bytes we store and the receipt the reporter keeps.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::{ImageKind, Limits, MediaError, sniff, strip_metadata};

/// What the reporter is given for each photo: proof of what we received and
/// when, which they (or a court) can check later against the stored photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// SHA-256 of the stored bytes (after stripping), lower-case hex.
    pub sha256_hex: String,
    /// Length of the stored bytes.
    pub bytes: u64,
    pub kind: ImageKind,
    /// The server's clock when the upload was complete, not the phone's
    /// (which the reporter controls, and which we strip anyway).
    pub received_at: DateTime<Utc>,
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Turns an upload into the bytes to store and the reporter's receipt:
/// type by content, size, metadata stripped, fingerprint.
///
/// The fingerprint is of the **stored** (stripped) bytes, not of the
/// upload: the stored photo is what we can later prove unchanged, by
/// hashing it again. A hash of the upload would only prove that we once saw
/// a file containing the reporter's location, which we do not keep.
///
/// The size limit applies to the upload as received, so a client cannot
/// send more than the limit by padding it with metadata we would strip.
pub fn process(
    bytes: &[u8],
    limits: &Limits,
    received_at: DateTime<Utc>,
) -> Result<(Vec<u8>, Receipt), MediaError> {
    let kind = sniff(bytes).ok_or(MediaError::TypeNotAllowed)?;
    limits.check_size(bytes.len())?;
    let stored = strip_metadata(kind, bytes)?;
    let receipt = Receipt {
        sha256_hex: sha256_hex(&stored),
        bytes: stored.len() as u64,
        kind,
        received_at,
    };
    Ok((stored, receipt))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use chrono::TimeZone;

    fn noon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 14, 4, 0, 0).unwrap()
    }

    #[test]
    fn sha256_matches_the_standard_test_vectors() {
        // FIPS 180-2 examples.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn receipt_fingerprints_the_stored_bytes() {
        for (upload, kind) in [
            (fixtures::jpeg(), ImageKind::Jpeg),
            (fixtures::png(), ImageKind::Png),
            (fixtures::webp(), ImageKind::Webp),
        ] {
            let (stored, receipt) = process(&upload, &Limits::default(), noon()).unwrap();
            assert_eq!(stored, strip_metadata(kind, &upload).unwrap());
            assert_eq!(receipt.kind, kind);
            assert_eq!(receipt.bytes, stored.len() as u64);
            assert_eq!(receipt.received_at, noon());
            assert_eq!(receipt.sha256_hex, hex::encode(Sha256::digest(&stored)));
            assert_ne!(receipt.sha256_hex, sha256_hex(&upload));
            assert_eq!(receipt.sha256_hex.len(), 64);
        }
    }

    #[test]
    fn refuses_what_is_not_a_photo() {
        let html = b"<html><img src=x onerror=alert(1)></html>";
        assert_eq!(
            process(html, &Limits::default(), noon()),
            Err(MediaError::TypeNotAllowed)
        );
        assert_eq!(
            process(b"", &Limits::default(), noon()),
            Err(MediaError::TypeNotAllowed)
        );
    }

    #[test]
    fn size_limit_applies_to_the_upload() {
        let upload = fixtures::jpeg();
        let (stored, _) = process(&upload, &Limits::default(), noon()).unwrap();
        // The stripped photo would fit, the upload does not.
        let limits = Limits {
            max_bytes: upload.len() - 1,
            ..Limits::default()
        };
        assert!(stored.len() <= limits.max_bytes);
        assert_eq!(
            process(&upload, &limits, noon()),
            Err(MediaError::TooLarge {
                len: upload.len(),
                max: upload.len() - 1
            })
        );
        let exact = Limits {
            max_bytes: upload.len(),
            ..Limits::default()
        };
        assert!(process(&upload, &exact, noon()).is_ok());
    }

    #[test]
    fn a_file_that_only_starts_like_a_photo_is_malformed() {
        let mut upload = fixtures::jpeg();
        upload.truncate(upload.len() / 2);
        assert!(matches!(
            process(&upload, &Limits::default(), noon()),
            Err(MediaError::Malformed(_))
        ));
    }
}
