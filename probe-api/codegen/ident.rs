//! Rust identifiers from the document's names, as progenitor makes them.
//!
//! One function, [`snake`], turns a parameter or operation name into the
//! identifier progenitor 0.15 gives it. The normalizer uses it to find names
//! that would collide, the build to find each parameter's builder field, and
//! `cargo xtask api` to name the setters in `API.md`, so the three agree by
//! construction.

/// The identifier progenitor 0.15 gives a parameter: `sanitize(name,
/// Case::Snake)` in progenitor-impl's `util.rs`. Characters that cannot
/// continue an identifier become `-`, the result goes to snake case, a
/// leading character that cannot start one gets `_` before it, and a Rust
/// keyword gets `_` after it. Every match is verified against the generated
/// builder, so a progenitor that names differently fails the build.
pub fn snake(name: &str) -> String {
    use heck::ToSnakeCase;
    let out = match name {
        "+1" => "plus1".to_string(),
        "-1" => "minus1".to_string(),
        _ => name
            .replace('\'', "")
            .replace(|c: char| !is_xid_continue(c), "-")
            .to_snake_case(),
    };
    let out = match out.chars().next() {
        None => "x".to_string(),
        Some(c) if is_xid_start(c) => out,
        Some(_) => format!("_{out}"),
    };
    if is_reserved_word(&out) {
        format!("{out}_")
    } else {
        out
    }
}

// progenitor asks `unicode-ident`; that crate is not a dependency here, but
// the lexer behind syn (proc-macro2's) uses the same tables, so asking it
// whether the character lexes as part of one identifier gives the same answer.
fn is_xid_continue(c: char) -> bool {
    let text = format!("x{c}");
    syn::parse_str::<syn::Ident>(&text).is_ok_and(|ident| ident == text)
}

fn is_xid_start(c: char) -> bool {
    let text = c.to_string();
    c != '_' && syn::parse_str::<syn::Ident>(&text).is_ok_and(|ident| ident == text)
}

/// typify's `accept_as_ident` list, which progenitor uses: Rust's keywords,
/// reserved words and `gen`.
fn is_reserved_word(ident: &str) -> bool {
    matches!(
        ident,
        "_" | "abstract"
            | "as"
            | "async"
            | "await"
            | "become"
            | "box"
            | "break"
            | "const"
            | "continue"
            | "crate"
            | "do"
            | "dyn"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "final"
            | "fn"
            | "for"
            | "gen"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "macro"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "override"
            | "priv"
            | "pub"
            | "ref"
            | "return"
            | "Self"
            | "self"
            | "static"
            | "struct"
            | "super"
            | "trait"
            | "true"
            | "try"
            | "type"
            | "typeof"
            | "unsafe"
            | "unsized"
            | "use"
            | "virtual"
            | "where"
            | "while"
            | "yield"
    )
}

/// The Rust method name for an operationId: its last segment after `/` and
/// `.`, in snake case. A one-letter word joins the word after it, so the
/// mixed-case acronym in `PostOAuthSignIn` gives `post_oauth_sign_in`.
pub fn rust_method_name(operation_id: &str) -> String {
    let last = operation_id
        .rsplit(['/', '.'])
        .find(|s| !s.is_empty())
        .unwrap_or(operation_id);
    let snake = snake(last);
    let mut words: Vec<String> = Vec::new();
    let mut pending = String::new();
    for word in snake.split('_') {
        if word.chars().count() == 1 && word.chars().all(char::is_alphabetic) {
            pending.push_str(word);
            continue;
        }
        words.push(format!("{pending}{word}"));
        pending.clear();
    }
    if !pending.is_empty() {
        words.push(pending);
    }
    words.join("_")
}

/// `get-file` -> `GetFile`, heck's Pascal case.
pub fn pascal(name: &str) -> String {
    use heck::ToPascalCase;
    name.to_pascal_case()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_names_become_the_identifiers_progenitor_gives_them() {
        for (name, ident) in [
            ("session-id", "session_id"),
            ("ffprobe[show_streams]", "ffprobe_show_streams"),
            ("date[from]", "date_from"),
            ("X-Recaptcha-Token", "x_recaptcha_token"),
            ("logout-all", "logout_all"),
            ("type", "type_"),
            ("2fa", "_2fa"),
            ("+1", "plus1"),
            ("it's", "its"),
            ("größe", "größe"),
            ("", "x"),
        ] {
            assert_eq!(snake(name), ident, "{name}");
        }
    }

    #[test]
    fn operation_ids_become_snake_case_method_names() {
        assert_eq!(rust_method_name("routes/auth.GetSession"), "get_session");
        assert_eq!(
            rust_method_name("routes/auth.PostOAuthSignIn"),
            "post_oauth_sign_in"
        );
        assert_eq!(rust_method_name("routes/gateway.GetC2pa"), "get_c2pa");
        assert_eq!(rust_method_name("listThings"), "list_things");
    }
}
