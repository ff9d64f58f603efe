//! The api reads store records and domain types, never rows: a row type
//! (`sansuo_store::entity`, any `entity::` path or a `::Model`) or a split
//! list column here means a column's spelling leaked past the store. Checked on the source text, so a new
//! leak fails here rather than in a review.

use std::path::{Path, PathBuf};

/// What may not appear in the api's source.
const FORBIDDEN: [&str; 5] = [
    "sansuo_store::entity",
    "entity::",
    "::Model",
    "split_list",
    ".split(','",
];

/// Known occurrences, by file (relative to `src/`) and pattern. The first
/// two split request headers and parameters, not columns, and stay; no
/// row type is named here any more (issue #12). A row the store hands out
/// without naming it (a field or return type the api only reads through)
/// is caught on the store's side
/// (`module_graph::the_store_hands_out_records_not_rows`).
/// The list may only shrink, and an entry that no longer occurs fails too.
const ALLOWED: &[(&str, &str)] = &[
    // `If-None-Match` is a header list.
    ("handlers/categories/list.rs", ".split(','"),
    // `?status=a,b` is a query parameter.
    ("handlers/tips/staff.rs", ".split(','"),
];

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

/// Whether `pattern` occurs in `text` as a path segment of its own: a
/// pattern starting with a name must not be the tail of a longer name
/// (`identity::` is not `entity::`).
fn mentions(text: &str, pattern: &str) -> bool {
    let starts_with_name = pattern
        .chars()
        .next()
        .is_some_and(|c| c.is_alphanumeric() || c == '_');
    text.match_indices(pattern).any(|(at, _)| {
        !starts_with_name
            || !text[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn a_pattern_is_not_the_tail_of_a_longer_name() {
    assert!(mentions("use sansuo_store::entity::staff;", "entity::"));
    assert!(mentions("fn f(x: entity::staff::Model)", "entity::"));
    assert!(!mentions(
        "use sansuo_store::identity::Subject;",
        "entity::"
    ));
    assert!(mentions("x: offer::Model", "::Model"));
}

#[test]
fn the_api_sees_no_rows_and_splits_no_columns() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut found = Vec::new();
    for file in files {
        let name = file
            .strip_prefix(&src)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        if name == "row_boundary.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable source");
        for pattern in FORBIDDEN {
            if mentions(&text, pattern) {
                found.push((name.clone(), pattern));
            }
        }
    }
    found.sort();
    let mut allowed: Vec<(String, &str)> =
        ALLOWED.iter().map(|(f, p)| ((*f).to_owned(), *p)).collect();
    allowed.sort();
    assert_eq!(
        found, allowed,
        "row types or column splits in the api: read a store record instead \
         (or, once a listed use is gone, drop it from ALLOWED)"
    );
}
