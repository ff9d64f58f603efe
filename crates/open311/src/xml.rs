//! A minimal XML writer: elements and text only, which is all GeoReport v2
//! uses (no attributes, no namespaces, schemaless).

/// The declaration every document starts with. The specification asks for
/// it with `encoding="utf-8"` in its examples.
pub(crate) const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";

/// Writes one document, compact (no indentation): whitespace between
/// elements is harmless to XML parsers but shows up as text nodes to naive
/// DOM-walking clients, so we emit none.
pub(crate) struct XmlWriter {
    out: String,
}

impl XmlWriter {
    pub(crate) fn document() -> Self {
        Self {
            out: String::from(DECLARATION),
        }
    }

    pub(crate) fn open(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
    }

    pub(crate) fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// `<name>text</name>`, escaped.
    pub(crate) fn leaf(&mut self, name: &str, text: &str) {
        self.open(name);
        push_escaped(&mut self.out, text);
        self.close(name);
    }

    /// `<name>text</name>`, or `<name></name>` for `None`.
    pub(crate) fn leaf_opt(&mut self, name: &str, text: Option<&str>) {
        self.leaf(name, text.unwrap_or(""));
    }

    pub(crate) fn finish(mut self) -> String {
        self.out.push('\n');
        self.out
    }
}

/// Whether XML 1.0 allows the character at all (production `Char`): C0
/// controls other than tab, line feed and carriage return, and U+FFFE /
/// U+FFFF, cannot appear even escaped, so they are dropped. (Surrogates are
/// not `char`s in Rust.)
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Escapes the five predefined entities, drops characters XML cannot carry,
/// and writes a carriage return as a character reference so that parsers'
/// end-of-line normalisation does not turn `\r\n` into `\n`.
pub(crate) fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str) -> String {
        let mut out = String::new();
        push_escaped(&mut out, text);
        out
    }

    #[test]
    fn escapes_markup_and_keeps_chinese() {
        assert_eq!(
            escaped(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &apos;y&apos;)&lt;/script&gt;"
        );
        assert_eq!(escaped("井盖缺失，小区东门"), "井盖缺失，小区东门");
        assert_eq!(escaped("emoji 🚨 ok"), "emoji 🚨 ok");
    }

    #[test]
    fn drops_characters_xml_cannot_carry() {
        assert_eq!(escaped("a\u{0}b\u{8}c\u{1B}d\u{FFFE}e\u{FFFF}f"), "abcdef");
        assert_eq!(
            escaped("line\tone\nline two\r\n"),
            "line\tone\nline two&#13;\n"
        );
    }
}
