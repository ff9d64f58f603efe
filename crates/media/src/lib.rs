//! Photos attached to tip reports: accepted by content, stripped of
//! metadata, fingerprinted, stored.
//!
//! A resident's photo of a hazard or a scam flyer is evidence, and it is also
//! a privacy risk: a phone writes the GPS position, the device, the owner's
//! name and the time into the file. [`process`] turns an upload into what we
//! keep:
//!
//! 1. [`sniff`]: the type comes from the first bytes (JPEG, PNG or WebP),
//!    never from the file name or the client's `Content-Type`.
//! 2. [`Limits::check_size`]: one photo at most `max_bytes`.
//! 3. [`strip_metadata`]: Exif, XMP, IPTC, text chunks, comments and
//!    anything after the end of the image are removed.
//! 4. [`Receipt`]: the SHA-256 of the stored bytes and the server's receipt
//!    time, handed back to the reporter.
//!
//! # Why the containers are walked by hand
//!
//! Stripping works on the file's container structure (JPEG segments, PNG
//! chunks, RIFF chunks) and copies the compressed image data through
//! untouched; no pixel is ever decoded. That is deliberate:
//!
//! - **No decoder attack surface.** Image decoders are a classic home of
//!   memory-safety and resource-exhaustion bugs (decompression bombs, huge
//!   dimensions). A segment walker reads lengths and copies slices; every
//!   length is checked against the input and a bad one is an error.
//! - **No quality loss.** Re-encoding would degrade every photo a little and
//!   change it in ways a reporter cannot check.
//! - **Exact evidence.** The image data we store is byte for byte the image
//!   data the phone produced; only the metadata around it is gone, so the
//!   photo can be compared with the original on the reporter's phone.
//!
//! The walkers keep what is needed to show the picture with the right
//! colours and drop everything else, including chunk types they do not know
//! (an allow-list, so a new metadata format does not slip through).
//!
//! Storage sits behind [`PhotoStore`]: [`LocalDirStore`] for the embedded
//! default; the PostgreSQL store for multi-instance production lives in
//! `sansuo-store`.

mod error;
mod jpeg;
mod png;
mod receipt;
mod signing;
mod sniff;
mod store;
mod webp;

#[cfg(test)]
mod fixtures;

pub use error::{Limits, MediaError};
pub use receipt::{Receipt, process, sha256_hex};
pub use signing::{RECEIPT_TAG, ReceiptSigner, SignedReceipt};
pub use sniff::{ImageKind, sniff};
pub use store::{LocalDirStore, PhotoStore, StorageError, photo_key, validate_key};

/// Removes everything from `bytes` that can carry location or identity
/// (Exif, XMP, IPTC, comments, text chunks, trailing data), without decoding
/// the image. The compressed image data is copied unchanged.
///
/// `kind` is what [`sniff`] said about these bytes; bytes that do not have
/// the structure of that kind are [`MediaError::Malformed`].
///
/// Dropping Exif also drops its orientation tag, so a phone photo taken
/// sideways may now display rotated. We accept that for evidence: rotating
/// would mean re-encoding (or rewriting a tag we are removing), and a viewer
/// can turn the picture; the pixels are the phone's own.
///
/// The result is stable: stripping it again gives the same bytes.
pub fn strip_metadata(kind: ImageKind, bytes: &[u8]) -> Result<Vec<u8>, MediaError> {
    match kind {
        ImageKind::Jpeg => jpeg::strip(bytes),
        ImageKind::Png => png::strip(bytes),
        ImageKind::Webp => webp::strip(bytes),
    }
}

#[cfg(test)]
mod tests {
    //! Robustness: whatever the bytes, stripping returns; it never panics.
    use super::*;

    fn valid_images() -> [(ImageKind, Vec<u8>); 3] {
        [
            (ImageKind::Jpeg, fixtures::jpeg()),
            (ImageKind::Png, fixtures::png()),
            (ImageKind::Webp, fixtures::webp()),
        ]
    }

    #[test]
    fn every_truncation_is_an_error_never_a_panic() {
        for (kind, image) in valid_images() {
            assert!(strip_metadata(kind, &image).is_ok());
            // Each format ends with a terminator (EOI, IEND) or a size
            // covering the whole file (RIFF), so every proper prefix is
            // incomplete.
            for len in 0..image.len() {
                let result = strip_metadata(kind, &image[..len]);
                assert!(
                    matches!(result, Err(MediaError::Malformed(_))),
                    "{kind:?} cut to {len} bytes: {result:?}"
                );
            }
        }
    }

    #[test]
    fn corrupted_bytes_never_panic() {
        // Every byte set to a few values that matter to the walkers (length
        // extremes, marker bytes). A corruption can make a different valid
        // file (an APP1 marker turned into SOS makes the Exif block image
        // data), so what we can demand of an output is that it is a file of
        // the same kind that stripping leaves alone.
        for (kind, image) in valid_images() {
            for position in 0..image.len() {
                for value in [0x00, 0x01, 0x7F, 0x80, 0xD9, 0xDA, 0xFE, 0xFF] {
                    let mut corrupted = image.clone();
                    corrupted[position] = value;
                    if let Ok(output) = strip_metadata(kind, &corrupted) {
                        assert_eq!(sniff(&output), Some(kind));
                        assert_eq!(strip_metadata(kind, &output).as_ref(), Ok(&output));
                    }
                }
            }
        }
    }

    #[test]
    fn the_wrong_kind_is_malformed() {
        for (kind, image) in valid_images() {
            for other in [ImageKind::Jpeg, ImageKind::Png, ImageKind::Webp] {
                if other != kind {
                    assert!(matches!(
                        strip_metadata(other, &image),
                        Err(MediaError::Malformed(_))
                    ));
                }
            }
        }
    }

    #[test]
    fn pseudo_random_garbage_never_panics() {
        // xorshift64: deterministic, so a failure reproduces.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let headers: [(ImageKind, &[u8]); 3] = [
            (ImageKind::Jpeg, &[0xFF, 0xD8, 0xFF]),
            (ImageKind::Png, sniff::PNG_SIGNATURE),
            (ImageKind::Webp, b"RIFF\x40\x00\x00\x00WEBP"),
        ];
        for _ in 0..2_000 {
            for (kind, header) in headers {
                let len = (next() % 96) as usize;
                let mut bytes = header.to_vec();
                bytes.extend((0..len).map(|_| (next() & 0xFF) as u8));
                let _ = strip_metadata(kind, &bytes);
            }
        }
    }
}
