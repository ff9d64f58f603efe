//! The case file as a printable HTML page (the browser prints it).

use crate::{CaseFile, cover_rows};

/// Escape text for HTML: every value in the page is user data.
pub fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn row(out: &mut String, label: &str, value: &str) {
    out.push_str(&format!(
        "<tr><th>{}</th><td>{}</td></tr>",
        esc(label),
        esc(value)
    ));
}

pub fn render(file: &CaseFile) -> String {
    let mut out = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{}</title>\
<style>body{{font-family:serif;max-width:48em;margin:2em auto}}table{{border-collapse:collapse;width:100%;margin:1em 0}}\
th,td{{border:1px solid #444;padding:.3em .5em;text-align:left;vertical-align:top}}th{{width:12em}}\
.cover{{page-break-after:always}}h1{{text-align:center}}</style></head><body>",
        esc(&file.title)
    );
    out.push_str(&format!(
        "<section class=\"cover\"><h1>{}</h1><p style=\"text-align:center\">{}</p><table>",
        esc(&file.title),
        esc(&file.number)
    ));
    for (label, value) in cover_rows(file) {
        row(&mut out, label, &value);
    }
    out.push_str("</table></section><h2>当事人</h2><table>");
    if file.parties.is_empty() {
        row(&mut out, "当事人", "—");
    }
    for p in &file.parties {
        let value = match &p.contact {
            Some(c) => format!("{} {}", p.name, c),
            None => p.name.clone(),
        };
        row(&mut out, &p.role_name, &value);
    }
    out.push_str("</table>");
    for section in &file.sections {
        out.push_str(&format!("<h2>{}</h2><table>", esc(&section.title)));
        for r in &section.rows {
            row(&mut out, &r.label, &r.value);
        }
        out.push_str("</table>");
    }
    out.push_str("<h2>流转记录</h2><table>");
    for e in &file.events {
        let mut value = format!("{}（{}，{}）", e.label, e.to_status_name, e.actor);
        if let Some(note) = &e.note {
            value.push('：');
            value.push_str(note);
        }
        row(&mut out, &e.at, &value);
    }
    out.push_str(&format!(
        "</table><p>导出时间 {}</p></body></html>",
        esc(&file.exported_at)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn user_text_cannot_inject_markup() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
