//! The storage behind the reports' short texts: a string kept inside the
//! value when it is short, on the heap only when it is not.
//!
//! A frame of an FFprobe report holds a dozen texts (`"video"`, `"yuv420p"`,
//! `"0.033367"`), and a large report holds tens of thousands of frames. As a
//! `String` each text is 24 bytes and an allocation of its own; as a
//! [`SmallStr`] it is 16 bytes and, up to [`INLINE`] bytes, no allocation.
//! [`Printed`](super::Printed) and [`CompactText`](super::CompactText) both
//! keep their text here.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// The most bytes kept without an allocation.
pub(super) const INLINE: usize = 15;

/// A string, inline up to [`INLINE`] bytes and on the heap beyond.
///
/// The representation is canonical (a text is inline exactly when it
/// fits), but equality, order and hashing go through [`SmallStr::as_str`]
/// anyway, so they are those of `str` whatever the representation.
#[derive(Clone)]
pub(super) enum SmallStr {
    /// The first `len` bytes of the array, always whole UTF-8 characters.
    Inline(Len, [u8; INLINE]),
    /// A text longer than [`INLINE`] bytes. The box is boxed again so that
    /// this variant holds a thin pointer: a `Box<str>` alone is 16 bytes,
    /// which would make every value 24. Long texts are rare in a report
    /// (a URL, a codec's long name), so their second allocation costs less
    /// than 8 bytes on every short one.
    Heap(Box<Box<str>>),
}

/// The length of an inline text. As an enum of its 16 possible values it
/// leaves 240 byte values unused, and the compiler keeps the `SmallStr`
/// variant (and `Option`'s `None`) in those, so the length and the variant
/// share one byte and the text gets the other 15.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Len {
    L0,
    L1,
    L2,
    L3,
    L4,
    L5,
    L6,
    L7,
    L8,
    L9,
    L10,
    L11,
    L12,
    L13,
    L14,
    L15,
}

/// Each `Len` at the index of the length it stands for.
const LENS: [Len; INLINE + 1] = [
    Len::L0,
    Len::L1,
    Len::L2,
    Len::L3,
    Len::L4,
    Len::L5,
    Len::L6,
    Len::L7,
    Len::L8,
    Len::L9,
    Len::L10,
    Len::L11,
    Len::L12,
    Len::L13,
    Len::L14,
    Len::L15,
];

impl SmallStr {
    /// `text`, copied.
    pub(super) fn new(text: &str) -> SmallStr {
        SmallStr::concat("", text)
    }

    /// `head` followed by `tail`, without building the joined text first
    /// when it fits inline.
    pub(super) fn concat(head: &str, tail: &str) -> SmallStr {
        let len = head.len() + tail.len();
        if let Some(&tag) = LENS.get(len) {
            let mut bytes = [0; INLINE];
            // `len` is at most `INLINE`, so both ranges are in bounds; the
            // `get_mut`s say so without a panic path.
            if let Some(slot) = bytes.get_mut(..head.len()) {
                slot.copy_from_slice(head.as_bytes());
            }
            if let Some(slot) = bytes.get_mut(head.len()..len) {
                slot.copy_from_slice(tail.as_bytes());
            }
            SmallStr::Inline(tag, bytes)
        } else {
            let mut joined = String::with_capacity(len);
            joined.push_str(head);
            joined.push_str(tail);
            SmallStr::Heap(Box::new(joined.into_boxed_str()))
        }
    }

    /// `text`, keeping its allocation when it is too long to go inline.
    pub(super) fn from_string(text: String) -> SmallStr {
        if text.len() <= INLINE {
            SmallStr::new(&text)
        } else {
            SmallStr::Heap(Box::new(text.into_boxed_str()))
        }
    }

    /// The text.
    pub(super) fn as_str(&self) -> &str {
        match self {
            // Only `concat` writes the bytes, from whole `&str`s, so they
            // are always UTF-8 and `len` is always in bounds; the empty
            // fallback keeps this free of a panic path all the same.
            SmallStr::Inline(len, bytes) => bytes
                .get(..*len as usize)
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or_default(),
            SmallStr::Heap(text) => text,
        }
    }

    /// Whether the text lives inline (for the tests of the boundary).
    #[cfg(test)]
    pub(super) fn is_inline(&self) -> bool {
        matches!(self, SmallStr::Inline(..))
    }
}

impl Default for SmallStr {
    fn default() -> Self {
        SmallStr::Inline(Len::L0, [0; INLINE])
    }
}

impl PartialEq for SmallStr {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for SmallStr {}

impl PartialOrd for SmallStr {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SmallStr {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for SmallStr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for SmallStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_up_to_the_inline_size_stay_inline_and_longer_ones_do_not() {
        for len in 0..=40 {
            let text = "x".repeat(len);
            let (head, tail) = text.split_at(len / 2);
            for small in [
                SmallStr::new(&text),
                SmallStr::from_string(text.clone()),
                SmallStr::concat(head, tail),
            ] {
                assert_eq!(small.as_str(), text);
                assert_eq!(small.is_inline(), len <= INLINE, "{len}");
            }
        }
        assert_eq!(SmallStr::default().as_str(), "");
        assert_eq!(std::mem::size_of::<SmallStr>(), 16);
        assert_eq!(std::mem::size_of::<Option<SmallStr>>(), 16);
    }

    #[test]
    fn inline_and_heap_texts_compare_as_their_text() {
        let short = SmallStr::new("abc");
        let long = SmallStr::new("abc, then a text well over fifteen bytes");
        assert!(short < long);
        assert_eq!(short, SmallStr::from_string(String::from("abc")));
        assert_eq!(
            format!("{long:?}"),
            "\"abc, then a text well over fifteen bytes\""
        );
    }
}
