//! Small hand-built images with real container structure and a phone's
//! worth of metadata, for the tests. They need not decode to pixels; they
//! need the segment and chunk structure the walkers read.

/// True if `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

/// GPSLatitude 31° 13' 43.21" as three big-endian rationals.
pub const LATITUDE_RATIONALS: &[u8] = &[
    0, 0, 0, 31, 0, 0, 0, 1, // 31/1
    0, 0, 0, 13, 0, 0, 0, 1, // 13/1
    0, 0, 0x10, 0xE1, 0, 0, 0, 100, // 4321/100
];

/// A big-endian TIFF block as Exif carries it: IFD0 pointing to a GPS IFD
/// with the latitude reference, the latitude and the processing method
/// ("ASCII\0\0\0GPS"), plus the camera owner's name.
pub fn exif_tiff() -> Vec<u8> {
    let mut tiff = b"MM\x00\x2A\x00\x00\x00\x08".to_vec();
    // IFD0 at 8: one entry, GPSInfo (0x8825, LONG) -> offset 26.
    tiff.extend_from_slice(&[0, 1, 0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0]);
    // GPS IFD at 26: three entries; data follows at 68.
    tiff.extend_from_slice(&[0, 3]);
    tiff.extend_from_slice(&[0, 1, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]); // GPSLatitudeRef
    tiff.extend_from_slice(&[0, 2, 0, 5, 0, 0, 0, 3, 0, 0, 0, 68]); // GPSLatitude
    tiff.extend_from_slice(&[0, 0x1B, 0, 7, 0, 0, 0, 11, 0, 0, 0, 92]); // GPSProcessingMethod
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    tiff.extend_from_slice(LATITUDE_RATIONALS);
    tiff.extend_from_slice(b"ASCII\0\0\0GPS\0");
    tiff.extend_from_slice(b"Zhang San iPhone 15 Pro\0");
    tiff
}

pub const XMP_PACKET: &[u8] = b"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF><rdf:Description \
exif:GPSLatitude=\"31,13.72N\" exif:GPSLongitude=\"121,28.42E\" dc:creator=\"Zhang San\"/>\
</rdf:RDF></x:xmpmeta>";

// ---------------------------------------------------------------- JPEG

/// What must not survive stripping a JPEG.
pub const JPEG_SECRETS: &[&[u8]] = &[
    b"Exif\0\0",
    b"GPS",
    LATITUDE_RATIONALS,
    b"Zhang San",
    b"http://ns.adobe.com/xap/1.0/",
    b"xmpmeta",
    b"Photoshop 3.0",
    b"MPF\0",
    b"Lujiazui",
];

/// A marker segment: FF, marker, big-endian length counting itself, payload.
pub fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0xFF, marker];
    bytes.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

pub const JFIF_THUMBNAIL_PIXELS: &[u8] = &[0xDE, 0xAD, 0xBE, 0xEF, 0x0B, 0xAD];

pub fn jfif_app0(with_thumbnail: bool) -> Vec<u8> {
    // "JFIF\0", version 1.02, units dpi, density 72x72.
    let mut payload = b"JFIF\x00\x01\x02\x01\x00\x48\x00\x48".to_vec();
    if with_thumbnail {
        payload.extend_from_slice(&[2, 1]); // 2x1 RGB thumbnail
        payload.extend_from_slice(JFIF_THUMBNAIL_PIXELS);
    } else {
        payload.extend_from_slice(&[0, 0]);
    }
    segment(0xE0, &payload)
}

pub fn icc_app2() -> Vec<u8> {
    segment(0xE2, b"ICC_PROFILE\x00\x01\x01fake Display P3 profile")
}

pub fn adobe_app14() -> Vec<u8> {
    // "Adobe", version 100, flags0, flags1, transform 1 (YCbCr).
    segment(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x01")
}

pub fn dht() -> Vec<u8> {
    // Table class 0, id 0: one code of length 1 for symbol 0.
    let mut payload = vec![0x00, 1];
    payload.extend_from_slice(&[0; 15]);
    payload.push(0x00);
    segment(0xC4, &payload)
}

/// An SOS header for three components followed by entropy-coded data with
/// a stuffed byte (FF 00) and a restart marker (FF D0).
pub fn sos_with_data() -> Vec<u8> {
    let mut bytes = segment(0xDA, &[3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);
    bytes.extend_from_slice(&[
        0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD0, 0x78, 0x9A, 0xFF, 0x00,
    ]);
    bytes
}

/// DQT, SOF0 (16x16, 3 components), DHT, DRI, SOS + data: the image.
pub fn jpeg_image_segments() -> Vec<u8> {
    let mut dqt = vec![0x00];
    dqt.extend(1..=64u8);
    let mut bytes = segment(0xDB, &dqt);
    bytes.extend_from_slice(&segment(
        0xC0,
        &[8, 0, 16, 0, 16, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1],
    ));
    bytes.extend_from_slice(&dht());
    bytes.extend_from_slice(&segment(0xDD, &[0, 4]));
    bytes.extend_from_slice(&sos_with_data());
    bytes
}

/// A phone-like JPEG: JFIF, Exif with GPS, XMP, ICC, MPF, IPTC, Adobe, a
/// comment, a vendor APP segment, then the image and EOI.
pub fn jpeg() -> Vec<u8> {
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend_from_slice(&exif_tiff());
    let mut xmp = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    xmp.extend_from_slice(XMP_PACKET);

    let mut bytes = vec![0xFF, 0xD8];
    bytes.extend_from_slice(&jfif_app0(false));
    bytes.extend_from_slice(&segment(0xE1, &exif));
    bytes.extend_from_slice(&segment(0xE1, &xmp));
    bytes.extend_from_slice(&icc_app2());
    bytes.extend_from_slice(&segment(0xE2, b"MPF\0MM\x00\x2A second image"));
    bytes.extend_from_slice(&segment(
        0xED,
        b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x10\x1C\x02\x5A\x00\x08Lujiazui",
    ));
    bytes.extend_from_slice(&adobe_app14());
    bytes.extend_from_slice(&segment(0xFE, b"Zhang San's phone"));
    bytes.extend_from_slice(&segment(0xEB, b"HDR gain map GPS"));
    bytes.extend_from_slice(&jpeg_image_segments());
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    bytes
}

// ---------------------------------------------------------------- PNG

/// CRC-32 (IEEE, reflected, as PNG uses), bit by bit: slow and obviously
/// right, written independently of the code under test.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
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

/// A chunk: length, type, data, CRC of type and data.
pub fn png_chunk(chunk_type: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut bytes = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    bytes.extend_from_slice(chunk_type);
    bytes.extend_from_slice(data);
    let crc = crc32(&bytes[4..]);
    bytes.extend_from_slice(&crc.to_be_bytes());
    bytes
}

/// What must not survive stripping a PNG.
pub const PNG_SECRETS: &[&[u8]] = &[
    b"eXIf",
    b"tEXt",
    b"iTXt",
    b"zTXt",
    b"tIME",
    b"GPS",
    LATITUDE_RATIONALS,
    b"Zhang San",
    b"xmpmeta",
];

/// IHDR (1x1 RGB), gAMA, pHYs, IDAT, IEND: what stripping keeps, in order.
pub fn png_kept_chunks() -> Vec<Vec<u8>> {
    vec![
        png_chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]),
        png_chunk(b"gAMA", &[0, 0, 0xB1, 0x8F]),
        png_chunk(b"pHYs", &[0, 0, 0x0B, 0x13, 0, 0, 0x0B, 0x13, 1]),
        png_chunk(b"IDAT", b"\x78\x9C\x63\xF8\xCF\xC0\x00\x00\x03\x01\x01\x00"),
        png_chunk(b"IEND", b""),
    ]
}

pub fn png() -> Vec<u8> {
    let kept = png_kept_chunks();
    let mut itxt = b"XML:com.adobe.xmp\0\0\0\0\0".to_vec();
    itxt.extend_from_slice(XMP_PACKET);
    let mut bytes = crate::sniff::PNG_SIGNATURE.to_vec();
    bytes.extend_from_slice(&kept[0]); // IHDR
    bytes.extend_from_slice(&kept[1]); // gAMA
    bytes.extend_from_slice(&png_chunk(b"eXIf", &exif_tiff()));
    bytes.extend_from_slice(&png_chunk(
        b"tEXt",
        b"Comment\0taken at 31.2304N 121.4737E by Zhang San",
    ));
    bytes.extend_from_slice(&png_chunk(b"iTXt", &itxt));
    bytes.extend_from_slice(&png_chunk(b"zTXt", b"Author\0\0\x78\x9C compressed"));
    bytes.extend_from_slice(&png_chunk(b"tIME", &[0x07, 0xE9, 3, 14, 12, 0, 0]));
    bytes.extend_from_slice(&kept[2]); // pHYs
    bytes.extend_from_slice(&kept[3]); // IDAT
    bytes.extend_from_slice(&kept[4]); // IEND
    bytes
}

// ---------------------------------------------------------------- WebP

/// A RIFF chunk with its zero padding byte when the payload is odd.
pub fn riff_chunk(fourcc: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut bytes = fourcc.to_vec();
    bytes.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_le_bytes());
    bytes.extend_from_slice(payload);
    if payload.len() % 2 == 1 {
        bytes.push(0);
    }
    bytes
}

/// RIFF header with the right size around `chunks`.
pub fn webp_file(chunks: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = chunks.concat();
    let mut bytes = b"RIFF".to_vec();
    bytes.extend_from_slice(&u32::try_from(body.len() + 4).unwrap().to_le_bytes());
    bytes.extend_from_slice(b"WEBP");
    bytes.extend_from_slice(&body);
    bytes
}

/// ICC (0x20), Exif (0x08), XMP (0x04).
pub const WEBP_VP8X_FLAGS: u8 = 0x2C;
pub const WEBP_ICC: &[u8] = b"fake sRGB profile!";
/// A VP8 key-frame header (frame tag, start code, 1x1): odd-sized on
/// purpose, to exercise padding.
pub const WEBP_VP8_BITSTREAM: &[u8] = &[
    0x30, 0x01, 0x00, 0x9D, 0x01, 0x2A, 0x01, 0x00, 0x01, 0x00, 0x02,
];

pub fn webp_vp8x_payload() -> Vec<u8> {
    vec![WEBP_VP8X_FLAGS, 0, 0, 0, 0, 0, 0, 0, 0, 0]
}

/// What must not survive stripping a WebP.
pub const WEBP_SECRETS: &[&[u8]] = &[
    b"EXIF",
    b"XMP ",
    b"GPS",
    LATITUDE_RATIONALS,
    b"Zhang San",
    b"xmpmeta",
];

pub fn webp() -> Vec<u8> {
    webp_file(&[
        riff_chunk(b"VP8X", &webp_vp8x_payload()),
        riff_chunk(b"ICCP", WEBP_ICC),
        riff_chunk(b"VP8 ", WEBP_VP8_BITSTREAM),
        riff_chunk(b"EXIF", &exif_tiff()),
        riff_chunk(b"XMP ", XMP_PACKET),
        riff_chunk(b"ZZZZ", b"vendor blob: Zhang San"),
    ])
}
