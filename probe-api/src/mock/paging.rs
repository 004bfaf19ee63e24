//! Lists paged as the API pages them: `pagination[page]` from 1 and
//! `pagination[limit]` items a page (the document's defaults, 1 and 10),
//! the answer's `pagination` holding the page, the limit applied, the
//! count on this page and the total.

use serde_json::{Value, json};

use super::request::Checked;

/// The document's default page size.
const DEFAULT_LIMIT: u64 = 10;

/// The page `checked` asks for of `items` (already in the list's order),
/// and the `pagination` object that describes it.
pub(crate) fn page(checked: &Checked, items: &[Value]) -> (Vec<Value>, Value) {
    let asked = |name: &str| {
        checked
            .get("pagination")
            .and_then(|p| p.get(name))
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
            .filter(|&n| n >= 1)
    };
    let page = asked("page").unwrap_or(1);
    let limit = asked("limit").unwrap_or(DEFAULT_LIMIT);
    let start = usize::try_from(page.saturating_sub(1).saturating_mul(limit)).unwrap_or(usize::MAX);
    let len = usize::try_from(limit).unwrap_or(usize::MAX);
    let slice: Vec<Value> = items.iter().skip(start).take(len).cloned().collect();
    let pagination = json!({
        "page": page,
        "limit": limit,
        "count": slice.len(),
        "total": items.len(),
    });
    (slice, pagination)
}
