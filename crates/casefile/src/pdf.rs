//! The case file as a PDF, rendered here with the CJK font checked in
//! under `assets/fonts` (WenQuanYi Micro Hei, Apache-2.0; its licence and
//! provenance beside it) and compiled into the binary: no internet, no
//! external program, no font on the host needed. One face covers Latin,
//! digits and Chinese (Droid Sans Fallback has no digits at all).
//!
//! Why krilla: it is maintained (it is the PDF backend of Typst), pure
//! Rust, writes fonts as CID fonts with a ToUnicode map (the text can be
//! searched and copied) and *subsets* them, so a file carries only the
//! glyphs it uses (20–30 KiB for a typical file, not the font's 5 MiB). printpdf's text
//! layout pulls a whole HTML layout engine; genpdf sits on an old printpdf
//! and embeds whole fonts. With its default features off (no raster
//! images) krilla adds about 27 small crates.
//!
//! Layout is deliberately simple: A4 portrait, a cover, then each section
//! as label/value lines wrapped by an estimate of the glyph widths (CJK
//! full width, ASCII half), new pages as needed, a page number in the
//! footer.

use crate::{CaseFile, cover_rows};
use krilla::Document;
use krilla::geom::Point;
use krilla::page::PageSettings;
use krilla::text::{Font, TextDirection};

/// A collection of two faces; face 0 is the proportional one.
static FONT: &[u8] = include_bytes!("../../../assets/fonts/wqy-microhei.ttc");

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 56.0;
const BODY: f32 = 10.5;
const LABEL_W: f32 = 110.0;

/// Why a PDF could not be written (the font failed to load, or the writer
/// refused the document).
#[derive(Debug)]
pub struct PdfError(pub String);

impl std::fmt::Display for PdfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pdf: {}", self.0)
    }
}

impl std::error::Error for PdfError {}

/// A line of output: text at an x offset, in a size.
struct Line {
    x: f32,
    size: f32,
    text: String,
    /// Extra space before the line.
    gap: f32,
    /// Start a new page before it.
    page_break: bool,
}

/// Estimated advance of a character, in ems.
fn width(c: char) -> f32 {
    if c.is_ascii() { 0.55 } else { 1.0 }
}

/// Split text into lines no wider than `max` points at `size`.
fn wrap(text: &str, size: f32, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut w = 0.0;
        for c in paragraph.chars() {
            let cw = width(c) * size;
            if w + cw > max && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                w = 0.0;
            }
            line.push(c);
            w += cw;
        }
        lines.push(line);
    }
    lines
}

fn layout(file: &CaseFile) -> Vec<Line> {
    let text_w = PAGE_W - 2.0 * MARGIN;
    let mut lines = Vec::new();
    let mut push = |x: f32, size: f32, text: String, gap: f32, page_break: bool| {
        lines.push(Line {
            x,
            size,
            text,
            gap,
            page_break,
        })
    };
    // Cover.
    push(0.0, 22.0, file.title.clone(), 120.0, false);
    push(0.0, 13.0, file.number.clone(), 16.0, false);
    let mut first = true;
    let pairs = |lines_out: &mut dyn FnMut(f32, f32, String, f32, bool),
                 label: &str,
                 value: &str,
                 gap: f32| {
        // Label and value each wrap in their own column; a row is as tall
        // as the taller of the two.
        let labels = wrap(label, BODY, LABEL_W - 8.0);
        let values = wrap(value, BODY, text_w - LABEL_W);
        for i in 0..labels.len().max(values.len()) {
            let label = labels.get(i).cloned().unwrap_or_default();
            let value = values.get(i).cloned().unwrap_or_default();
            lines_out(0.0, BODY, label, if i == 0 { gap } else { 3.0 }, false);
            lines_out(LABEL_W, BODY, value, -1.0, false);
        }
    };
    for (label, value) in cover_rows(file) {
        pairs(&mut push, label, &value, if first { 40.0 } else { 8.0 });
        first = false;
    }
    push(0.0, 15.0, "当事人".into(), 0.0, true);
    if file.parties.is_empty() {
        pairs(&mut push, "当事人", "—", 10.0);
    }
    for p in &file.parties {
        let value = match &p.contact {
            Some(c) => format!("{} {}", p.name, c),
            None => p.name.clone(),
        };
        pairs(&mut push, &p.role_name, &value, 8.0);
    }
    for section in &file.sections {
        push(0.0, 15.0, section.title.clone(), 20.0, false);
        for r in &section.rows {
            pairs(&mut push, &r.label, &r.value, 8.0);
        }
    }
    push(0.0, 15.0, "流转记录".into(), 20.0, false);
    for e in &file.events {
        let mut value = format!("{}（{}，{}）", e.label, e.to_status_name, e.actor);
        if let Some(note) = &e.note {
            value.push('：');
            value.push_str(note);
        }
        pairs(&mut push, &e.at, &value, 8.0);
    }
    push(
        0.0,
        9.0,
        format!("导出时间 {}", file.exported_at),
        24.0,
        false,
    );
    lines
}

/// Render the file; the bytes start with `%PDF`.
pub fn render(file: &CaseFile) -> Result<Vec<u8>, PdfError> {
    let font = Font::new(FONT.into(), 0).ok_or_else(|| PdfError("font".into()))?;
    let mut document = Document::new();
    let settings = || PageSettings::from_wh(PAGE_W, PAGE_H).expect("A4 is a valid size");
    let lines = layout(file);
    let mut pages: Vec<Vec<(Point, f32, String)>> = vec![Vec::new()];
    let mut y = MARGIN;
    for line in lines {
        // A negative gap: the same baseline as the line before (a value
        // beside its label).
        let advance = if line.gap < 0.0 {
            0.0
        } else {
            line.gap + line.size * 1.3
        };
        // A heading keeps at least two lines below it on its page.
        let keep = if line.size >= 15.0 {
            2.0 * BODY * 1.6
        } else {
            0.0
        };
        if line.page_break || (line.gap >= 0.0 && y + advance + keep > PAGE_H - MARGIN) {
            pages.push(Vec::new());
            y = MARGIN + line.size * 1.3;
        } else {
            y += advance;
        }
        let x = if line.size >= 13.0 && line.x == 0.0 && line.gap >= 16.0 && pages.len() == 1 {
            // Cover titles are centred.
            let w: f32 = line.text.chars().map(width).sum::<f32>() * line.size;
            ((PAGE_W - w) / 2.0).max(MARGIN)
        } else {
            MARGIN + line.x
        };
        if let Some(page) = pages.last_mut() {
            page.push((Point::from_xy(x, y), line.size, line.text));
        }
    }
    let count = pages.len();
    for (i, items) in pages.into_iter().enumerate() {
        let mut page = document.start_page_with(settings());
        let mut surface = page.surface();
        for (at, size, text) in items {
            if !text.is_empty() {
                surface.draw_text(at, font.clone(), size, &text, false, TextDirection::Auto);
            }
        }
        let footer = format!("{} 第{}页 共{}页", file.number, i + 1, count);
        surface.draw_text(
            Point::from_xy(MARGIN, PAGE_H - MARGIN / 2.0),
            font.clone(),
            8.0,
            &footer,
            false,
            TextDirection::Auto,
        );
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| PdfError(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn long_text_wraps_within_the_column() {
        let lines = wrap(&"调".repeat(50), 10.0, 100.0);
        assert_eq!(lines.len(), 5);
        assert!(lines.iter().all(|l| l.chars().count() == 10));
    }
}
