//! WebP: walk the RIFF chunks, keep the image and its colour profile.
//!
//! A WebP is `RIFF`, a 32-bit little-endian size of what follows, `WEBP`,
//! then chunks: a four-character code, a 32-bit little-endian payload size,
//! the payload, and one zero padding byte when the size is odd.
//!
//! Kept (an allow-list):
//!
//! - `VP8 `, `VP8L`: the lossy or lossless bitstream, the image itself;
//! - `ALPH`: the alpha channel;
//! - `VP8X`: the extended header (canvas size, feature flags), with its
//!   Exif (0x08) and XMP (0x04) flags cleared since those chunks are gone;
//! - `ICCP`: the colour profile, as for JPEG and PNG;
//! - `ANIM`, `ANMF`: animation parameters and frames; the chunks inside a
//!   frame are filtered by the same rules.
//!
//! Dropped: `EXIF` (GPS, device, orientation), `XMP `, unknown chunks, and
//! bytes after the RIFF size. The RIFF size and frame sizes are recomputed;
//! padding bytes are written as zero, as the format requires.

use crate::MediaError;

const VP8X_FLAG_EXIF: u8 = 0x08;
const VP8X_FLAG_XMP: u8 = 0x04;
/// Canvas flags (1 byte), reserved (3), canvas width - 1 (3), height - 1 (3).
const VP8X_PAYLOAD_LEN: usize = 10;
/// Frame x, y, width - 1, height - 1 (3 bytes each), duration (3), flags (1).
const ANMF_HEADER_LEN: usize = 16;

fn malformed(why: &'static str) -> MediaError {
    MediaError::Malformed(why)
}

/// Where a chunk list sits: the file's top level or inside an ANMF frame,
/// which may hold only image data (and unknown chunks, which we drop).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    File,
    Frame,
}

fn write_chunk(out: &mut Vec<u8>, fourcc: &[u8], payload: &[u8]) -> Result<(), MediaError> {
    let size = u32::try_from(payload.len()).map_err(|_| malformed("WebP chunk is too large"))?;
    out.extend_from_slice(fourcc);
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(payload);
    if payload.len() % 2 == 1 {
        out.push(0);
    }
    Ok(())
}

/// Copies the allowed chunks of `chunks` to `out`; true if image data (a
/// bitstream or an animation frame) was among them.
fn filter_chunks(mut chunks: &[u8], level: Level, out: &mut Vec<u8>) -> Result<bool, MediaError> {
    let mut seen_image = false;
    while !chunks.is_empty() {
        let header = chunks
            .get(..8)
            .ok_or(malformed("WebP chunk header is cut off"))?;
        let fourcc = &header[..4];
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        // Odd payloads are followed by one padding byte. (Checked sums: a
        // size near 4 GiB must be an error on 32-bit targets too.)
        let payload_end = size
            .checked_add(8)
            .ok_or(malformed("WebP chunk size is out of range"))?;
        let payload = chunks
            .get(8..payload_end)
            .ok_or(malformed("WebP chunk runs past the end of the file"))?;
        chunks = chunks.get(payload_end + (size & 1)..).ok_or(malformed(
            "WebP chunk padding runs past the end of the file",
        ))?;

        match (fourcc, level) {
            (b"VP8 " | b"VP8L", _) => {
                seen_image = true;
                write_chunk(out, fourcc, payload)?;
            }
            (b"ALPH", _) | (b"ICCP" | b"ANIM", Level::File) => {
                write_chunk(out, fourcc, payload)?;
            }
            (b"VP8X", Level::File) => {
                if payload.len() < VP8X_PAYLOAD_LEN {
                    return Err(malformed("WebP VP8X header is too short"));
                }
                let mut header = payload.to_vec();
                header[0] &= !(VP8X_FLAG_EXIF | VP8X_FLAG_XMP);
                write_chunk(out, fourcc, &header)?;
            }
            (b"ANMF", Level::File) => {
                let frame_header = payload
                    .get(..ANMF_HEADER_LEN)
                    .ok_or(malformed("WebP animation frame header is too short"))?;
                let mut frame = frame_header.to_vec();
                if filter_chunks(&payload[ANMF_HEADER_LEN..], Level::Frame, &mut frame)? {
                    seen_image = true;
                }
                write_chunk(out, fourcc, &frame)?;
            }
            // EXIF, "XMP ", and anything we do not know.
            _ => {}
        }
    }
    Ok(seen_image)
}

pub(crate) fn strip(data: &[u8]) -> Result<Vec<u8>, MediaError> {
    if data.len() < 12 || &data[0..4] != b"RIFF" || &data[8..12] != b"WEBP" {
        return Err(malformed("WebP does not start with a RIFF WEBP header"));
    }
    let riff_size = u32::from_le_bytes([data[4], data[5], data[6], data[7]]) as usize;
    // The RIFF size counts "WEBP" and the chunks; anything after it is not
    // part of the image and is dropped.
    let chunks = riff_size
        .checked_sub(4)
        .and_then(|chunks_len| data.get(12..chunks_len.checked_add(12)?))
        .ok_or(malformed("WebP RIFF size does not match the file"))?;

    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(b"RIFF\0\0\0\0WEBP");
    if !filter_chunks(chunks, Level::File, &mut out)? {
        return Err(malformed("WebP has no image data"));
    }
    let new_riff_size =
        u32::try_from(out.len() - 8).map_err(|_| malformed("WebP file is too large"))?;
    out[4..8].copy_from_slice(&new_riff_size.to_le_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{self, contains, riff_chunk, webp_file};
    use crate::{ImageKind, sniff, strip_metadata};

    fn strip_webp(bytes: &[u8]) -> Result<Vec<u8>, MediaError> {
        strip_metadata(ImageKind::Webp, bytes)
    }

    #[test]
    fn fixture_carries_the_metadata_we_strip() {
        let input = fixtures::webp();
        for needle in fixtures::WEBP_SECRETS {
            assert!(contains(&input, needle), "fixture lacks {needle:?}");
        }
        assert_ne!(input[20] & (VP8X_FLAG_EXIF | VP8X_FLAG_XMP), 0);
    }

    #[test]
    fn drops_exif_xmp_and_unknown_chunks() {
        let output = strip_webp(&fixtures::webp()).unwrap();
        for needle in fixtures::WEBP_SECRETS {
            assert!(!contains(&output, needle), "output still has {needle:?}");
        }
    }

    #[test]
    fn clears_the_vp8x_metadata_flags_and_keeps_the_others() {
        let output = strip_webp(&fixtures::webp()).unwrap();
        assert_eq!(&output[12..16], b"VP8X");
        // ICC (0x20) stays, Exif and XMP go.
        assert_eq!(output[20], fixtures::WEBP_VP8X_FLAGS & !0x0C);
        assert_eq!(output[20] & 0x20, 0x20);
    }

    #[test]
    fn output_is_exactly_the_kept_chunks_with_a_recomputed_size() {
        let output = strip_webp(&fixtures::webp()).unwrap();
        let mut vp8x = fixtures::webp_vp8x_payload();
        vp8x[0] &= !0x0C;
        let expected = webp_file(&[
            riff_chunk(b"VP8X", &vp8x),
            riff_chunk(b"ICCP", fixtures::WEBP_ICC),
            riff_chunk(b"VP8 ", fixtures::WEBP_VP8_BITSTREAM),
        ]);
        assert_eq!(output, expected);
        let riff_size = u32::from_le_bytes(output[4..8].try_into().unwrap()) as usize;
        assert_eq!(riff_size, output.len() - 8);
    }

    #[test]
    fn odd_sized_bitstream_is_byte_identical_and_padded() {
        assert_eq!(fixtures::WEBP_VP8_BITSTREAM.len() % 2, 1);
        let output = strip_webp(&fixtures::webp()).unwrap();
        let mut padded = fixtures::WEBP_VP8_BITSTREAM.to_vec();
        padded.push(0);
        assert!(contains(&output, &padded));
    }

    #[test]
    fn output_still_sniffs_as_webp_and_is_stable() {
        let once = strip_webp(&fixtures::webp()).unwrap();
        assert_eq!(sniff(&once), Some(ImageKind::Webp));
        assert_eq!(strip_webp(&once).unwrap(), once);
    }

    #[test]
    fn animation_frames_are_filtered_too() {
        let mut frame = vec![0u8; ANMF_HEADER_LEN];
        frame.extend_from_slice(&riff_chunk(b"VP8L", b"\x2F\x00\x00\x00\x00"));
        frame.extend_from_slice(&riff_chunk(b"XYZW", b"GPS 31.2304N"));
        let mut vp8x = fixtures::webp_vp8x_payload();
        vp8x[0] = 0x02 | VP8X_FLAG_EXIF; // animation + Exif
        let input = webp_file(&[
            riff_chunk(b"VP8X", &vp8x),
            riff_chunk(b"ANIM", &[0; 6]),
            riff_chunk(b"ANMF", &frame),
            riff_chunk(b"EXIF", b"MM\x00\x2AGPS"),
        ]);
        let output = strip_webp(&input).unwrap();
        assert!(!contains(&output, b"GPS"));
        let mut clean_frame = vec![0u8; ANMF_HEADER_LEN];
        clean_frame.extend_from_slice(&riff_chunk(b"VP8L", b"\x2F\x00\x00\x00\x00"));
        vp8x[0] = 0x02;
        let expected = webp_file(&[
            riff_chunk(b"VP8X", &vp8x),
            riff_chunk(b"ANIM", &[0; 6]),
            riff_chunk(b"ANMF", &clean_frame),
        ]);
        assert_eq!(output, expected);
    }

    #[test]
    fn bytes_after_the_riff_size_are_dropped() {
        let mut input = fixtures::webp();
        let clean = strip_webp(&input).unwrap();
        input.extend_from_slice(b"GPS 31.2304N");
        assert_eq!(strip_webp(&input).unwrap(), clean);
    }

    #[test]
    fn malformed_structures_are_errors() {
        let bitstream = riff_chunk(b"VP8 ", fixtures::WEBP_VP8_BITSTREAM);
        let mut riff_too_big = webp_file(std::slice::from_ref(&bitstream));
        riff_too_big[4..8].copy_from_slice(&0x0010_0000u32.to_le_bytes());
        let mut riff_too_small = webp_file(std::slice::from_ref(&bitstream));
        riff_too_small[4..8].copy_from_slice(&2u32.to_le_bytes());
        let mut chunk_too_big = bitstream.clone();
        chunk_too_big[4..8].copy_from_slice(&0x0000_4000u32.to_le_bytes());
        let mut unpadded = bitstream.clone();
        unpadded.pop();
        // Each case names the check that must catch it.
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (riff_too_big, "WebP RIFF size does not match the file"),
            (riff_too_small, "WebP RIFF size does not match the file"),
            (
                webp_file(&[chunk_too_big]),
                "WebP chunk runs past the end of the file",
            ),
            (
                webp_file(&[unpadded]),
                "WebP chunk padding runs past the end of the file",
            ),
            (
                webp_file(&[b"VP8 \x03".to_vec()]),
                "WebP chunk header is cut off",
            ),
            (
                webp_file(&[riff_chunk(b"VP8X", &[0; 4]), bitstream.clone()]),
                "WebP VP8X header is too short",
            ),
            (
                webp_file(&[riff_chunk(b"ANMF", &[0; 8])]),
                "WebP animation frame header is too short",
            ),
            (
                webp_file(&[riff_chunk(b"ICCP", b"icc")]),
                "WebP has no image data",
            ),
            (
                b"RIFF\x04\x00\x00\x00WEBP".to_vec(),
                "WebP has no image data",
            ),
            (
                b"RIFF\x04\x00\x00\x00WAVE".to_vec(),
                "WebP does not start with a RIFF WEBP header",
            ),
        ];
        for (bytes, reason) in cases {
            assert_eq!(strip_webp(&bytes), Err(MediaError::Malformed(reason)));
        }
    }
}
