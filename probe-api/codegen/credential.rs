//! Which names hold a credential. A leaf file with no imports: the
//! pipeline compiles it (`codegen/mod.rs`) to mark credential parameters and
//! properties, and the runtime includes the same file (`src/cassette.rs`) to
//! keep them out of recorded cassettes, so both follow one rule.

/// Whether a parameter or property named `name`, described as
/// `description`, holds a credential: its name or description speaks of a
/// token, a JWT, an API key, a secret or a password. Words are compared
/// whole (`tokenizer` is not a token), on names split at `-`, `_`, spaces
/// and case changes.
pub fn is_credential(name: &str, description: Option<&str>) -> bool {
    fn words(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut word = String::new();
        let mut previous_lower = false;
        for c in text.chars() {
            if !c.is_alphanumeric() {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
                previous_lower = false;
                continue;
            }
            if c.is_uppercase() && previous_lower && !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            previous_lower = c.is_lowercase() || c.is_ascii_digit();
            word.extend(c.to_lowercase());
        }
        if !word.is_empty() {
            out.push(word);
        }
        out
    }
    let says = |text: &str| {
        let words = words(text);
        words.iter().enumerate().any(|(i, w)| {
            matches!(
                w.as_str(),
                "token" | "jwt" | "secret" | "password" | "apikey" | "credential"
            ) || (w == "api" && words.get(i + 1).is_some_and(|n| n == "key"))
        })
    };
    says(name) || description.is_some_and(says)
}
