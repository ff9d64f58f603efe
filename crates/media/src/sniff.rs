//! The type of a photo, from its first bytes.

/// The image types we accept: what phones and WeChat produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageKind {
    Jpeg,
    Png,
    Webp,
}

impl ImageKind {
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }

    /// The extension used in storage keys, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
        }
    }
}

const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];
pub(crate) const PNG_SIGNATURE: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// The type of `bytes` by its magic bytes only; the file name and the
/// client's `Content-Type` are not consulted, since both are whatever the
/// client says. `None` for anything else (GIF, PDF, HTML, SVG, executables)
/// and for files too short to carry the signature.
///
/// This only says what the file claims to be; [`strip_metadata`] then walks
/// its structure and refuses a file that is not what it claims.
///
/// [`strip_metadata`]: crate::strip_metadata
pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
    if bytes.starts_with(JPEG_MAGIC) {
        Some(ImageKind::Jpeg)
    } else if bytes.starts_with(PNG_SIGNATURE) {
        Some(ImageKind::Png)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageKind::Webp)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn recognises_the_three_kinds_by_content() {
        assert_eq!(sniff(&fixtures::jpeg()), Some(ImageKind::Jpeg));
        assert_eq!(sniff(&fixtures::png()), Some(ImageKind::Png));
        assert_eq!(sniff(&fixtures::webp()), Some(ImageKind::Webp));
    }

    #[test]
    fn rejects_everything_else() {
        let cases: &[(&str, &[u8])] = &[
            ("empty", b""),
            ("GIF", b"GIF89a\x01\x00\x01\x00\x80\x00\x00"),
            ("PDF", b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n"),
            ("HTML", b"<!DOCTYPE html><html><body>hi</body></html>"),
            (
                "SVG",
                b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script/></svg>",
            ),
            (
                "EXE renamed .jpg",
                b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00",
            ),
            ("ELF", b"\x7FELF\x02\x01\x01\x00"),
            ("JPEG cut to two bytes", b"\xFF\xD8"),
            ("JPEG SOI without a marker", b"\xFF\xD8\x00\x00"),
            ("PNG signature cut short", b"\x89PNG\r\n\x1A"),
            ("PNG signature with a wrong byte", b"\x89PNG\r\n\x1A\x0B"),
            ("RIFF only", b"RIFF"),
            ("WebP cut before the form type", b"RIFF\x04\x00\x00\x00WEB"),
            ("RIFF WAVE", b"RIFF\x24\x00\x00\x00WAVEfmt "),
            ("RIFF AVI", b"RIFF\x24\x00\x00\x00AVI LIST"),
            ("JPEG magic not at the start", b"\x00\xFF\xD8\xFF\xE0"),
        ];
        for (name, bytes) in cases {
            assert_eq!(sniff(bytes), None, "{name} must not sniff as an image");
        }
    }

    #[test]
    fn mime_and_extension() {
        assert_eq!(ImageKind::Jpeg.mime(), "image/jpeg");
        assert_eq!(ImageKind::Png.mime(), "image/png");
        assert_eq!(ImageKind::Webp.mime(), "image/webp");
        assert_eq!(ImageKind::Jpeg.extension(), "jpg");
        assert_eq!(ImageKind::Png.extension(), "png");
        assert_eq!(ImageKind::Webp.extension(), "webp");
    }
}
