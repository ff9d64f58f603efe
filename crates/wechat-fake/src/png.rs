//! A tiny but valid PNG (21×21 grayscale, the size of a version-1 QR code)
//! carrying the scene in a `tEXt` chunk, so tests can tell codes apart.

/// PNG file signature.
pub const PNG_MAGIC: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

const SIZE: u32 = 21;

/// A PNG whose pixels are a pattern derived from `scene`, with a
/// `tEXt` chunk `scene\0<scene>`.
pub fn png_for(scene: &str) -> Vec<u8> {
    let seed = scene
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    // Raw scanlines: filter byte 0, then one gray byte per pixel.
    let mut raw = Vec::with_capacity(((SIZE + 1) * SIZE) as usize);
    for y in 0..SIZE {
        raw.push(0);
        for x in 0..SIZE {
            let bit = (x.wrapping_mul(7) ^ y.wrapping_mul(13) ^ seed) & 1;
            raw.push(if bit == 1 { 0 } else { 255 });
        }
    }

    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&SIZE.to_be_bytes());
    ihdr.extend_from_slice(&SIZE.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit gray, deflate, filter 0, no interlace

    let mut text = b"scene\0".to_vec();
    text.extend_from_slice(scene.as_bytes());

    let mut png = PNG_MAGIC.to_vec();
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"tEXt", &text);
    chunk(&mut png, b"IDAT", &zlib_stored(&raw));
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// zlib stream with one stored (uncompressed) deflate block; `data` must be
/// under 64 KiB.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let len = u16::try_from(data.len()).expect("small image");
    let mut out = vec![0x78, 0x01, 0x01];
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

/// CRC-32 (IEEE, reflected), as PNG chunks use.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_adler_match_known_values() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn png_chunks_are_well_formed() {
        let png = png_for("c=1");
        assert!(png.starts_with(PNG_MAGIC));
        let mut at = 8;
        let mut kinds = Vec::new();
        while at < png.len() {
            let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
            let kind = &png[at + 4..at + 8];
            let crc = u32::from_be_bytes(png[at + 8 + len..at + 12 + len].try_into().unwrap());
            assert_eq!(crc32(&png[at + 4..at + 8 + len]), crc);
            kinds.push(String::from_utf8(kind.to_vec()).unwrap());
            at += 12 + len;
        }
        assert_eq!(kinds, ["IHDR", "tEXt", "IDAT", "IEND"]);
        assert_ne!(png_for("c=1"), png_for("c=2"));
    }
}
