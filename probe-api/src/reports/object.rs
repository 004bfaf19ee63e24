//! Report structs that keep the fields they do not name, decoded in one pass.
//!
//! `#[serde(flatten)]` would keep unknown fields too, but serde decodes such
//! a struct by first buffering every field of the object into its own
//! generic tree and then decoding the named ones from that copy, which made
//! a typed FFprobe report slower to decode than a `serde_json::Value` of
//! the same bytes and several times larger while decoding. [`object!`]
//! writes the `Deserialize` impl instead: each named field is decoded
//! straight into its type, every other field into `extra`, in the order
//! they come. `Serialize` stays derived (`flatten` costs nothing there).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserializer;
use serde::de::{self, Deserialize, Visitor};

/// An object key: borrowed from the input when it can be, so matching a
/// named field allocates nothing.
pub(super) struct Key<'de>(pub(super) Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// The value of a field the object did not have: `None` for an `Option`,
/// else the "missing field" error, as serde's derive decides.
pub(super) fn missing<'de, T: Deserialize<'de>, E: de::Error>(field: &'static str) -> Result<T, E> {
    T::deserialize(Missing(field, PhantomData))
}

struct Missing<E>(&'static str, PhantomData<E>);

impl<'de, E: de::Error> Deserializer<'de> for Missing<E> {
    type Error = E;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, E> {
        Err(E::missing_field(self.0))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        visitor.visit_none()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// Defines a report struct whose last field, `extra`, keeps every field of
/// the object that the struct does not name, with a one-pass
/// `Deserialize` (see the module docs) and an inherent `from_fields` that
/// decodes the rest of a map whose first entries were already read.
///
/// Field names are the JSON names. The struct's own attributes must derive
/// `Serialize` but not `Deserialize`.
macro_rules! object {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_meta:meta])*
                pub $field:ident : $ty:ty,
            )*
        }
        extra: $extra_doc:literal
    ) => {
        $(#[$meta])*
        pub struct $name {
            $(
                $(#[$field_meta])*
                pub $field: $ty,
            )*
            #[doc = $extra_doc]
            #[serde(flatten)]
            pub extra: ::serde_json::Map<String, ::serde_json::Value>,
        }

        impl $name {
            /// Decodes the remaining entries of `map` as this object, with
            /// `extra` holding what was read before.
            fn from_fields<'de, A: ::serde::de::MapAccess<'de>>(
                mut map: A,
                mut extra: ::serde_json::Map<String, ::serde_json::Value>,
            ) -> Result<Self, A::Error> {
                $( let mut $field: Option<$ty> = None; )*
                while let Some(key) = map.next_key::<$crate::reports::object::Key<'de>>()? {
                    match key.0.as_ref() {
                        $(
                            stringify!($field) => {
                                if $field.is_some() {
                                    return Err(<A::Error as ::serde::de::Error>::duplicate_field(
                                        stringify!($field),
                                    ));
                                }
                                $field = Some(map.next_value()?);
                            }
                        )*
                        _ => {
                            let value = map.next_value()?;
                            extra.insert(key.0.into_owned(), value);
                        }
                    }
                }
                Ok($name {
                    $(
                        $field: match $field {
                            Some(value) => value,
                            None => $crate::reports::object::missing(stringify!($field))?,
                        },
                    )*
                    extra,
                })
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct ObjectVisitor;
                impl<'de> ::serde::de::Visitor<'de> for ObjectVisitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("an object (", stringify!($name), ")"))
                    }
                    fn visit_map<A: ::serde::de::MapAccess<'de>>(self, map: A) -> Result<$name, A::Error> {
                        $name::from_fields(map, ::serde_json::Map::new())
                    }
                }
                deserializer.deserialize_map(ObjectVisitor)
            }
        }
    };
}

pub(super) use object;
