//! Reading decoded `(name, value)` pairs, from a form body or a query
//! string, the way the specification's "Optional Arguments" rule says: a
//! parameter passed empty is the same as one not passed at all.

use crate::error::Open311Error;

/// The non-empty (after trimming) values given for `name`, in order.
pub(crate) fn values<'a>(
    pairs: &'a [(String, String)],
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    pairs
        .iter()
        .filter(move |(n, _)| n == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// The one value of a single-valued argument. Given twice with different
/// values it is ambiguous, so that is a 400 (recorded in `errors`) rather
/// than a silent pick.
pub(crate) fn single<'a>(
    pairs: &'a [(String, String)],
    name: &'a str,
    errors: &mut Vec<Open311Error>,
) -> Option<&'a str> {
    let mut found = values(pairs, name);
    let first = found.next()?;
    if found.any(|other| other != first) {
        errors.push(Open311Error::bad_request(format!(
            "{name} was given more than once with different values"
        )));
        return None;
    }
    Some(first)
}

/// Every value of a list argument, which may be repeated and/or comma
/// delimited (`status=open,closed` or `status=open&status=closed`), trimmed,
/// empty items dropped, first occurrence kept.
pub(crate) fn list<'a>(pairs: &'a [(String, String)], name: &'a str) -> Vec<&'a str> {
    let mut items: Vec<&str> = Vec::new();
    for item in values(pairs, name).flat_map(|v| v.split(',')) {
        let item = item.trim();
        if !item.is_empty() && !items.contains(&item) {
            items.push(item);
        }
    }
    items
}

/// `Some(chars)` when `text` is longer than `max` characters (Unicode
/// scalar values, not bytes: 4,000 Chinese characters are 12,000 bytes).
pub(crate) fn too_long(text: &str, max: usize) -> Option<usize> {
    let chars = text.chars().count();
    (chars > max).then_some(chars)
}
