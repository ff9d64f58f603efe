//! JPEG: walk the marker segments, keep what decoding and colour need.
//!
//! A JPEG is SOI, then marker segments (`FF xx` + a 16-bit big-endian length
//! that counts itself + payload), then one or more scans (an SOS segment
//! followed by entropy-coded data, in which a literal `FF` is written `FF 00`
//! and restart markers `FF D0`..`FF D7` may appear), then EOI. Any marker may
//! be preceded by extra `FF` fill bytes.
//!
//! What we keep and why (everything else is dropped, including markers we
//! do not know):
//!
//! - APP0 `JFIF`: pixel density and the colour-space convention some
//!   decoders rely on. Its optional thumbnail is removed (a thumbnail can
//!   still show what a crop removed); JFXX and other APP0 uses are dropped.
//! - APP2 `ICC_PROFILE`: the colour profile; without it a wide-gamut phone
//!   photo shows with wrong colours. Profiles describe devices or standard
//!   spaces (e.g. "Display P3"), not people or places.
//! - APP14 `Adobe`: its transform flag says whether the components are
//!   RGB/CMYK or YCbCr/YCCK; without it such files decode with wrong colours.
//! - Tables and frame headers (DQT, DHT, DAC, DRI, SOF0..SOF15, DNL, DHP,
//!   EXP) and the scans: the image itself, copied byte for byte.
//!
//! Dropped: APP1 (Exif, with GPS, device, owner and the orientation tag;
//! XMP), APP13 (IPTC/Photoshop: captions, bylines, locations), APP2 other
//! than ICC (MPF carries further embedded images), the other APPn, COM
//! comments, and any bytes after EOI (phones append trailers there: motion
//! photo videos, vendor blobs with their own metadata).

use crate::MediaError;

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const TEM: u8 = 0x01;
const APP0: u8 = 0xE0;
const APP2: u8 = 0xE2;
const APP14: u8 = 0xEE;

/// The JFIF header without a thumbnail: identifier, version, units and
/// densities (12 bytes) and a 0x0 thumbnail (2 bytes).
const JFIF_HEADER_LEN: usize = 14;

enum Disposition {
    Keep,
    /// APP0 JFIF, re-written without its thumbnail.
    KeepJfifHeader,
    Drop,
}

fn disposition(marker: u8, payload: &[u8]) -> Disposition {
    match marker {
        APP0 if payload.starts_with(b"JFIF\0") && payload.len() >= JFIF_HEADER_LEN => {
            Disposition::KeepJfifHeader
        }
        APP2 if payload.starts_with(b"ICC_PROFILE\0") => Disposition::Keep,
        APP14 if payload.starts_with(b"Adobe") => Disposition::Keep,
        // DQT, DHT, DAC, DRI, DNL, DHP, EXP.
        0xDB | 0xC4 | 0xCC | 0xDD | 0xDC | 0xDE | 0xDF => Disposition::Keep,
        // SOF0..SOF15; C4, C8 and CC in that range are DHT, JPG and DAC.
        0xC0..=0xCF if marker != 0xC8 => Disposition::Keep,
        SOS => Disposition::Keep,
        _ => Disposition::Drop,
    }
}

fn malformed(why: &'static str) -> MediaError {
    MediaError::Malformed(why)
}

/// Reads `FF` [fill `FF`s] `xx` at `pos` and returns `xx`.
fn read_marker(data: &[u8], pos: &mut usize) -> Result<u8, MediaError> {
    match data.get(*pos) {
        None => return Err(malformed("JPEG ends before its EOI marker")),
        Some(0xFF) => {}
        Some(_) => return Err(malformed("JPEG has data where a marker belongs")),
    }
    while data.get(*pos) == Some(&0xFF) {
        *pos += 1;
    }
    let marker = *data
        .get(*pos)
        .ok_or(malformed("JPEG ends before its EOI marker"))?;
    *pos += 1;
    Ok(marker)
}

/// The end of the entropy-coded data that starts at `start`: the position of
/// the first `FF` that begins a real marker (not a stuffed `FF 00`, not a
/// restart marker, which belong to the scan).
fn entropy_data_end(data: &[u8], start: usize) -> Result<usize, MediaError> {
    let mut pos = start;
    loop {
        let ff = data[pos..]
            .iter()
            .position(|&b| b == 0xFF)
            .map(|offset| pos + offset)
            .ok_or(malformed("JPEG image data ends without an EOI marker"))?;
        let mut next = ff + 1;
        while data.get(next) == Some(&0xFF) {
            next += 1;
        }
        match data.get(next) {
            None => return Err(malformed("JPEG image data ends without an EOI marker")),
            Some(0x00 | 0xD0..=0xD7) => pos = next + 1,
            Some(_) => return Ok(ff),
        }
    }
}

pub(crate) fn strip(data: &[u8]) -> Result<Vec<u8>, MediaError> {
    if !data.starts_with(&[0xFF, SOI]) {
        return Err(malformed("JPEG does not start with SOI"));
    }
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(&[0xFF, SOI]);
    let mut pos = 2;
    let mut seen_scan = false;
    loop {
        let marker = read_marker(data, &mut pos)?;
        match marker {
            EOI if seen_scan => {
                out.extend_from_slice(&[0xFF, EOI]);
                return Ok(out);
            }
            EOI => return Err(malformed("JPEG has no image data")),
            SOI => return Err(malformed("JPEG has a second SOI marker")),
            0x00 => return Err(malformed("JPEG has a stuffed byte outside image data")),
            // Standalone markers without a length.
            TEM | 0xD0..=0xD7 => out.extend_from_slice(&[0xFF, marker]),
            _ => {
                let length_bytes = data
                    .get(pos..pos + 2)
                    .ok_or(malformed("JPEG segment length is cut off"))?;
                let length = usize::from(u16::from_be_bytes([length_bytes[0], length_bytes[1]]));
                if length < 2 {
                    return Err(malformed("JPEG segment length is too small"));
                }
                let segment = data
                    .get(pos..pos + length)
                    .ok_or(malformed("JPEG segment runs past the end of the file"))?;
                pos += length;
                let payload = &segment[2..];
                match disposition(marker, payload) {
                    Disposition::Keep => {
                        out.extend_from_slice(&[0xFF, marker]);
                        out.extend_from_slice(segment);
                    }
                    Disposition::KeepJfifHeader => {
                        out.extend_from_slice(&[0xFF, APP0]);
                        out.extend_from_slice(&(JFIF_HEADER_LEN as u16 + 2).to_be_bytes());
                        out.extend_from_slice(&payload[..JFIF_HEADER_LEN - 2]);
                        out.extend_from_slice(&[0, 0]);
                    }
                    Disposition::Drop => {}
                }
                if marker == SOS {
                    seen_scan = true;
                    let end = entropy_data_end(data, pos)?;
                    out.extend_from_slice(&data[pos..end]);
                    pos = end;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{self, contains};
    use crate::{ImageKind, sniff, strip_metadata};

    fn strip_jpeg(bytes: &[u8]) -> Result<Vec<u8>, MediaError> {
        strip_metadata(ImageKind::Jpeg, bytes)
    }

    #[test]
    fn fixture_carries_the_metadata_we_strip() {
        // Guards the other tests: they would pass vacuously otherwise.
        let input = fixtures::jpeg();
        for needle in fixtures::JPEG_SECRETS {
            assert!(contains(&input, needle), "fixture lacks {needle:?}");
        }
    }

    #[test]
    fn drops_exif_xmp_iptc_comments_and_foreign_app_segments() {
        let output = strip_jpeg(&fixtures::jpeg()).unwrap();
        for needle in fixtures::JPEG_SECRETS {
            assert!(!contains(&output, needle), "output still has {needle:?}");
        }
    }

    #[test]
    fn output_is_exactly_the_kept_segments() {
        let output = strip_jpeg(&fixtures::jpeg()).unwrap();
        let mut expected = vec![0xFF, 0xD8];
        expected.extend_from_slice(&fixtures::jfif_app0(false));
        expected.extend_from_slice(&fixtures::icc_app2());
        expected.extend_from_slice(&fixtures::adobe_app14());
        expected.extend_from_slice(&fixtures::jpeg_image_segments());
        expected.extend_from_slice(&[0xFF, 0xD9]);
        assert_eq!(output, expected);
    }

    #[test]
    fn image_segments_are_byte_identical() {
        let output = strip_jpeg(&fixtures::jpeg()).unwrap();
        let image = fixtures::jpeg_image_segments();
        assert!(contains(&output, &image));
    }

    #[test]
    fn output_still_sniffs_as_jpeg_and_is_stable() {
        let once = strip_jpeg(&fixtures::jpeg()).unwrap();
        assert_eq!(sniff(&once), Some(ImageKind::Jpeg));
        assert_eq!(strip_jpeg(&once).unwrap(), once);
    }

    #[test]
    fn jfif_thumbnail_is_removed() {
        let mut input = vec![0xFF, 0xD8];
        input.extend_from_slice(&fixtures::jfif_app0(true));
        input.extend_from_slice(&fixtures::jpeg_image_segments());
        input.extend_from_slice(&[0xFF, 0xD9]);
        let output = strip_jpeg(&input).unwrap();
        assert!(!contains(&output, fixtures::JFIF_THUMBNAIL_PIXELS));
        assert!(contains(&output, &fixtures::jfif_app0(false)));
    }

    #[test]
    fn fill_bytes_restart_markers_and_stuffed_bytes() {
        // Fill bytes before markers are dropped; restart markers and
        // stuffed bytes inside the scan are image data and stay.
        let image = fixtures::jpeg_image_segments();
        let mut input = vec![0xFF, 0xD8, 0xFF, 0xFF, 0xFF];
        input.extend_from_slice(&image[1..]); // FF FF FF DB ...
        input.extend_from_slice(&[0xFF, 0xFF, 0xD9]);
        let output = strip_jpeg(&input).unwrap();
        let mut expected = vec![0xFF, 0xD8];
        expected.extend_from_slice(&image);
        expected.extend_from_slice(&[0xFF, 0xD9]);
        assert_eq!(output, expected);
        assert!(contains(&image, &[0xFF, 0x00]));
        assert!(contains(&image, &[0xFF, 0xD0]));
    }

    #[test]
    fn progressive_scans_and_tables_between_them_are_kept() {
        let image = fixtures::jpeg_image_segments();
        let mut input = vec![0xFF, 0xD8];
        input.extend_from_slice(&image);
        input.extend_from_slice(&fixtures::segment(0xFE, b"between scans"));
        input.extend_from_slice(&fixtures::dht());
        input.extend_from_slice(&fixtures::sos_with_data());
        input.extend_from_slice(&[0xFF, 0xD9]);
        let output = strip_jpeg(&input).unwrap();
        let mut expected = vec![0xFF, 0xD8];
        expected.extend_from_slice(&image);
        expected.extend_from_slice(&fixtures::dht());
        expected.extend_from_slice(&fixtures::sos_with_data());
        expected.extend_from_slice(&[0xFF, 0xD9]);
        assert_eq!(output, expected);
    }

    #[test]
    fn bytes_after_eoi_are_dropped() {
        let mut input = fixtures::jpeg();
        let clean = strip_jpeg(&input).unwrap();
        input.extend_from_slice(b"MotionPhoto_Data\x00GPS 31.2304N 121.4737E");
        assert_eq!(strip_jpeg(&input).unwrap(), clean);
    }

    #[test]
    fn malformed_structures_are_errors() {
        let image = fixtures::jpeg_image_segments();
        let with = |middle: &[u8], tail: &[u8]| {
            let mut bytes = vec![0xFF, 0xD8];
            bytes.extend_from_slice(middle);
            bytes.extend_from_slice(tail);
            bytes
        };
        // Each case names the check that must catch it.
        let cases: Vec<(Vec<u8>, &str)> = vec![
            // APP1 claiming 0x4000 bytes in a file of a few hundred.
            (
                with(&[0xFF, 0xE1, 0x40, 0x00, b'E', b'x'], &image),
                "JPEG segment runs past the end of the file",
            ),
            (
                with(&[0xFF, 0xE1, 0x00, 0x01], &image),
                "JPEG segment length is too small",
            ),
            (
                vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00],
                "JPEG segment length is cut off",
            ),
            (
                with(&[0x12, 0x34], &image),
                "JPEG has data where a marker belongs",
            ),
            (vec![0xFF, 0xD8, 0xFF, 0xD9], "JPEG has no image data"),
            (
                with(&image, &[]),
                "JPEG image data ends without an EOI marker",
            ),
            (vec![0xFF, 0xD8, 0xFF], "JPEG ends before its EOI marker"),
            (with(&[0xFF, 0xD8], &image), "JPEG has a second SOI marker"),
            (
                with(&[0xFF, 0x00], &image),
                "JPEG has a stuffed byte outside image data",
            ),
            (
                b"\x89PNG\r\n\x1A\n".to_vec(),
                "JPEG does not start with SOI",
            ),
        ];
        for (bytes, reason) in cases {
            assert_eq!(strip_jpeg(&bytes), Err(MediaError::Malformed(reason)));
        }
    }
}
