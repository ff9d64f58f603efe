//! PNG: walk the chunks, keep the image and its colour, drop text and time.
//!
//! A PNG is the 8-byte signature, then chunks: a 4-byte big-endian length of
//! the data, a 4-byte type, the data, and a CRC over type and data. Kept
//! chunks are copied whole, CRC included, so they stay exactly as they were.
//!
//! Kept (an allow-list; unknown ancillary chunks are dropped):
//!
//! - critical: `IHDR`, `PLTE`, `IDAT`, `IEND`: the image;
//! - colour: `gAMA`, `cHRM`, `sRGB`, `iCCP` (ICC profile), `cICP`, `mDCV`,
//!   `cLLI` (HDR), `sBIT`, `tRNS`, `bKGD`: without them colours or
//!   transparency are wrong; they are numbers or an ICC profile, not text;
//! - `pHYs`: the intended pixel size (physical aspect ratio);
//! - animation: `acTL`, `fcTL`, `fdAT` (APNG frames).
//!
//! Dropped: `eXIf` (Exif with GPS, device and orientation), `tEXt`, `zTXt`
//! and `iTXt` (free text: comments, authors, XMP), `tIME` (last edit time),
//! any other ancillary chunk, and bytes after `IEND`. An unknown *critical*
//! chunk is refused: a decoder must not show such an image, and dropping it
//! would change what the image is.

use crate::MediaError;
use crate::sniff::PNG_SIGNATURE;

const KEPT_CHUNKS: &[&[u8; 4]] = &[
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"cICP", b"mDCV",
    b"cLLI", b"sBIT", b"tRNS", b"bKGD", b"pHYs", b"acTL", b"fcTL", b"fdAT",
];

/// PNG caps chunk lengths at 2^31 - 1.
const MAX_CHUNK_LEN: usize = 0x7FFF_FFFF;

fn malformed(why: &'static str) -> MediaError {
    MediaError::Malformed(why)
}

/// Bit 5 of the first type byte is clear (an upper-case letter) for critical
/// chunks.
fn is_critical(chunk_type: &[u8; 4]) -> bool {
    chunk_type[0] & 0x20 == 0
}

pub(crate) fn strip(data: &[u8]) -> Result<Vec<u8>, MediaError> {
    if !data.starts_with(PNG_SIGNATURE) {
        return Err(malformed("PNG does not start with its signature"));
    }
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(PNG_SIGNATURE);
    let mut pos = PNG_SIGNATURE.len();
    let mut seen_ihdr = false;
    let mut seen_idat = false;
    loop {
        let header = data
            .get(pos..pos + 8)
            .ok_or(malformed("PNG ends before its IEND chunk"))?;
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let chunk_type: [u8; 4] = [header[4], header[5], header[6], header[7]];
        if length > MAX_CHUNK_LEN {
            return Err(malformed("PNG chunk length is out of range"));
        }
        if !chunk_type.iter().all(u8::is_ascii_alphabetic) {
            return Err(malformed("PNG chunk type is not four letters"));
        }
        // Length, type, data, CRC.
        let chunk = pos
            .checked_add(8 + length + 4)
            .and_then(|chunk_end| data.get(pos..chunk_end))
            .ok_or(malformed("PNG chunk runs past the end of the file"))?;
        let chunk_end = pos + chunk.len();
        pos = chunk_end;

        if !seen_ihdr && &chunk_type != b"IHDR" {
            return Err(malformed("PNG does not start with IHDR"));
        }
        seen_ihdr = true;
        seen_idat |= &chunk_type == b"IDAT";

        if KEPT_CHUNKS.contains(&&chunk_type) {
            out.extend_from_slice(chunk);
        } else if is_critical(&chunk_type) {
            return Err(malformed("PNG has an unknown critical chunk"));
        }

        if &chunk_type == b"IEND" {
            if !seen_idat {
                return Err(malformed("PNG has no image data"));
            }
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{self, contains, png_chunk};
    use crate::{ImageKind, sniff, strip_metadata};

    fn strip_png(bytes: &[u8]) -> Result<Vec<u8>, MediaError> {
        strip_metadata(ImageKind::Png, bytes)
    }

    #[test]
    fn fixture_carries_the_metadata_we_strip() {
        let input = fixtures::png();
        for needle in fixtures::PNG_SECRETS {
            assert!(contains(&input, needle), "fixture lacks {needle:?}");
        }
    }

    #[test]
    fn drops_exif_text_and_time_chunks() {
        let output = strip_png(&fixtures::png()).unwrap();
        for needle in fixtures::PNG_SECRETS {
            assert!(!contains(&output, needle), "output still has {needle:?}");
        }
    }

    #[test]
    fn output_is_exactly_the_kept_chunks_with_their_crcs() {
        let output = strip_png(&fixtures::png()).unwrap();
        let mut expected = PNG_SIGNATURE.to_vec();
        for chunk in fixtures::png_kept_chunks() {
            expected.extend_from_slice(&chunk);
        }
        assert_eq!(output, expected);
        // And the CRCs are right (the fixture's are; kept chunks are copies).
        let mut pos = 8;
        while pos < output.len() {
            let len = u32::from_be_bytes(output[pos..pos + 4].try_into().unwrap()) as usize;
            let crc = u32::from_be_bytes(output[pos + 8 + len..pos + 12 + len].try_into().unwrap());
            assert_eq!(crc, fixtures::crc32(&output[pos + 4..pos + 8 + len]));
            pos += 12 + len;
        }
    }

    #[test]
    fn output_still_sniffs_as_png_and_is_stable() {
        let once = strip_png(&fixtures::png()).unwrap();
        assert_eq!(sniff(&once), Some(ImageKind::Png));
        assert_eq!(strip_png(&once).unwrap(), once);
    }

    #[test]
    fn bytes_after_iend_are_dropped() {
        let mut input = fixtures::png();
        let clean = strip_png(&input).unwrap();
        input.extend_from_slice(b"trailing GPS 31.2304N");
        assert_eq!(strip_png(&input).unwrap(), clean);
    }

    #[test]
    fn malformed_structures_are_errors() {
        let sig = PNG_SIGNATURE.to_vec();
        let chunks = fixtures::png_kept_chunks();
        let ihdr = &chunks[0];
        let idat = png_chunk(b"IDAT", b"\x78\x9C\x63\x00\x00\x00\x01\x00\x01");
        let iend = png_chunk(b"IEND", b"");
        let join = |parts: &[&[u8]]| parts.concat();
        let mut too_long = png_chunk(b"IDAT", b"abc");
        too_long[0..4].copy_from_slice(&0x0000_1000u32.to_be_bytes());
        let mut huge = png_chunk(b"IDAT", b"abc");
        huge[0..4].copy_from_slice(&0xFFFF_FFF0u32.to_be_bytes());
        // Each case names the check that must catch it.
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (
                join(&[&sig, ihdr, &too_long, &iend]),
                "PNG chunk runs past the end of the file",
            ),
            (
                join(&[&sig, ihdr, &huge, &iend]),
                "PNG chunk length is out of range",
            ),
            (join(&[&sig, ihdr, &idat]), "PNG ends before its IEND chunk"),
            (join(&[&sig, ihdr, &iend]), "PNG has no image data"),
            (
                join(&[&sig, &idat, ihdr, &iend]),
                "PNG does not start with IHDR",
            ),
            (
                join(&[&sig, ihdr, &png_chunk(b"ZZZZ", b"x"), &idat, &iend]),
                "PNG has an unknown critical chunk",
            ),
            (
                join(&[&sig, ihdr, &png_chunk(b"ID\x00T", b"x"), &iend]),
                "PNG chunk type is not four letters",
            ),
            (sig.clone(), "PNG ends before its IEND chunk"),
            (
                b"\xFF\xD8\xFF\xE0".to_vec(),
                "PNG does not start with its signature",
            ),
        ];
        for (bytes, reason) in cases {
            assert_eq!(strip_png(&bytes), Err(MediaError::Malformed(reason)));
        }
    }

    #[test]
    fn unknown_ancillary_chunks_are_dropped() {
        let chunks = fixtures::png_kept_chunks();
        let mut input = PNG_SIGNATURE.to_vec();
        input.extend_from_slice(&chunks[0]);
        input.extend_from_slice(&png_chunk(b"prVt", b"owner: Zhang San"));
        for chunk in &chunks[1..] {
            input.extend_from_slice(chunk);
        }
        let output = strip_png(&input).unwrap();
        assert!(!contains(&output, b"Zhang San"));
        assert_eq!(output.len(), input.len() - (12 + 16));
    }
}
