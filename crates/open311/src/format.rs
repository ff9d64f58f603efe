//! The response format, chosen by the extension of the last path segment
//! (`/services.xml`, `/requests/42.json`), as the specification prescribes.

use crate::error::Open311Error;

/// A response format of GeoReport v2. XML is the one the specification
/// requires; JSON is optional and we offer it too (the discovery document
/// says so).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// Both formats, in the order the discovery document lists them.
    pub const ALL: [Format; 2] = [Format::Xml, Format::Json];

    /// Splits `"requests.json"` into `("requests", Format::Json)` and
    /// `"services/DMV.66.xml"`-style segments at the *last* dot, so a
    /// service code or token may itself contain dots.
    ///
    /// The extension is matched without regard to ASCII case. A segment
    /// without an extension, with an empty stem, or with any other extension
    /// names no resource of ours, hence a 404 (render it with
    /// [`Format::Xml`], the format every client must understand).
    pub fn split_extension(segment: &str) -> Result<(&str, Format), Open311Error> {
        let not_found = || {
            Open311Error::not_found(format!(
                "{segment:?} names no resource: expected a name ending in .xml or .json"
            ))
        };
        let (stem, extension) = segment.rsplit_once('.').ok_or_else(not_found)?;
        if stem.is_empty() {
            return Err(not_found());
        }
        let format = if extension.eq_ignore_ascii_case("json") {
            Format::Json
        } else if extension.eq_ignore_ascii_case("xml") {
            Format::Xml
        } else {
            return Err(not_found());
        };
        Ok((stem, format))
    }

    /// The `Content-Type` header value the specification gives for this
    /// format ("Format Support": `text/xml; charset=utf-8`,
    /// `application/json; charset=utf-8`).
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Xml => "text/xml; charset=utf-8",
        }
    }

    /// The bare MIME type, as listed under `<formats><format>` in the
    /// discovery document.
    pub fn mime_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Xml => "text/xml",
        }
    }

    /// The extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Xml => "xml",
        }
    }
}
