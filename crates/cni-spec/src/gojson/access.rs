//! The serde access types behind `de.rs`: struct fields with Go's key folding, plain maps,
//! arrays, and externally tagged enums. Each one adds its key or index to errors that pass
//! through it, which is how a decode error learns its path.

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{
    DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};
use serde_json::{Map, Value};

use super::DecodeError;
use super::de::ValueDe;

/// A struct's fields matched against an object's keys the way Go's `encoding/json` matches
/// them: each key goes to the field of exactly its name, else to a field equal ignoring ASCII
/// case; keys matching no field are skipped; `null` values count as absent.
pub(super) struct StructFields<'de> {
    /// (field name as the derive knows it, key as the user wrote it, value).
    entries: std::vec::IntoIter<(&'static str, &'de str, &'de Value)>,
    pending: Option<(&'de str, &'de Value)>,
}

impl<'de> StructFields<'de> {
    pub(super) fn new(map: &'de Map<String, Value>, fields: &'static [&'static str]) -> Self {
        let mut entries: Vec<(&'static str, &'de str, &'de Value)> = Vec::new();
        for (key, value) in map.iter().filter(|(_, v)| !v.is_null()) {
            let exact = fields.iter().find(|f| **f == key.as_str());
            let Some(field) = exact.or_else(|| fields.iter().find(|f| f.eq_ignore_ascii_case(key)))
            else {
                continue;
            };
            match entries.iter_mut().find(|(f, _, _)| f == field) {
                // A folded key never displaces one that matched exactly.
                Some(slot) if exact.is_some() => *slot = (field, key, value),
                Some(_) => {}
                None => entries.push((field, key, value)),
            }
        }
        StructFields {
            entries: entries.into_iter(),
            pending: None,
        }
    }
}

impl<'de> MapAccess<'de> for StructFields<'de> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        let Some((field, key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.pending = Some((key, value));
        seed.deserialize(BorrowedStrDeserializer::<DecodeError>::new(field))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        let (key, value) = self.pending.take().ok_or_else(value_before_key)?;
        seed.deserialize(ValueDe(value))
            .map_err(|e| e.within_key(key))
    }
}

/// Every entry of an object, keys as written (for maps and `serde_json::Value` itself).
pub(super) struct MapEntries<'de> {
    entries: serde_json::map::Iter<'de>,
    pending: Option<(&'de str, &'de Value)>,
}

impl<'de> MapEntries<'de> {
    pub(super) fn new(map: &'de Map<String, Value>) -> Self {
        MapEntries {
            entries: map.iter(),
            pending: None,
        }
    }
}

impl<'de> MapAccess<'de> for MapEntries<'de> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.pending = Some((key, value));
        seed.deserialize(BorrowedStrDeserializer::<DecodeError>::new(key))
            .map(Some)
            .map_err(|e| e.within_key(key))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        let (key, value) = self.pending.take().ok_or_else(value_before_key)?;
        seed.deserialize(ValueDe(value))
            .map_err(|e| e.within_key(key))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

fn value_before_key() -> DecodeError {
    serde::de::Error::custom("map value requested before its key")
}

/// The items of an array.
pub(super) struct SeqItems<'de> {
    items: std::iter::Enumerate<std::slice::Iter<'de, Value>>,
}

impl<'de> SeqItems<'de> {
    pub(super) fn new(items: &'de [Value]) -> Self {
        SeqItems {
            items: items.iter().enumerate(),
        }
    }
}

impl<'de> SeqAccess<'de> for SeqItems<'de> {
    type Error = DecodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DecodeError> {
        let Some((index, value)) = self.items.next() else {
            return Ok(None);
        };
        seed.deserialize(ValueDe(value))
            .map(Some)
            .map_err(|e| e.within_index(index))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// An enum written as `{"Variant": content}`.
pub(super) struct ObjectEnum<'de> {
    pub(super) key: &'de str,
    pub(super) value: &'de Value,
}

impl<'de> EnumAccess<'de> for ObjectEnum<'de> {
    type Error = DecodeError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), DecodeError> {
        let variant = seed.deserialize(BorrowedStrDeserializer::<DecodeError>::new(self.key))?;
        Ok((variant, self))
    }
}

impl<'de> VariantAccess<'de> for ObjectEnum<'de> {
    type Error = DecodeError;

    fn unit_variant(self) -> Result<(), DecodeError> {
        serde::Deserialize::deserialize(ValueDe(self.value)).map_err(|e| e.within_key(self.key))
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, DecodeError> {
        seed.deserialize(ValueDe(self.value))
            .map_err(|e| e.within_key(self.key))
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        ValueDe(self.value)
            .deserialize_seq(visitor)
            .map_err(|e| e.within_key(self.key))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        ValueDe(self.value)
            .deserialize_struct("", fields, visitor)
            .map_err(|e| e.within_key(self.key))
    }
}
