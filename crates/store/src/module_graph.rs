//! The store's modules import each other without a circle, and the case
//! engine's layers point one way: `cases` ← `offers` ← services, routing
//! and staffing; consultations, mediations and tips never import each other
//! (what crosses them lives in `crossings`). Checked on the source text, so
//! a new `use` that closes a circle fails here, not in a code review.

use std::collections::{BTreeMap, BTreeSet};

/// Every module file of the crate (but `entity`, the row types, a leaf)
/// with its text. A module declared in lib.rs and missing here fails
/// [`every_module_is_checked`].
const SOURCES: &[(&str, &str)] = &[
    ("cache", include_str!("cache.rs")),
    ("canned_replies", include_str!("canned_replies.rs")),
    ("case_numbers", include_str!("case_numbers.rs")),
    ("cases", include_str!("cases.rs")),
    ("catalog", include_str!("catalog.rs")),
    ("consultations", include_str!("consultations.rs")),
    ("crossings", include_str!("crossings.rs")),
    ("data_views", include_str!("data_views.rs")),
    ("db", include_str!("db.rs")),
    ("error", include_str!("error.rs")),
    ("identity", include_str!("identity.rs")),
    ("imports", include_str!("imports.rs")),
    ("ladder", include_str!("ladder.rs")),
    ("mediations", include_str!("mediations.rs")),
    ("moderation", include_str!("moderation.rs")),
    ("notifications", include_str!("notifications.rs")),
    ("offers", include_str!("offers.rs")),
    ("open311", include_str!("open311.rs")),
    ("org", include_str!("org.rs")),
    ("outbox", include_str!("outbox.rs")),
    ("photos", include_str!("photos.rs")),
    ("placement", include_str!("placement.rs")),
    ("proposals", include_str!("proposals.rs")),
    ("rotas", include_str!("rotas.rs")),
    ("routing", include_str!("routing.rs")),
    ("records", include_str!("records.rs")),
    ("retention", include_str!("retention.rs")),
    ("rows", include_str!("rows.rs")),
    ("scope", include_str!("scope.rs")),
    ("staff_events", include_str!("staff_events.rs")),
    ("staff_load", include_str!("staff_load.rs")),
    ("staffing", include_str!("staffing.rs")),
    ("stats", include_str!("stats.rs")),
    ("supervision", include_str!("supervision.rs")),
    ("tips", include_str!("tips.rs")),
    ("urges", include_str!("urges.rs")),
];

const SERVICES: [&str; 3] = ["consultations", "mediations", "tips"];

/// Modules declared in lib.rs (`mod x;` / `pub mod x;`).
fn declared_modules() -> BTreeSet<String> {
    include_str!("lib.rs")
        .lines()
        .map(str::trim)
        .filter_map(|line| {
            let rest = line.strip_prefix("pub ").unwrap_or(line);
            rest.strip_prefix("mod ")?
                .strip_suffix(';')
                .map(str::to_owned)
        })
        .collect()
}

/// The first path segment after each `crate::` outside comments, with
/// `crate::{a, b::c}` read as `a` and `b`; `Store` and `StoreError`
/// (re-exported at the root) count as `db` and `error`.
fn imports_of(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let root = |name: String| match name.as_str() {
        "Store" => "db".to_owned(),
        "StoreError" => "error".to_owned(),
        _ => name,
    };
    let code: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level items of the group: split on commas outside braces.
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && !c.is_whitespace() => {
                        found.insert(root(ident(&group[i..])));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            found.insert(root(ident(rest)));
        }
    }
    found
}

fn graph() -> BTreeMap<&'static str, BTreeSet<String>> {
    let modules = declared_modules();
    SOURCES
        .iter()
        .map(|(name, text)| {
            let deps = imports_of(text)
                .into_iter()
                .filter(|m| modules.contains(m) && m != name && m != "entity")
                .collect();
            (*name, deps)
        })
        .collect()
}

/// The module list a reviewer reads: `module -> its crate imports`.
fn describe(graph: &BTreeMap<&'static str, BTreeSet<String>>) -> String {
    graph
        .iter()
        .map(|(m, deps)| {
            format!(
                "{m} -> {}",
                deps.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_module_is_checked() {
    let checked: BTreeSet<String> = SOURCES.iter().map(|(m, _)| (*m).to_owned()).collect();
    let mut declared = declared_modules();
    declared.remove("entity");
    declared.remove("module_graph");
    assert_eq!(checked, declared, "add the new module to SOURCES");
}

#[test]
fn the_parser_reads_groups_and_paths() {
    let text = "use crate::a::{x, y};\nuse crate::{Store, StoreError, b::z};\n// crate::c\nlet q = crate::d::f();";
    let found: Vec<_> = imports_of(text).into_iter().collect();
    assert_eq!(found, ["a", "b", "d", "db", "error"]);
}

#[test]
fn no_module_imports_another_in_a_circle() {
    let graph = graph();
    // Depth-first search; a module met again while on the path is a circle.
    fn visit<'a>(
        m: &'a str,
        graph: &'a BTreeMap<&'static str, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if let Some(at) = path.iter().position(|p| *p == m) {
            panic!(
                "circle: {} -> {m}\n{}",
                path[at..].join(" -> "),
                describe(graph)
            );
        }
        if !done.insert(m) {
            return;
        }
        path.push(m);
        for dep in graph.get(m).into_iter().flatten() {
            visit(dep, graph, path, done);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        visit(m, &graph, &mut Vec::new(), &mut done);
    }
}

#[test]
fn the_engine_layers_point_one_way() {
    let graph = graph();
    let forbidden = |from: &str, to: &[&str]| {
        for dep in &graph[from] {
            assert!(
                !to.contains(&dep.as_str()),
                "{from} must not import {dep}\n{}",
                describe(&graph)
            );
        }
    };
    let mut services_and_up = SERVICES.to_vec();
    services_and_up.extend(["crossings", "routing", "staffing", "moderation"]);
    // The core knows nothing above it; offers know only the core.
    let mut above_cases = services_and_up.clone();
    above_cases.push("offers");
    forbidden("cases", &above_cases);
    forbidden("offers", &services_and_up);
    // Routing and staffing are the engine's, of every service alike.
    forbidden("routing", &services_and_up);
    forbidden("staffing", &services_and_up);
    // Services never import each other, nor what crosses them.
    for service in SERVICES {
        let mut others: Vec<&str> = SERVICES.into_iter().filter(|s| *s != service).collect();
        others.extend(["crossings", "routing", "staffing"]);
        forbidden(service, &others);
    }
}

/// Work appended to the outbox must wake this instance's relay when its
/// transaction commits, or it waits for the poll. `Store::commit_work` does
/// both; a plain `.commit()` is allowed only where no work can be appended:
/// the connection and migration code (`db`), the relay's own batch
/// (`outbox`) and the catalogue sync (`catalog`).
#[test]
fn every_write_that_can_add_work_commits_through_commit_work() {
    const PLAIN_COMMIT_ALLOWED: [&str; 3] = ["db", "outbox", "catalog"];
    for (module, text) in SOURCES {
        if PLAIN_COMMIT_ALLOWED.contains(module) {
            continue;
        }
        let plain = text
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .filter(|line| line.contains(".commit()"))
            .count();
        assert_eq!(
            plain, 0,
            "{module}.rs commits with a plain `.commit()`: use `self.commit_work(txn)`"
        );
    }
}

/// Every transaction starts through `Store::begin_write` (IMMEDIATE on
/// SQLite, so a request that read first never loses its write to the relay
/// committing in between); only `db` opens one directly (migrations).
#[test]
fn every_transaction_begins_through_begin_write() {
    for (module, text) in SOURCES {
        if *module == "db" {
            continue;
        }
        let direct = text
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .filter(|line| line.contains(".begin()"))
            .count();
        assert_eq!(
            direct, 0,
            "{module}.rs opens a transaction with `.begin()`: use `self.begin_write()`"
        );
    }
}

/// `Store` stays narrow: outside `db` (construction, connection, health),
/// an `impl Store` block holds one public method, the accessor of its
/// module's handle (`pub fn offers(&self) -> Offers<'_>`). A service method
/// put back on `Store` fails here.
#[test]
fn store_itself_has_only_connection_health_and_area_accessors() {
    for (module, text) in SOURCES {
        if *module == "db" {
            continue;
        }
        let mut inside = false;
        let mut public = Vec::new();
        for line in text.lines() {
            if line.starts_with("impl Store {") {
                inside = true;
                continue;
            }
            if inside && line.starts_with('}') {
                inside = false;
                continue;
            }
            let trimmed = line.trim_start();
            if inside && trimmed.starts_with("pub") && trimmed.contains("fn ") {
                public.push(trimmed.to_owned());
            }
        }
        assert!(
            public.len() <= 1
                && public.iter().all(|f| f.starts_with("pub fn ")
                    && f.contains("(&self) -> ")
                    && f.contains("<'_>")),
            "{module}: public methods on Store other than the area accessor: {public:?} \
             (put them on the module's handle)"
        );
    }
}

/// Whether a piece of source names a row type.
fn names_a_row(text: &str) -> bool {
    // `entity::` as a path segment of its own, not the tail of `identity::`.
    let entity = text.match_indices("entity::").any(|(at, _)| {
        !text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    });
    entity || text.contains("::Model")
}

/// What the store hands out that names a row type: `pub` fields, `pub`
/// functions' return types and the variants of `pub` enums, as
/// `(module, field, function or enum)`. A text scan of the code above the
/// module's tests; `pub(crate)` items are the store's own business.
fn rows_handed_out(module: &str, text: &str) -> Vec<(String, String)> {
    let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
    let lines: Vec<&str> = code.lines().collect();
    let mut found = Vec::new();
    let mut in_pub_enum: Option<String> = None;
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim();
        if line.starts_with("//") {
            continue;
        }
        if let Some(name) = &in_pub_enum {
            if *raw == "}" {
                in_pub_enum = None;
            } else if names_a_row(line) {
                found.push((module.to_owned(), name.clone()));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("pub enum ") {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !line.ends_with('}') {
                in_pub_enum = Some(name);
            }
            continue;
        }
        let sig = ["pub fn ", "pub async fn ", "pub const fn "]
            .iter()
            .find_map(|p| line.strip_prefix(p));
        if let Some(rest) = sig {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let mut signature = String::new();
            for l in &lines[i..] {
                signature.push_str(l);
                if l.contains('{') || l.trim_end().ends_with(';') {
                    break;
                }
            }
            let signature = signature.split('{').next().unwrap_or_default();
            if signature
                .split_once("->")
                .is_some_and(|(_, ret)| names_a_row(ret))
            {
                found.push((module.to_owned(), name));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("pub ")
            && let Some((name, ty)) = rest.split_once(':')
            && name.chars().all(|c| c.is_alphanumeric() || c == '_')
            && names_a_row(ty)
        {
            found.push((module.to_owned(), name.to_owned()));
        }
    }
    found
}

/// The store hands out records, never rows (issue #12): a row type in a
/// `pub` field, a `pub fn`'s return type or a `pub enum`'s variant fails
/// here. Read the row into a record (`records`, or the module's own typed
/// struct) at the boundary instead.
#[test]
fn the_store_hands_out_records_not_rows() {
    let mut found: Vec<(String, String)> = SOURCES
        .iter()
        .flat_map(|(m, text)| rows_handed_out(m, text))
        .collect();
    found.sort();
    found.dedup();
    assert!(
        found.is_empty(),
        "a row type in a pub field, pub fn's return type or pub enum: hand out a \
         record instead: {found:?}"
    );
}

#[test]
fn the_row_scan_sees_fields_returns_and_variants() {
    let text = "pub struct A {\n    pub detail: tip::Model,\n    pub(crate) own: staff::Model,\n}\n\
                pub enum E {\n    V { d: Box<crate::entity::tip::Model> },\n}\n\
                impl X {\n    pub async fn get(\n        self,\n    ) -> Result<Option<offer::Model>, E> {\n    }\n\
                    pub fn ok(m: offer::Model) -> OfferRecord {\n    }\n\
                    pub fn who(self) -> identity::Subject {\n    }\n}\n";
    let found: Vec<_> = rows_handed_out("m", text)
        .into_iter()
        .map(|(_, i)| i)
        .collect();
    assert_eq!(found, ["detail", "E", "get"]);
}
