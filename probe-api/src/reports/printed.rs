//! Numbers the tools print as text: the text as printed, and what it means.
//!
//! FFprobe prints durations, bit rates and frame rates as JSON strings
//! (`"duration": "2.002000"`, `"r_frame_rate": "30000/1001"`); MediaInfo
//! prints nearly every value that way. [`Printed`] keeps the exact text (so
//! a report serializes back to what the tool printed) and parses it on
//! request into a [`Duration`], an integer, a [`Rational`] or a float.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::inline::SmallStr;

/// A value a tool printed, as text, with the meaning `T` it stands for.
///
/// Deserializes from a JSON string or number and serializes back to the
/// same JSON type and text.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Printed<T> {
    // One byte saying whether the tool printed a JSON number (`NUMBER`) or a
    // string (`TEXT`), then the text. A report holds thousands of these (a
    // frame has a dozen), nearly all short (`"0.033367"`), so the text sits
    // inline up to 15 bytes, tag included (see `inline.rs`), and goes to
    // the heap only beyond.
    tagged: SmallStr,
    meaning: PhantomData<fn() -> T>,
}

/// A number's text, written without an allocation (the longest `u64`,
/// `i64` or `f64` text is 24 bytes).
struct NumberText {
    bytes: [u8; 32],
    len: usize,
}

impl NumberText {
    fn of(value: impl fmt::Display) -> Self {
        use fmt::Write as _;
        let mut text = NumberText {
            bytes: [0; 32],
            len: 0,
        };
        // A number's text always fits; were it not to, the text is cut at a
        // whole character, never a panic.
        let _ = write!(text, "{value}");
        text
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

impl fmt::Write for NumberText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

// One ASCII byte each, so the text starts at byte 1.
const TEXT: &str = "s";
const NUMBER: &str = "n";

impl<T> Printed<T> {
    fn tagged(tag: &str, text: &str) -> Self {
        Printed {
            tagged: SmallStr::concat(tag, text),
            meaning: PhantomData,
        }
    }

    fn is_number(&self) -> bool {
        self.tagged.as_str().starts_with(NUMBER)
    }
}

/// How a printed text becomes a value.
pub trait FromPrinted: Sized {
    /// The value the text stands for, if it stands for one.
    fn from_printed(text: &str) -> Option<Self>;
}

impl<T> Printed<T> {
    /// The text exactly as the tool printed it.
    pub fn raw(&self) -> &str {
        // The tag is one ASCII byte.
        self.tagged.as_str().get(1..).unwrap_or_default()
    }
}

impl<T: FromPrinted> Printed<T> {
    /// The value the text stands for; `None` when it is not one (such as
    /// FFprobe's `"N/A"`, or a frame rate of `"0/0"`).
    pub fn value(&self) -> Option<T> {
        T::from_printed(self.raw().trim())
    }
}

impl<T> fmt::Debug for Printed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.raw(), f)
    }
}

impl<T> fmt::Display for Printed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw())
    }
}

impl<T> From<&str> for Printed<T> {
    fn from(text: &str) -> Self {
        Printed::tagged(TEXT, text)
    }
}

impl<T> Serialize for Printed<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.is_number()
            && let Ok(number) = self.raw().parse::<serde_json::Number>()
        {
            return number.serialize(serializer);
        }
        serializer.serialize_str(self.raw())
    }
}

impl<'de, T> Deserialize<'de> for Printed<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text<T>(PhantomData<fn() -> T>);
        impl<T> Visitor<'_> for Text<T> {
            type Value = Printed<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Printed::tagged(TEXT, v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Printed::tagged(NUMBER, NumberText::of(v).as_str()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Printed::tagged(NUMBER, NumberText::of(v).as_str()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                let n = serde_json::Number::from_f64(v)
                    .ok_or_else(|| E::custom("a number that is not finite"))?;
                Ok(Printed::tagged(NUMBER, NumberText::of(n).as_str()))
            }
        }
        deserializer.deserialize_any(Text(PhantomData))
    }
}

impl FromPrinted for u64 {
    fn from_printed(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

impl FromPrinted for i64 {
    fn from_printed(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

impl FromPrinted for u32 {
    fn from_printed(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

impl FromPrinted for f64 {
    fn from_printed(text: &str) -> Option<Self> {
        text.parse().ok().filter(|v: &f64| v.is_finite())
    }
}

impl FromPrinted for String {
    fn from_printed(text: &str) -> Option<Self> {
        Some(text.to_string())
    }
}

impl FromPrinted for bool {
    /// `"1"`/`"0"` as FFprobe prints flags, and `"Yes"`/`"No"` as MediaInfo does.
    fn from_printed(text: &str) -> Option<Self> {
        match text {
            "1" | "true" | "Yes" | "yes" => Some(true),
            "0" | "false" | "No" | "no" => Some(false),
            _ => None,
        }
    }
}

/// A time in seconds as the tools print it (`"2.002000"`, `"-0.021333"`),
/// exact to the nanosecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seconds {
    nanos: i128,
}

impl Seconds {
    /// As a `Duration`; `None` when negative (an audio stream may start
    /// before zero).
    pub fn as_duration(self) -> Option<Duration> {
        let nanos = u64::try_from(self.nanos).ok()?;
        Some(Duration::from_nanos(nanos))
    }

    /// As seconds in floating point.
    pub fn as_secs_f64(self) -> f64 {
        self.nanos as f64 / 1e9
    }

    /// Whole nanoseconds, possibly negative.
    pub fn as_nanos(self) -> i128 {
        self.nanos
    }
}

impl FromPrinted for Seconds {
    fn from_printed(text: &str) -> Option<Self> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty() && fraction.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let whole: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        let mut nanos_text: String = fraction.chars().take(9).collect();
        while nanos_text.len() < 9 {
            nanos_text.push('0');
        }
        let fraction: i128 = nanos_text.parse().ok()?;
        let nanos = whole.checked_mul(1_000_000_000)?.checked_add(fraction)?;
        Some(Seconds {
            nanos: if negative { -nanos } else { nanos },
        })
    }
}

impl FromPrinted for Duration {
    fn from_printed(text: &str) -> Option<Self> {
        Seconds::from_printed(text)?.as_duration()
    }
}

/// An exact fraction such as a frame rate (`30000/1001`), a time base
/// (`1/90000`) or an aspect ratio (`16:9`), in lowest terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rational {
    numerator: i64,
    denominator: i64,
}

impl Rational {
    /// `numerator / denominator` in lowest terms; `None` when the
    /// denominator is zero (FFprobe prints `0/0` for "unknown").
    pub fn new(numerator: i64, denominator: i64) -> Option<Rational> {
        if denominator == 0 {
            return None;
        }
        let divisor = gcd(numerator.unsigned_abs(), denominator.unsigned_abs()).max(1);
        let sign: i64 = if denominator < 0 { -1 } else { 1 };
        let divisor = i64::try_from(divisor).ok()?;
        Some(Rational {
            numerator: (numerator / divisor).checked_mul(sign)?,
            denominator: (denominator / divisor).checked_mul(sign)?,
        })
    }

    /// The numerator (carries the sign).
    pub fn numerator(self) -> i64 {
        self.numerator
    }

    /// The denominator (always positive).
    pub fn denominator(self) -> i64 {
        self.denominator
    }

    /// The value in floating point, such as 29.97002997.
    pub fn as_f64(self) -> f64 {
        self.numerator as f64 / self.denominator as f64
    }
}

impl fmt::Display for Rational {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.numerator, self.denominator)
    }
}

impl FromStr for Rational {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Rational::from_printed(text)
            .ok_or_else(|| format!("`{text}` is not a fraction like 30000/1001"))
    }
}

impl FromPrinted for Rational {
    fn from_printed(text: &str) -> Option<Self> {
        let (n, d) = text.split_once('/').or_else(|| text.split_once(':'))?;
        Rational::new(n.trim().parse().ok()?, d.trim().parse().ok()?)
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::super::inline::INLINE;
    use super::*;

    #[test]
    fn seconds_are_exact_and_may_be_negative() {
        let s = Seconds::from_printed("2.002000").expect("seconds");
        assert_eq!(s.as_duration(), Some(Duration::from_millis(2002)));
        let early = Seconds::from_printed("-0.021333").expect("negative");
        assert_eq!(early.as_nanos(), -21_333_000);
        assert_eq!(early.as_duration(), None);
        assert_eq!(
            Seconds::from_printed("1.0000000019").map(Seconds::as_nanos),
            Some(1_000_000_001)
        );
        for bad in ["N/A", "", ".", "1.2.3", "1e3", "-"] {
            assert_eq!(Seconds::from_printed(bad), None, "{bad}");
        }
    }

    #[test]
    fn rationals_are_reduced_and_zero_denominators_refused() {
        let ntsc = Rational::from_printed("30000/1001").expect("rate");
        assert_eq!((ntsc.numerator(), ntsc.denominator()), (30000, 1001));
        assert!((ntsc.as_f64() - 29.970_029_97).abs() < 1e-6);
        assert_eq!(Rational::from_printed("4:3"), Rational::new(4, 3));
        assert_eq!(Rational::from_printed("50/2"), Rational::new(25, 1));
        assert_eq!(Rational::from_printed("0/0"), None);
        assert_eq!(Rational::new(3, -6), Rational::new(-1, 2));
        assert_eq!(
            Rational::new(i64::MIN, 1).map(|r| r.numerator()),
            Some(i64::MIN)
        );
        assert_eq!(
            Rational::new(1, i64::MIN),
            None,
            "no positive denominator exists"
        );
    }

    #[test]
    fn printed_values_round_trip_as_strings_or_numbers() {
        let text: Printed<u64> = serde_json::from_str("\"48000\"").expect("string");
        assert_eq!(text.value(), Some(48000));
        assert_eq!(serde_json::to_string(&text).expect("json"), "\"48000\"");
        let number: Printed<f64> = serde_json::from_str("0.5").expect("number");
        assert_eq!(number.value(), Some(0.5));
        assert_eq!(serde_json::to_string(&number).expect("json"), "0.5");
        let na: Printed<u64> = serde_json::from_str("\"N/A\"").expect("string");
        assert_eq!((na.value(), na.raw()), (None, "N/A"));
        assert!(serde_json::from_str::<Printed<u64>>("[1]").is_err());
    }

    #[test]
    fn texts_of_every_length_keep_their_exact_text_inline_or_not() {
        // The inline buffer holds the tag and 14 bytes: test each side of
        // that edge and of the 21 bytes it held before, a character that
        // straddles each, and numbers.
        for text in [
            "",
            "0.033367",
            "12345678901234",
            "123456789012345",
            "1234567890123é",
            "123456789012é",
            "123456789012345678901",
            "1234567890123456789012",
            "12345678901234567890é",
            "1234567890123456789é",
            "ünïcödé text that is long enough to live on the heap",
        ] {
            let printed = Printed::<String>::from(text);
            assert_eq!(printed.raw(), text);
            assert_eq!(printed.value().as_deref(), Some(text));
            let json = serde_json::to_string(&printed).expect("json");
            let back: Printed<String> = serde_json::from_str(&json).expect("back");
            assert_eq!(back, printed, "{text}");
        }
        for number in ["-9223372036854775808", "18446744073709551615", "-12.25"] {
            let printed: Printed<f64> = serde_json::from_str(number).expect("number");
            assert_eq!(serde_json::to_string(&printed).expect("json"), number);
        }
        assert!(std::mem::size_of::<Option<Printed<Seconds>>>() <= 24);
    }

    #[test]
    fn every_length_keeps_its_text_and_kind_on_both_sides_of_the_inline_edge() {
        for len in 0..=40 {
            let text: String = ('a'..='z').cycle().take(len).collect();
            let printed = Printed::<String>::from(text.as_str());
            // The tag takes one of the 15 inline bytes.
            assert_eq!(printed.tagged.is_inline(), len < INLINE, "{len}");
            assert_eq!((printed.raw(), printed.is_number()), (text.as_str(), false));
            let json = serde_json::to_string(&printed).expect("json");
            assert_eq!(json, serde_json::to_string(&text).expect("json"));
            let back: Printed<String> = serde_json::from_str(&json).expect("back");
            assert_eq!(back, printed, "{len}");
            assert_eq!(back.raw(), text);

            // Up to 20 digits a number is a `u64`, printed back digit for
            // digit (wider ones are read as an `f64`, tested above).
            if (1..=20).contains(&len) {
                let digits: String = "123456789".chars().cycle().take(len).collect();
                let number: Printed<u64> = serde_json::from_str(&digits).expect("number");
                assert_eq!(number.tagged.is_inline(), len < INLINE, "{len}");
                assert_eq!((number.raw(), number.is_number()), (digits.as_str(), true));
                assert_eq!(serde_json::to_string(&number).expect("json"), digits);
            }
        }
        assert_eq!(std::mem::size_of::<Printed<Seconds>>(), 16);
        assert_eq!(std::mem::size_of::<Option<Printed<Seconds>>>(), 16);
    }
}
