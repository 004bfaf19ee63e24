//! Credentials and where they go on the wire.

use std::fmt;

/// A secret value (API key or JWT) that never shows in `Debug` or
/// `Display`, and whose memory is overwritten with zeros when dropped.
///
/// Models use it for every field that holds a credential (the token of a
/// new API key, a JWT from sign-in): it serializes and deserializes as the
/// plain string the API sends, and [`expose`](Secret::expose) gives the
/// value to code that must use it.
///
/// ```
/// let secret = probe_api::Secret::new("ptk_123");
/// assert_eq!(format!("{secret} {secret:?}"), "<redacted> Secret(<redacted>)");
/// assert_eq!(serde_json::to_string(&secret).unwrap(), r#""ptk_123""#);
/// assert_eq!(secret.expose(), "ptk_123");
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A value of the wrong type is reported by its type only: serde's
        // own message would quote the value, which may be the credential.
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = Secret;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a credential string")
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Secret, E> {
                Ok(Secret::new(value))
            }
            fn visit_string<E: serde::de::Error>(self, value: String) -> Result<Secret, E> {
                Ok(Secret(value))
            }
        }
        deserializer.deserialize_string(Text)
    }
}

impl schemars::JsonSchema for Secret {
    fn schema_name() -> String {
        String::from("Secret")
    }

    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        String::json_schema(generator)
    }

    fn is_referenceable() -> bool {
        false
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for code that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_string())
    }
}

/// The security schemes of the Probe.dev document: which credential goes
/// where on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthScheme {
    /// API key as `Authorization: Bearer <key>` (`api_key_header`); the
    /// default for API keys, as the Probe.dev docs recommend.
    ApiKeyHeader,
    /// API key as the `token` query parameter (`api_key`).
    ApiKeyQuery,
    /// JWT as `Authorization: Bearer <jwt>` (`jwt`); the default for JWTs.
    JwtHeader,
    /// JWT as the `jwt` query parameter (`jwt-token`).
    JwtQuery,
    /// JWT as the `jwt` cookie (`jwt-cookie`).
    JwtCookie,
}

impl AuthScheme {
    /// The scheme's name in the document's `securitySchemes`.
    pub fn document_name(self) -> &'static str {
        match self {
            AuthScheme::ApiKeyHeader => "api_key_header",
            AuthScheme::ApiKeyQuery => "api_key",
            AuthScheme::JwtHeader => "jwt",
            AuthScheme::JwtQuery => "jwt-token",
            AuthScheme::JwtCookie => "jwt-cookie",
        }
    }

    /// Whether the scheme carries a JWT (rather than an API key).
    pub fn is_jwt(self) -> bool {
        matches!(
            self,
            AuthScheme::JwtHeader | AuthScheme::JwtQuery | AuthScheme::JwtCookie
        )
    }

    /// The query parameter or cookie names that carry secrets; URLs printed
    /// anywhere have these values redacted.
    pub const SECRET_QUERY_NAMES: [&'static str; 2] = ["token", "jwt"];
}

/// A credential and the scheme that sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Auth {
    pub(crate) scheme: AuthScheme,
    /// Shared with each call's error context (for redaction) without a
    /// copy; zeroed when the last holder drops it.
    pub(crate) secret: std::sync::Arc<Secret>,
    /// The `Authorization` value of a header scheme, made once: each
    /// request adds a copy, which shares its bytes.
    bearer: Option<Result<reqwest::header::HeaderValue, String>>,
}

impl Auth {
    /// The credential `secret`, sent as `scheme` says.
    pub(crate) fn new(scheme: AuthScheme, secret: Secret) -> Self {
        let bearer =
            matches!(scheme, AuthScheme::ApiKeyHeader | AuthScheme::JwtHeader).then(|| {
                let mut value =
                    reqwest::header::HeaderValue::from_str(&format!("Bearer {}", secret.expose()))
                        .map_err(|_| "the credential is not a valid header value".to_string())?;
                value.set_sensitive(true);
                Ok(value)
            });
        Auth {
            scheme,
            secret: std::sync::Arc::new(secret),
            bearer,
        }
    }

    /// Puts the credential on a request, as the scheme defines.
    #[inline]
    pub(crate) fn apply(&self, request: &mut reqwest::Request) -> Result<(), String> {
        let secret = self.secret.expose();
        match self.scheme {
            AuthScheme::ApiKeyHeader | AuthScheme::JwtHeader => {
                // A credential that is not a valid header value is refused
                // for every request, as it was made for each before.
                let value = match &self.bearer {
                    Some(Ok(value)) => value.clone(),
                    Some(Err(message)) => return Err(message.clone()),
                    None => return Err("the credential is not a valid header value".into()),
                };
                // Appended to a request without one (every generated
                // request), the path the request's other headers take; a raw
                // request's own `Authorization` is replaced.
                let headers = request.headers_mut();
                if headers.contains_key(reqwest::header::AUTHORIZATION) {
                    headers.insert(reqwest::header::AUTHORIZATION, value);
                } else {
                    headers.append(reqwest::header::AUTHORIZATION, value);
                }
            }
            AuthScheme::ApiKeyQuery => {
                request
                    .url_mut()
                    .query_pairs_mut()
                    .append_pair("token", secret);
            }
            AuthScheme::JwtQuery => {
                request
                    .url_mut()
                    .query_pairs_mut()
                    .append_pair("jwt", secret);
            }
            AuthScheme::JwtCookie => append_cookie(request, "jwt", secret, true)?,
        }
        Ok(())
    }
}

/// Adds `name=value` to the request's `Cookie` header (RFC 6265 section 5.4:
/// one header, pairs separated by `; `).
pub(crate) fn append_cookie(
    request: &mut reqwest::Request,
    name: &str,
    value: &str,
    sensitive: bool,
) -> Result<(), String> {
    let headers = request.headers_mut();
    let mut line = headers
        .get(reqwest::header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_default();
    if !line.is_empty() {
        line.push_str("; ");
    }
    line.push_str(name);
    line.push('=');
    line.push_str(value);
    let mut header = reqwest::header::HeaderValue::from_str(&line)
        .map_err(|_| format!("the cookie `{name}` is not a valid header value"))?;
    header.set_sensitive(sensitive);
    headers.insert(reqwest::header::COOKIE, header);
    Ok(())
}

/// A URL with its credentials replaced by `<redacted>`, for anything that
/// prints a URL: the values of `token` and `jwt` query parameters, and path
/// segments that hold a credential (the API token of
/// `/frontend/api/v1/auth/api-token/{token}`, and any path parameter the
/// document says is one; see [`crate::spec::ParameterSpec::secret`]).
///
/// ```
/// let url = "https://api.probe.dev/frontend/api/v1/auth/api-token/ptk_1?token=key&x=1";
/// assert_eq!(
///     probe_api::auth::redact_url(&url.parse().unwrap()),
///     "https://api.probe.dev/frontend/api/v1/auth/api-token/%3Credacted%3E?token=%3Credacted%3E&x=1",
/// );
/// ```
pub fn redact_url(url: &reqwest::Url) -> String {
    let mut redacted = url.clone();
    if let std::borrow::Cow::Owned(path) = crate::spec::redact_any_path(url.path()) {
        redacted.set_path(&path);
    }
    if url.query().is_none() {
        return redacted.to_string();
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let value = if AuthScheme::SECRET_QUERY_NAMES.contains(&k.as_ref()) {
                "<redacted>".to_string()
            } else {
                v.into_owned()
            };
            (k.into_owned(), value)
        })
        .collect();
    redacted.query_pairs_mut().clear().extend_pairs(pairs);
    redacted.to_string()
}
