//! The text fields of the reports (`codec_name`, `pix_fmt`, `pict_type`).

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use serde::de::{self, Deserializer, Unexpected, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::inline::SmallStr;

/// A text a tool printed as a JSON string, stored compactly: up to 15
/// bytes (every value of `pix_fmt`, `pict_type`, `codec_type`, `flags`,
/// `sample_fmt` ...) are kept inside the value, without an allocation;
/// longer texts (a URL, a codec's long name) go to the heap.
///
/// It reads as a `&str` ([`Deref`], [`AsRef`], [`Borrow`], [`Display`](fmt::Display));
/// it compares, orders and hashes as its text, so it also compares equal
/// to a `str` or `String` of the same text, and a map keyed by it can be
/// looked up with a `&str`. It serializes as a JSON string, and
/// deserializes from one (a short one without an allocation).
///
/// An optional field such as [`Frame::pix_fmt`](super::ffprobe::Frame::pix_fmt)
/// gives an `Option<&str>` with `as_deref()`:
///
/// ```
/// use probe_api::reports::ffprobe::Frame;
///
/// let frame: Frame = serde_json::from_str(r#"{"pix_fmt": "yuv420p", "pict_type": "I"}"#)?;
/// assert_eq!(frame.pix_fmt.as_deref(), Some("yuv420p"));
/// assert!(frame.pict_type.is_some_and(|t| t == "I"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct CompactText(SmallStr);

impl CompactText {
    /// The text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The storage, for the tests of its boundary.
    #[cfg(test)]
    fn storage(&self) -> &SmallStr {
        &self.0
    }
}

impl Deref for CompactText {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for CompactText {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

// Sound because equality, order and hashing are all those of the text
// (see `SmallStr`), as `Borrow` requires.
impl Borrow<str> for CompactText {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl Hash for CompactText {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Exactly `str`'s hash, which `Borrow<str>` requires.
        self.as_str().hash(state);
    }
}

impl fmt::Display for CompactText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` keeps width and alignment (`{:<8}`) working as for a `str`.
        f.pad(self.as_str())
    }
}

impl fmt::Debug for CompactText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<&str> for CompactText {
    fn from(text: &str) -> Self {
        CompactText(SmallStr::new(text))
    }
}

impl From<String> for CompactText {
    fn from(text: String) -> Self {
        CompactText(SmallStr::from_string(text))
    }
}

impl From<&String> for CompactText {
    fn from(text: &String) -> Self {
        CompactText(SmallStr::new(text))
    }
}

impl From<CompactText> for String {
    fn from(text: CompactText) -> Self {
        text.as_str().to_string()
    }
}

impl PartialEq<str> for CompactText {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for CompactText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for CompactText {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<CompactText> for str {
    fn eq(&self, other: &CompactText) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<CompactText> for &str {
    fn eq(&self, other: &CompactText) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<CompactText> for String {
    fn eq(&self, other: &CompactText) -> bool {
        self == other.as_str()
    }
}

impl Serialize for CompactText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CompactText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor)
    }
}

/// Takes a string as the deserializer has it: a text borrowed from the
/// input (or from its scratch buffer, once unescaped) is copied straight
/// into place, and an owned `String` (from a `serde_json::Value`) is kept
/// when it is too long to go inline.
struct TextVisitor;

impl Visitor<'_> for TextVisitor {
    type Value = CompactText;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<CompactText, E> {
        Ok(CompactText::from(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<CompactText, E> {
        Ok(CompactText::from(v))
    }

    // As `String` does: bytes are accepted when they are UTF-8.
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<CompactText, E> {
        std::str::from_utf8(v)
            .map(CompactText::from)
            .map_err(|_| E::invalid_value(Unexpected::Bytes(v), &self))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<CompactText, E> {
        String::from_utf8(v)
            .map(CompactText::from)
            .map_err(|e| E::invalid_value(Unexpected::Bytes(e.as_bytes()), &self))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::hash::BuildHasher;

    use super::super::inline::INLINE;
    use super::*;

    #[test]
    fn every_length_round_trips_compares_and_hashes_as_its_text() {
        let state = std::collections::hash_map::RandomState::new();
        for len in 0..=40 {
            let text: String = ('a'..='z').cycle().take(len).collect();
            let from_str = CompactText::from(text.as_str());
            let from_string = CompactText::from(text.clone());
            let json = serde_json::to_string(&text).expect("json");
            let decoded: CompactText = serde_json::from_str(&json).expect("decodes");
            let from_value: CompactText =
                serde_json::from_value(serde_json::Value::from(text.clone())).expect("decodes");
            for compact in [&from_str, &from_string, &decoded, &from_value] {
                assert_eq!(compact.as_str(), text, "{len}");
                assert_eq!(&**compact, text.as_str());
                assert_eq!(compact.storage().is_inline(), len <= INLINE, "{len}");
                assert_eq!(*compact, *text.as_str());
                assert_eq!(*compact, text.as_str());
                assert_eq!(*compact, text);
                assert_eq!(text, *compact);
                assert_eq!(text.as_str(), *compact);
                assert_eq!(*text.as_str(), *compact);
                assert_eq!(compact, &from_str);
                assert_eq!(state.hash_one(compact), state.hash_one(text.as_str()));
                assert_eq!(compact.to_string(), text);
                assert_eq!(format!("{compact:?}"), format!("{text:?}"));
                assert_eq!(serde_json::to_string(compact).expect("json"), json);
            }
        }
        let mut map = HashMap::new();
        map.insert(CompactText::from("left"), 1);
        map.insert(
            CompactText::from("a chroma location past the inline size"),
            2,
        );
        assert_eq!(map.get("left"), Some(&1));
        assert_eq!(map.get("a chroma location past the inline size"), Some(&2));
    }

    #[test]
    fn multi_byte_characters_at_the_boundary_are_kept_whole() {
        // 14 ASCII bytes and a two-byte `é` fill the inline bytes exactly
        // plus one; 13 and `é` fill them exactly; a four-byte character
        // across the edge goes to the heap whole.
        for (text, inline) in [
            ("1234567890123é", true),
            ("12345678901234é", false),
            ("123456789012345é", false),
            ("12345678901🎞", true),
            ("123456789012🎞", false),
            ("ééééééé", true),
            ("éééééééé", false),
        ] {
            let compact = CompactText::from(text);
            assert_eq!(
                (compact.as_str(), compact.storage().is_inline()),
                (text, inline)
            );
            let json = serde_json::to_string(&compact).expect("json");
            let back: CompactText = serde_json::from_str(&json).expect("decodes");
            assert_eq!(back, text);
        }
    }

    #[test]
    fn escaped_json_strings_decode_to_their_text() {
        for (json, text) in [
            (r#""a\"b""#, "a\"b"),
            (r#""\u00e9""#, "é"),
            (r#""line\nbreak\ttab\\""#, "line\nbreak\ttab\\"),
            (
                r#""\ud83c\udf9e film strip over 15 bytes""#,
                "🎞 film strip over 15 bytes",
            ),
        ] {
            let compact: CompactText = serde_json::from_str(json).expect(json);
            assert_eq!(compact, text);
            let back = serde_json::to_string(&compact).expect("json");
            assert_eq!(back, serde_json::to_string(text).expect("json"));
        }
        for not_text in ["1", "null", "[\"a\"]", "{}", "true"] {
            let error = serde_json::from_str::<CompactText>(not_text).expect_err(not_text);
            assert!(error.to_string().contains("a string"), "{error}");
        }
    }

    #[test]
    fn it_orders_and_looks_up_as_its_text() {
        let mut sorted: Vec<CompactText> = ["b", "a long text on the heap", "a", ""]
            .into_iter()
            .map(CompactText::from)
            .collect();
        sorted.sort();
        let texts: Vec<&str> = sorted.iter().map(CompactText::as_str).collect();
        assert_eq!(texts, ["", "a", "a long text on the heap", "b"]);
        let counts: HashMap<CompactText, u32> = [(CompactText::from("yuv420p"), 3)].into();
        assert_eq!(counts.get("yuv420p"), Some(&3));
        assert_eq!(format!("[{:>6}]", CompactText::from("tv")), "[    tv]");
        assert_eq!(CompactText::default(), "");
        assert_eq!(String::from(CompactText::from("I")), "I");
    }

    #[test]
    fn it_is_as_small_as_a_box_and_optional_for_free() {
        assert_eq!(std::mem::size_of::<CompactText>(), 16);
        assert_eq!(std::mem::size_of::<Option<CompactText>>(), 16);
    }
}
