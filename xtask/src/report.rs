//! `cargo xtask spec report`: what the overlay and the normalizer did.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::codegen::Pipeline;
use crate::codegen::normalize::{Rewrite, Rule};

/// Renders the overlay outcomes and every rewrite, grouped by rule.
pub fn render(pipeline: &Pipeline) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Overlay: {} action(s)", pipeline.overlay.len());
    for action in &pipeline.overlay {
        let state = if action.is_stale() {
            "matches nothing (stale)"
        } else if action.is_redundant() {
            "changes nothing (already in the document)"
        } else {
            "applied"
        };
        let _ = writeln!(
            out,
            "  [{}] {} -> {} node(s), {state}",
            action.index, action.target, action.matched
        );
    }
    let ops = &pipeline.normalized.operations;
    let _ = writeln!(out, "\nOperations: {}", ops.len());
    for op in ops {
        let _ = writeln!(
            out,
            "  {:<7} {:<50} {:<40} -> {}",
            op.method, op.path, op.operation_id, op.rust_name
        );
    }
    let paged = crate::codegen::pages::paged(&pipeline.normalized);
    let _ = writeln!(
        out,
        "\nPaged operations: {} (query `{}` and `{}`, answer `{}` and one list; builders get pages() and items())",
        paged.len(),
        crate::codegen::pages::PAGE,
        crate::codegen::pages::LIMIT,
        crate::codegen::pages::PAGINATION,
    );
    for op in &paged {
        let key = op
            .key
            .as_deref()
            .map_or(String::from("no key: duplicates kept"), |k| {
                format!("seen once by `{k}`")
            });
        let _ = writeln!(out, "  {:<40} list `{}`, {key}", op.rust_name, op.items);
    }
    let mut by_rule: BTreeMap<Rule, Vec<&Rewrite>> = BTreeMap::new();
    for rewrite in &pipeline.normalized.rewrites {
        by_rule.entry(rewrite.rule).or_default().push(rewrite);
    }
    let _ = writeln!(
        out,
        "\nRewrites: {} in {} rule(s)",
        pipeline.normalized.rewrites.len(),
        by_rule.len()
    );
    for (rule, rewrites) in by_rule {
        let _ = writeln!(out, "\n{rule} ({}): {}", rewrites.len(), rule.why());
        for rewrite in rewrites {
            let _ = writeln!(out, "  {}: {}", rewrite.pointer, rewrite.detail);
        }
    }
    out
}
