//! What the build learned about each operation of the effective document.
//!
//! The normalizer rewrites parts of the provider's document that progenitor
//! cannot generate (cookie parameters, `deepObject` queries, several request
//! media types). This table records those facts so hand-written code can act
//! on them, and so users can inspect the API the client was generated from.

/// One operation of the effective document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct OperationSpec {
    /// Upper-case HTTP method, such as `"GET"`.
    pub method: &'static str,
    /// The path template, such as `"/frontend/api/v1/auth/session/{session-id}"`.
    pub path: &'static str,
    /// The operationId in the provider's document, such as `"routes/auth.GetSession"`.
    pub operation_id: &'static str,
    /// The method of [`Client`](crate::Client) that calls it, such as `"get_session"`.
    pub rust_name: &'static str,
    /// Security alternatives: each entry is one set of scheme names that
    /// together authorize the call; an empty set means no credentials needed.
    pub security: &'static [&'static [&'static str]],
    /// Cookie parameters the document defines, which the generated method does not take.
    pub cookies: &'static [CookieSpec],
    /// `deepObject` query parameters, each sent as one `name[prop]` parameter per property.
    pub query_groups: &'static [QueryGroupSpec],
    /// The path, query and header parameters the operation's builder takes,
    /// in document order (`deepObject` groups already one per property;
    /// cookies are in [`cookies`](OperationSpec::cookies)).
    pub parameters: &'static [ParameterSpec],
    /// The request body the builder's `body` setter takes, if any.
    pub body: Option<BodySpec>,
    /// The media type of the request body the client sends, if any.
    pub request_media_type: Option<&'static str>,
    /// The document's default `timeout` (milliseconds of analysis the server
    /// allows), for the media operations that take one.
    pub timeout_default_ms: Option<u64>,
    /// The document's default `queue_timeout` (milliseconds in the queue).
    pub queue_timeout_default_ms: Option<u64>,
    /// The document's one-line `summary` of the operation.
    pub summary: Option<&'static str>,
    /// How the operation's answer pages, when it does (see
    /// [`pages`](crate::pages)).
    pub pages: Option<PagesSpec>,
}

/// An operation that pages: its query takes `pagination[page]` and
/// `pagination[limit]`, and its answer holds `pagination` and one list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PagesSpec {
    /// The answer's list property, such as `"log"`.
    pub items: &'static str,
    /// The property that identifies an item of the list (`"id"`), if the
    /// document gives the items one.
    pub key: Option<&'static str>,
}

impl OperationSpec {
    /// Whether a path parameter of the operation holds a credential.
    pub fn has_secret_parameters(&self) -> bool {
        self.parameters.iter().any(|p| p.secret)
    }

    /// `path`, the path of a request to this operation, with each credential
    /// path parameter replaced by `<redacted>`, and the values replaced (as
    /// sent, and percent-decoded when that differs), so that text the
    /// server echoes can be redacted too. `None` when the operation has no
    /// such parameter or `path` is not one of its paths. The path may carry
    /// the base URL's own prefix: the template is matched at its end.
    pub(crate) fn redact_path(&self, path: &str) -> Option<(String, Vec<String>)> {
        if !self.has_secret_parameters() {
            return None;
        }
        let template: Vec<&str> = self.path.split('/').collect();
        let mut segments: Vec<&str> = path.split('/').collect();
        let offset = segments.len().checked_sub(template.len())?;
        let mut values = Vec::new();
        for (i, part) in template.iter().enumerate() {
            let actual = segments[offset + i];
            match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) => {
                    let secret = self.parameters.iter().any(|p| {
                        p.secret && p.location == ParameterLocation::Path && p.name == name
                    });
                    if secret && !actual.is_empty() {
                        values.push(actual.to_string());
                        let decoded = percent_decode(actual);
                        if decoded != actual {
                            values.push(decoded);
                        }
                        segments[offset + i] = "<redacted>";
                    }
                }
                None if *part != actual => return None,
                None => {}
            }
        }
        Some((segments.join("/"), values))
    }
}

/// `%XX` escapes decoded (as UTF-8, lossily).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// [`OperationSpec::redact_path`] for whichever operation `path` belongs
/// to, for a request that names no operation.
pub(crate) fn redact_path_of_any(path: &str) -> Option<(String, Vec<String>)> {
    operations().iter().find_map(|op| op.redact_path(path))
}

/// `path` with the credential path parameters of whichever operation it
/// belongs to replaced by `<redacted>`; unchanged when it holds none.
pub(crate) fn redact_any_path(path: &str) -> std::borrow::Cow<'_, str> {
    redact_path_of_any(path).map_or(std::borrow::Cow::Borrowed(path), |(redacted, _)| {
        std::borrow::Cow::Owned(redacted)
    })
}

/// A cookie parameter of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CookieSpec {
    /// The cookie's name on the wire.
    pub name: &'static str,
    /// Whether the operation requires it.
    pub required: bool,
}

/// A `deepObject` query parameter and the wire names of its properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueryGroupSpec {
    /// The parameter's name in the document, such as `"ffprobe"`.
    pub name: &'static str,
    /// Its properties as sent, such as `"ffprobe[show_streams]"`.
    pub parameters: &'static [&'static str],
}

/// A path, query or header parameter of an operation and the builder
/// method that sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParameterSpec {
    /// The name on the wire, as the normalized document has it, such as
    /// `"session-id"`, `"ffprobe[show_streams]"` or `"X-Recaptcha-Token"`.
    pub name: &'static str,
    /// The builder method that sets it, such as `"session_id"`.
    pub setter: &'static str,
    /// Where it is sent.
    pub location: ParameterLocation,
    /// Whether the document requires it.
    pub required: bool,
    /// Whether its value is a credential (a path parameter holding an API
    /// token): the client never prints it, in spans, errors or `Debug`.
    pub secret: bool,
    /// What the document says of its value.
    pub value: ValueSpec,
}

/// What the document says of one value: a parameter or a field of a flat
/// request body. A tool that builds a command line or a form from
/// [`operations`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValueSpec {
    /// The JSON Schema type: `"string"`, `"integer"`, `"number"`,
    /// `"boolean"`, `"array"` or `"object"`; `""` when the document names none.
    pub kind: &'static str,
    /// For an array, the type of its items.
    pub item_kind: Option<&'static str>,
    /// The schema's `format` (of the items, for an array), such as `"date-time"`.
    pub format: Option<&'static str>,
    /// The document's default, as JSON text (`"10"`, `"true"`, `"\"json\""`).
    pub default: Option<&'static str>,
    /// The document's description.
    pub description: Option<&'static str>,
    /// The values an `enum` allows (of the items, for an array).
    pub choices: &'static [&'static str],
}

/// A property of a flat request body (see [`BodySpec::fields`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldSpec {
    /// The property's name, as in the JSON or form body.
    pub name: &'static str,
    /// Whether the document requires it.
    pub required: bool,
    /// What the document says of its value.
    pub value: ValueSpec,
}

/// Where a parameter is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParameterLocation {
    /// A segment of the path, such as `{session-id}`.
    Path,
    /// A query parameter.
    Query,
    /// A request header.
    Header,
}

impl ParameterLocation {
    /// The OpenAPI name of the location (the parameter's `in`), such as `"query"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ParameterLocation::Path => "path",
            ParameterLocation::Query => "query",
            ParameterLocation::Header => "header",
        }
    }
}

/// The request body of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BodySpec {
    /// The media type the client sends it as, such as `"application/json"`.
    pub media_type: &'static str,
    /// Whether the document requires a body.
    pub required: bool,
    /// The type the builder's `body` setter takes, without its module path
    /// (the models are in [`types`](crate::types)), such as
    /// `"PostFileRequest"`.
    pub type_name: &'static str,
    /// The body's properties when it is a flat object (every property a
    /// scalar or an array of scalars), so it can be given field by field;
    /// empty otherwise.
    pub fields: &'static [FieldSpec],
}

/// Every operation of the effective document, in document order.
pub fn operations() -> &'static [OperationSpec] {
    crate::generated::OPERATIONS
}

/// The operation with the given Rust method name, such as `"get_file"`.
pub fn operation(rust_name: &str) -> Option<&'static OperationSpec> {
    operations().iter().find(|op| op.rust_name == rust_name)
}

// Hidden from the docs: a check for the SDK's own tests that every
// operation of the document is a method of the compiled client.
#[doc(hidden)]
/// Whether `rust_name` is an operation method of [`Client`](crate::Client).
///
/// The answer comes from code that calls each method, so a name is only
/// reported when the compiled client really has it.
pub fn has_operation_method(client: &crate::Client, rust_name: &str) -> bool {
    crate::generated::has_operation_method(client, rust_name)
}
