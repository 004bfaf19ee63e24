//! The URL of a generated request: the client's base URL, parsed once,
//! with the operation's path set ([`request_url`]), path parameters encoded
//! as they are written into it ([`PathSegment`]) and the query parameters
//! appended in one edit ([`append_query`]), with the encodings progenitor
//! uses.

/// The URL of a request to `path` (the operation's path, its parameters
/// written through [`PathSegment`]): the client's base URL with `path`
/// after the base's own.
///
/// Generated `send()`s call this where progenitor formats the base URL and
/// the path into a string that reqwest then parses whole (see
/// `codegen/rewrite.rs`). The base was parsed once, when the client was
/// built; only the path is parsed here, by the same parser and with the
/// same result, so the scheme and the host (and its IDNA processing) are not
/// parsed again on every call.
#[inline]
pub(crate) fn request_url(client: &crate::Client, path: std::fmt::Arguments<'_>) -> reqwest::Url {
    url_below(&client.inner.base, path)
}

/// `base` with `path` after the base's own path, as the whole URL's text
/// would parse.
fn url_below(base: &reqwest::Url, path: std::fmt::Arguments<'_>) -> reqwest::Url {
    use std::fmt::Write as _;
    let prefix = base.path().trim_end_matches('/');
    let mut joined = String::with_capacity(prefix.len() + PATH_CAPACITY);
    joined.push_str(prefix);
    // Writing to a `String` fails only if a value's `Display` does, which
    // none of the generated parameter types' does.
    let _ = joined.write_fmt(path);
    // A path of plain characters is parsed as a path-absolute reference
    // against the base, whose scheme and host are copied as they are. One
    // that starts with two slashes (an empty first parameter) or holds a
    // backslash or a space or control would read as another host there, or
    // be cleaned differently: it is set on a copy of the base, which parses
    // it as a path whatever it holds.
    let plain = joined.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    if plain
        && !joined.starts_with("//")
        && let Ok(url) = reqwest::Url::options().base_url(Some(base)).parse(&joined)
    {
        return url;
    }
    let mut url = base.clone();
    url.set_path(&joined);
    url
}

/// Room for an operation's path, set aside once: the longest of the
/// document's paths with a UUID in each parameter fits.
const PATH_CAPACITY: usize = 96;

/// Appends an operation's query parameters to the request URL in one edit.
/// Generated `send()`s call this instead of reqwest's `query()` once per
/// parameter (see `codegen/rewrite.rs`): that re-edits the URL for every
/// parameter, set or not, and the file probes have dozens. The encoding is
/// the same (serde_urlencoded into the URL's query pairs). An error names
/// the first parameter that could not be encoded.
pub(crate) fn append_query(
    request: &mut reqwest::Request,
    push_all: impl FnOnce(&mut QueryPairs<'_, '_>),
) -> Result<(), String> {
    let url = request.url_mut();
    let mut error = None;
    {
        let mut pairs = url.query_pairs_mut();
        push_all(&mut QueryPairs {
            pairs: &mut pairs,
            error: &mut error,
        });
    }
    if url.query() == Some("") {
        url.set_query(None);
    }
    error.map_or(Ok(()), Err)
}

/// A path parameter as it goes into the URL: the value's text,
/// percent-encoded as one path segment. Generated `send()`s format it
/// straight into the URL (see `codegen/rewrite.rs`), where progenitor
/// writes the value to a string and encodes that into a second one. The
/// encoding is the same: the controls, space, `"#<>?`{}/` and `%`.
pub(crate) struct PathSegment<'a, T: ?Sized>(pub(crate) &'a T);

/// The bytes a path segment cannot carry as they are.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'%');

impl<T: std::fmt::Display + ?Sized> std::fmt::Display for PathSegment<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write as _;
        // A value's text often comes in pieces (a UUID writes nine): a
        // short one is gathered first and encoded in one pass, a long one
        // is encoded piece by piece as it is written.
        let mut short = Short {
            bytes: [0; SHORT_SEGMENT],
            len: 0,
        };
        if write!(short, "{}", self.0).is_ok()
            && let Ok(text) = std::str::from_utf8(&short.bytes[..short.len])
        {
            // Most values (ids, UUIDs) need no escape: written as they are.
            if text.bytes().all(kept_in_path_segment) {
                return f.write_str(text);
            }
            return percent_encoding::utf8_percent_encode(text, PATH_SEGMENT)
                .try_for_each(|piece| f.write_str(piece));
        }
        std::fmt::write(&mut Encoded(f), format_args!("{}", self.0))
    }
}

/// Whether a byte goes into a path segment as it is: an ASCII byte not in
/// [`PATH_SEGMENT`] (a unit test holds the two together).
const fn kept_in_path_segment(byte: u8) -> bool {
    byte.is_ascii()
        && !byte.is_ascii_control()
        && !matches!(
            byte,
            b' ' | b'"' | b'#' | b'<' | b'>' | b'?' | b'`' | b'{' | b'}' | b'/' | b'%'
        )
}

/// The longest value text [`PathSegment`] gathers before encoding it.
const SHORT_SEGMENT: usize = 64;

/// A value's text of up to [`SHORT_SEGMENT`] bytes; a longer one is an error.
struct Short {
    bytes: [u8; SHORT_SEGMENT],
    len: usize,
}

impl std::fmt::Write for Short {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        let end = self.len + text.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(text.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Encodes each piece of a value's text as it is written.
struct Encoded<'f, 'g>(&'f mut std::fmt::Formatter<'g>);

impl std::fmt::Write for Encoded<'_, '_> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        percent_encoding::utf8_percent_encode(text, PATH_SEGMENT)
            .try_for_each(|piece| self.0.write_str(piece))
    }
}

/// The query of a request being built; see [`append_query`].
pub(crate) struct QueryPairs<'p, 'u> {
    pairs: &'p mut url::form_urlencoded::Serializer<'u, url::UrlQuery<'u>>,
    error: &'p mut Option<String>,
}

impl QueryPairs<'_, '_> {
    /// Appends the parameter `name` (progenitor's `QueryParam`, which
    /// encodes it in its style); after a failure the rest are skipped.
    ///
    /// Out of line: a file probe's `send()` checks about a hundred
    /// parameters of which a call sets a few, and the checks stay on a few
    /// cache lines when the pushes are not written out between them.
    #[inline(never)]
    pub(crate) fn push<T: serde::Serialize + ?Sized>(&mut self, name: &str, param: &T) {
        self.push_inner(name, param);
    }

    /// [`push`](Self::push) of an optional parameter that is set. Cold: a
    /// call sets few of an operation's optional parameters, so the checks
    /// of the others run on as few cache lines as they can, the pushes
    /// laid out apart.
    #[cold]
    #[inline(never)]
    pub(crate) fn push_set<T: serde::Serialize + ?Sized>(&mut self, name: &str, param: &T) {
        self.push_inner(name, param);
    }

    /// Both pushes: the parameter encoded, or the first failure kept.
    #[inline(always)]
    fn push_inner<T: serde::Serialize + ?Sized>(&mut self, name: &str, param: &T) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = param.serialize(serde_urlencoded::Serializer::new(self.pairs)) {
            *self.error = Some(format!(
                "the query parameter `{name}` cannot be encoded: {e}"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(url: &str) -> reqwest::Request {
        reqwest::Request::new(reqwest::Method::GET, url.parse().expect("url"))
    }

    #[test]
    fn parameters_are_appended_in_order_and_an_empty_query_leaves_no_question_mark() {
        let mut r = request("http://127.0.0.1/v1/probe/file");
        append_query(&mut r, |q| {
            q.push("a[x]", &[("a[x]", "1 2")]);
            q.push("none", &[("none", None::<u8>)]);
            q.push("url", &[("url", "https://m.example/a b.mp4?x=1&y")]);
        })
        .expect("encodes");
        assert_eq!(
            r.url().query(),
            Some("a%5Bx%5D=1+2&url=https%3A%2F%2Fm.example%2Fa+b.mp4%3Fx%3D1%26y")
        );

        let mut r = request("http://127.0.0.1/v1/probe/file");
        append_query(&mut r, |q| q.push("none", &[("none", None::<u8>)])).expect("encodes");
        assert_eq!(r.url().as_str(), "http://127.0.0.1/v1/probe/file");
    }

    #[test]
    fn a_request_url_is_the_url_the_whole_text_parses_to() {
        let values = [
            "3f6c1e2a-8b4d-4c7e-9a15-2d0b7e9f4a61",
            "",
            ".",
            "..",
            "%2e%2E",
            "a b/c?d#e%f",
            "\\\\evil.example",
            "\\evil.example",
            "/evil.example",
            "\tx\ny",
            "café/日本",
            "@evil.example",
        ];
        for base in [
            "http://127.0.0.1:8080",
            "https://api.example/prefix/",
            "https://h.example/a/b",
        ] {
            let parsed = reqwest::Url::parse(base).expect("base");
            let text = parsed.as_str().trim_end_matches('/');
            for value in values {
                for template in ["/things/{}", "/{}/x", "/{}{}"] {
                    let path = template.replace("{}", &PathSegment(value).to_string());
                    let expected = reqwest::Url::parse(&format!("{text}{path}")).expect("whole");
                    let got = url_below(&parsed, format_args!("{path}"));
                    assert_eq!(got, expected, "{base} {template} {value:?}");
                    assert_eq!(
                        got.host_str(),
                        parsed.host_str(),
                        "{base} {template} {value:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_path_segment_is_encoded_as_the_generator_encodes_it() {
        let values = [
            "3f6c1e2a-8b4d-4c7e-9a15-2d0b7e9f4a61",
            "a b/c?d#e%f",
            "\"<>`{}\u{7f}\u{1}",
            "café/日本",
            "",
            // Longer than a gathered value: encoded piece by piece.
            "a/very/long/value/with spaces/that/does/not/fit/in/sixty-four/bytes?#",
        ];
        // Around the length gathered before encoding, with a byte to escape
        // and a character that straddles the limit.
        let edges = [63, 64, 65].map(|n| format!("{}/", "x".repeat(n - 1)));
        let straddle = format!("{}é", "x".repeat(63));
        let edges = edges.iter().chain([&straddle]).map(String::as_str);
        for value in values.into_iter().chain(edges) {
            assert_eq!(
                PathSegment(value).to_string(),
                progenitor_client::encode_path(value),
                "{value:?}"
            );
        }
        assert_eq!(PathSegment(&42_i64).to_string(), "42");
        assert_eq!(
            PathSegment(&uuid::Uuid::nil()).to_string(),
            uuid::Uuid::nil().to_string()
        );
    }

    #[test]
    fn the_bytes_a_path_segment_keeps_are_those_its_encoding_keeps() {
        for byte in 0..=127u8 {
            let text = char::from(byte).to_string();
            let encoded = percent_encoding::utf8_percent_encode(&text, PATH_SEGMENT).to_string();
            assert_eq!(kept_in_path_segment(byte), encoded == text, "{byte:#04x}");
        }
        assert!((128..=255u8).all(|byte| !kept_in_path_segment(byte)));
    }

    #[test]
    fn a_parameter_that_cannot_be_encoded_is_named_and_stops_the_rest() {
        let mut r = request("http://127.0.0.1/x");
        let error = append_query(&mut r, |q| {
            q.push("count", &7u32);
            q.push("after", &[("after", "1")]);
        })
        .expect_err("a bare number is not a query");
        assert!(
            error.starts_with("the query parameter `count` cannot be encoded"),
            "{error}"
        );
        assert_eq!(r.url().query(), None);
    }
}
