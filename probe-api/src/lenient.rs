//! What the response models use so that an answer the document does not
//! fully describe still decodes.
//!
//! The API evolves faster than the document pinned in this crate, and it is
//! served by a Go backend. Three things would otherwise make a whole response
//! fail to decode although every field the caller cares about is fine:
//!
//! - **A new enum value.** Wherever a response can carry an enumeration, the
//!   generated model holds an [`OrUnknown<E>`]: [`OrUnknown::Known`] with the
//!   closed enum `E` for a value the document lists, [`OrUnknown::Unknown`]
//!   with the text as sent for one it does not. It serializes back to the same
//!   string, so a response re-encoded as JSON is the response received.
//! - **An IP address that is not one.** Go sends an unset `net.IP` as `""`,
//!   and mock servers send placeholders such as `"string"`. A response field
//!   of format `ip` (or `ipv4`, `ipv6`) is an [`IpText`]: the text as sent,
//!   with [`IpText::parsed`] giving the address when it is one.
//! - **A new field.** Response models ignore fields they do not know, even
//!   where the document says `additionalProperties: false`.
//!
//! Requests stay strict. The enums themselves (`types::UserStatus`,
//! `types::GetFileOnly`, ...) are closed: their `FromStr`, `TryFrom<&str>`
//! and `Deserialize` accept only the values the document lists, and a
//! request parameter or a request-only model takes the bare enum. So a
//! caller cannot send a value the API would reject by mistake, neither
//! through a setter nor through [`dynamic::call`](crate::dynamic::call),
//! whose JSON arguments are decoded into those closed types. An enum used on
//! both sides keeps one name: `UserStatus` as a `get_users` filter,
//! `OrUnknown<UserStatus>` in the user it returns, and
//! [`OrUnknown::known`] turns one into the other.
//!
//! A model the document uses both in a request body and in a response is a
//! response model here: a response that fails to decode cannot be worked
//! around, while a request body holding [`OrUnknown::Unknown`] can only be
//! written on purpose.
//!
//! The generator applies these rules to every model of every document (see
//! `codegen/lenient/` in the package); nothing is listed by hand.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use schemars::JsonSchema;
use schemars::r#gen::SchemaGenerator;
use schemars::schema::{Metadata, Schema, SchemaObject, SubschemaValidation};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value of the closed enum `E` as a response carries it: one the
/// document lists, or one it does not, kept as sent.
///
/// ```
/// use probe_api::lenient::OrUnknown;
/// use probe_api::types::UserStatus;
///
/// let known: OrUnknown<UserStatus> = serde_json::from_str(r#""active""#)?;
/// assert_eq!(known, UserStatus::Active);
///
/// let new: OrUnknown<UserStatus> = serde_json::from_str(r#""archived""#)?;
/// assert_eq!(new.unknown(), Some("archived"));
/// assert_eq!(serde_json::to_string(&new)?, r#""archived""#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OrUnknown<E> {
    /// A value the document lists.
    Known(E),
    /// A value the document does not list, exactly as the server sent it.
    Unknown(String),
}

impl<E> OrUnknown<E> {
    /// The known value, or `None` for one this version does not know.
    pub fn known(&self) -> Option<&E> {
        match self {
            OrUnknown::Known(value) => Some(value),
            OrUnknown::Unknown(_) => None,
        }
    }

    /// The known value, or `None` for one this version does not know.
    pub fn into_known(self) -> Option<E> {
        match self {
            OrUnknown::Known(value) => Some(value),
            OrUnknown::Unknown(_) => None,
        }
    }

    /// The text the server sent, when the value is not one the document lists.
    pub fn unknown(&self) -> Option<&str> {
        match self {
            OrUnknown::Known(_) => None,
            OrUnknown::Unknown(text) => Some(text),
        }
    }

    /// Whether the value is one the document lists.
    pub fn is_known(&self) -> bool {
        matches!(self, OrUnknown::Known(_))
    }
}

impl<E> From<E> for OrUnknown<E> {
    fn from(value: E) -> Self {
        OrUnknown::Known(value)
    }
}

impl<E: PartialEq> PartialEq<E> for OrUnknown<E> {
    fn eq(&self, other: &E) -> bool {
        self.known() == Some(other)
    }
}

impl<E: Default> Default for OrUnknown<E> {
    fn default() -> Self {
        OrUnknown::Known(E::default())
    }
}

/// The value as on the wire: the enum's string, or the unknown text.
impl<E: fmt::Display> fmt::Display for OrUnknown<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrUnknown::Known(value) => value.fmt(f),
            OrUnknown::Unknown(text) => f.write_str(text),
        }
    }
}

/// Never fails: text `E` does not parse becomes [`OrUnknown::Unknown`].
impl<E: FromStr> FromStr for OrUnknown<E> {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(text
            .parse()
            .map_or_else(|_| OrUnknown::Unknown(text.to_string()), OrUnknown::Known))
    }
}

impl<E: Serialize> Serialize for OrUnknown<E> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            OrUnknown::Known(value) => value.serialize(serializer),
            OrUnknown::Unknown(text) => serializer.serialize_str(text),
        }
    }
}

/// Reads a JSON string; a string `E` does not accept becomes
/// [`OrUnknown::Unknown`]. Anything but a string is still an error: that is
/// a different type, not a new value.
impl<'de, E: Deserialize<'de>> Deserialize<'de> for OrUnknown<E> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let known = E::deserialize(
            serde::de::value::StrDeserializer::<serde::de::value::Error>::new(&text),
        );
        Ok(known.map_or(OrUnknown::Unknown(text), OrUnknown::Known))
    }
}

impl<E: JsonSchema> JsonSchema for OrUnknown<E> {
    fn schema_name() -> String {
        format!("OrUnknown_{}", E::schema_name())
    }

    fn schema_id() -> Cow<'static, str> {
        Cow::Owned(format!("probe_api::lenient::OrUnknown<{}>", E::schema_id()))
    }

    fn is_referenceable() -> bool {
        false
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        SchemaObject {
            metadata: Some(Box::new(Metadata {
                description: Some(
                    "A value the document lists, or any other string the server sends.".into(),
                ),
                ..Metadata::default()
            })),
            subschemas: Some(Box::new(SubschemaValidation {
                any_of: Some(vec![
                    generator.subschema_for::<E>(),
                    generator.subschema_for::<String>(),
                ]),
                ..SubschemaValidation::default()
            })),
            ..SchemaObject::default()
        }
        .into()
    }
}

/// An IP address as a response carries it: the text as sent, which may be
/// empty (Go's unset `net.IP`) or not an address at all.
///
/// Serializes as the same string; [`Display`](fmt::Display) shows it as sent.
///
/// ```
/// use probe_api::lenient::IpText;
///
/// let ip: IpText = serde_json::from_str(r#""192.0.2.7""#)?;
/// assert_eq!(ip.parsed(), Some(std::net::IpAddr::from([192, 0, 2, 7])));
///
/// let unset: IpText = serde_json::from_str(r#""""#)?;
/// assert_eq!((unset.as_str(), unset.parsed()), ("", None));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct IpText(String);

impl IpText {
    /// The address, when the text is one (IPv4 or IPv6, without a zone).
    pub fn parsed(&self) -> Option<IpAddr> {
        self.0.parse().ok()
    }

    /// The text as the server sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the server sent an empty string (an unset address).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The text as the server sent it.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl From<IpAddr> for IpText {
    fn from(address: IpAddr) -> Self {
        IpText(address.to_string())
    }
}

impl From<String> for IpText {
    fn from(text: String) -> Self {
        IpText(text)
    }
}

impl From<&str> for IpText {
    fn from(text: &str) -> Self {
        IpText(text.to_string())
    }
}

impl AsRef<str> for IpText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<IpAddr> for IpText {
    fn eq(&self, other: &IpAddr) -> bool {
        self.parsed().as_ref() == Some(other)
    }
}

/// Never fails: any text is kept as it is.
impl FromStr for IpText {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(IpText(text.to_string()))
    }
}

impl fmt::Display for IpText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
    enum Color {
        #[serde(rename = "red")]
        Red,
        #[serde(rename = "dark-blue")]
        DarkBlue,
    }

    impl fmt::Display for Color {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(match self {
                Color::Red => "red",
                Color::DarkBlue => "dark-blue",
            })
        }
    }

    impl FromStr for Color {
        type Err = String;
        fn from_str(text: &str) -> Result<Self, String> {
            match text {
                "red" => Ok(Color::Red),
                "dark-blue" => Ok(Color::DarkBlue),
                other => Err(format!("not a color: {other}")),
            }
        }
    }

    #[test]
    fn known_and_unknown_values_decode_and_encode_as_sent() {
        for (json, expected) in [
            (r#""dark-blue""#, OrUnknown::Known(Color::DarkBlue)),
            (r#""teal""#, OrUnknown::Unknown("teal".into())),
            (r#""""#, OrUnknown::Unknown(String::new())),
            // The variant's Rust name is not its wire name.
            (r#""DarkBlue""#, OrUnknown::Unknown("DarkBlue".into())),
        ] {
            let value: OrUnknown<Color> = serde_json::from_str(json).expect(json);
            assert_eq!(value, expected);
            assert_eq!(serde_json::to_string(&value).expect("encodes"), json);
            assert_eq!(format!("\"{value}\""), json);
            assert_eq!(
                json.trim_matches('"').parse::<OrUnknown<Color>>(),
                Ok(value)
            );
        }
    }

    #[test]
    fn a_value_of_another_json_type_is_still_an_error() {
        let error = serde_json::from_str::<OrUnknown<Color>>("7").expect_err("a number");
        assert!(error.to_string().contains("expected a string"), "{error}");
        let missing: Option<OrUnknown<Color>> = serde_json::from_str("null").expect("null");
        assert_eq!(missing, None);
    }

    #[test]
    fn accessors_tell_known_from_unknown() {
        let known = OrUnknown::from(Color::Red);
        assert!(known.is_known() && known == Color::Red);
        assert_eq!((known.known(), known.unknown()), (Some(&Color::Red), None));
        let unknown = OrUnknown::<Color>::Unknown("teal".into());
        assert!(!unknown.is_known() && unknown != Color::Red);
        assert_eq!(unknown.unknown(), Some("teal"));
        assert_eq!(unknown.into_known(), None);
    }

    #[test]
    fn ip_text_keeps_any_string_and_parses_addresses() {
        for (json, parsed) in [
            (r#""192.0.2.7""#, Some("192.0.2.7")),
            (r#""2001:db8::1""#, Some("2001:db8::1")),
            (r#""""#, None),
            (r#""string""#, None),
        ] {
            let ip: IpText = serde_json::from_str(json).expect(json);
            let expected: Option<IpAddr> = parsed.map(|p| p.parse().expect("an address"));
            assert_eq!(ip.parsed(), expected, "{json}");
            assert_eq!(serde_json::to_string(&ip).expect("encodes"), json);
            assert_eq!(format!("\"{ip}\""), json);
        }
        let address: IpAddr = "192.0.2.7".parse().expect("an address");
        assert_eq!(IpText::from(address), address);
        assert!(IpText::default().is_empty());
    }

    #[test]
    fn schemas_admit_any_string() {
        let schema = schemars::schema_for!(OrUnknown<Color>);
        let text = serde_json::to_string(&schema).expect("encodes");
        assert!(
            text.contains("anyOf") && text.contains("\"string\""),
            "{text}"
        );
    }
}
