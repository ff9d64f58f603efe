//! No resident write without a rate limit: every handler routed with
//! POST, PUT, PATCH or DELETE that a resident may call takes
//! `ResidentWrite<write::…>` (counted against `domain::limits`), never a
//! bare `ResidentAuth`, and documents its 429. Checked on the source text,
//! so a new handler that forgets fails here.

use std::path::{Path, PathBuf};

/// Resident writes limited otherwise, by route: tip reports count under
/// the tip rules (`tip::submission_limit`), keyed by a pseudonym so that
/// an anonymous tip stays unlinked from its reporter.
const LIMITED_OTHERWISE: &[&str] = &["\"/tips\"", "\"/tips/with-photos\""];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_resident_write_is_rate_limited() {
    let handlers = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/handlers");
    let mut files = Vec::new();
    sources(&handlers, &mut files);
    let mut writes = 0;
    let mut problems = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (at, _) in text.match_indices("\n#[") {
            let attribute = &text[at + 1..];
            let Some(route) = ["#[post(", "#[put(", "#[patch(", "#[delete("]
                .iter()
                .find(|m| attribute.starts_with(**m))
            else {
                continue;
            };
            let path = attribute[route.len()..].split(')').next().unwrap_or("");
            let Some(start) = attribute.find("pub async fn ") else {
                continue;
            };
            let signature = &attribute[start..];
            let signature = &signature[..signature.find(") ->").unwrap_or(signature.len())];
            let name = signature["pub async fn ".len()..]
                .split('(')
                .next()
                .unwrap_or("");
            let documented = text[..at]
                .rfind("#[utoipa::path(")
                .map(|doc| text[doc..at].contains("status = 429"))
                .unwrap_or(false);
            if signature.contains("ResidentWrite<") {
                writes += 1;
                if !documented {
                    problems.push(format!("{name} {path}: 429 not documented"));
                }
            } else if signature.contains("ResidentAuth") && !LIMITED_OTHERWISE.contains(&path) {
                problems.push(format!(
                    "{name} {path}: a resident write with a bare ResidentAuth; take ResidentWrite<write::…>"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        writes >= 15,
        "only {writes} limited writes found: is the scan broken?"
    );
}
