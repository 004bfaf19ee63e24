//! Credentials and where they go on the wire.

use std::fmt;

/// A secret value (API key or JWT) that never shows in `Debug` or
/// `Display`, and whose memory is overwritten with zeros when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

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
}

impl Auth {
    /// Puts the credential on a request, as the scheme defines.
    pub(crate) fn apply(&self, request: &mut reqwest::Request) -> Result<(), String> {
        let secret = self.secret.expose();
        match self.scheme {
            AuthScheme::ApiKeyHeader | AuthScheme::JwtHeader => {
                let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {secret}"))
                    .map_err(|_| "the credential is not a valid header value".to_string())?;
                value.set_sensitive(true);
                request
                    .headers_mut()
                    .insert(reqwest::header::AUTHORIZATION, value);
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

/// A URL with the values of `token` and `jwt` query parameters replaced, for
/// anything that prints a URL.
pub fn redact_url(url: &reqwest::Url) -> String {
    if url.query().is_none() {
        return url.to_string();
    }
    let mut redacted = url.clone();
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
