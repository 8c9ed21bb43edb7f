//! The fields of one log line, from a JSON object or a CSV row: the keys kls-rec reads, each
//! as text (JSON numbers as written, `null` as absent; the last of a repeated key wins), every
//! other key passed over without being kept. A log holds millions of lines, so a JSON line is
//! read straight into these fields, not into a map of all its values.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

/// The keys a log line may carry.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Fields {
    pub(crate) app: Option<String>,
    pub(crate) stream: Option<String>,
    pub(crate) vdoid: Option<String>,
    pub(crate) start: Option<String>,
    pub(crate) end: Option<String>,
    pub(crate) file: Option<String>,
    pub(crate) session: Option<String>,
}

impl Fields {
    /// The field named `key`, if kls-rec reads it.
    fn slot(&mut self, key: &str) -> Option<&mut Option<String>> {
        Some(match key {
            "app" => &mut self.app,
            "stream" => &mut self.stream,
            "vdoid" => &mut self.vdoid,
            "start" => &mut self.start,
            "end" => &mut self.end,
            "file" => &mut self.file,
            "session" => &mut self.session,
            _ => return None,
        })
    }

    /// A JSON object's fields; `Err` says why the line is not one.
    pub(crate) fn from_json(text: &str) -> Result<Fields, String> {
        serde_json::from_str(text).map_err(|e| {
            // Said as before the fields were read straight: not JSON, or JSON of another kind.
            match serde_json::from_str::<serde_json::Value>(text) {
                Ok(_) => "not a JSON object".to_string(),
                Err(_) => format!("not JSON: {e}"),
            }
        })
    }

    /// A CSV row under its header's columns (empty values are absent).
    pub(crate) fn from_csv(columns: &[String], text: &str) -> Fields {
        let mut fields = Fields::default();
        for (column, value) in columns.iter().zip(text.split(',').map(str::trim)) {
            if let Some(slot) = fields.slot(column)
                && !value.is_empty()
            {
                *slot = Some(value.to_string());
            }
        }
        fields
    }
}

/// A JSON value as the text of a field: strings as they are, numbers as written, `null` as
/// absent, anything else as its JSON text.
fn text_of(v: serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Null => None,
        other @ (serde_json::Value::Bool(_)
        | serde_json::Value::Array(_)
        | serde_json::Value::Object(_)) => Some(other.to_string()),
    }
}

impl<'de> serde::Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Fields, D::Error> {
        d.deserialize_map(FieldsVisitor)
    }
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Fields;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
        let mut fields = Fields::default();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match fields.slot(key.as_str()) {
                Some(slot) => *slot = text_of(map.next_value()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(fields)
    }
}

/// An object key, borrowed from the line where it has no escapes.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key<'de>, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(s))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(s.to_string()))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_fields_read_as_the_map_of_every_value_read_them() {
        let f = Fields::from_json(
            r#"{"app":"live","stream":"c\u0061m","start":1585829187,"end":1.5e3,"vdoid":null,
                "file":true,"x":{"y":[1,2]},"session":"a","session":"b","st\u0061rt":"later"}"#,
        )
        .unwrap();
        assert_eq!(f.app.as_deref(), Some("live"));
        assert_eq!(f.stream.as_deref(), Some("cam"));
        assert_eq!(f.start.as_deref(), Some("later"));
        assert_eq!(f.end.as_deref(), Some("1500.0"));
        assert_eq!(f.vdoid, None);
        assert_eq!(f.file.as_deref(), Some("true"));
        assert_eq!(f.session.as_deref(), Some("b"));
        assert_eq!(
            Fields::from_json("[1]").unwrap_err(),
            "not a JSON object".to_string()
        );
        assert!(
            Fields::from_json("{\"a\":")
                .unwrap_err()
                .starts_with("not JSON: ")
        );
    }

    #[test]
    fn csv_fields_follow_the_header() {
        let columns: Vec<String> = ["stream", "other", "start", "end"]
            .map(String::from)
            .to_vec();
        let f = Fields::from_csv(&columns, " cam , x ,1585829187,");
        assert_eq!(f.stream.as_deref(), Some("cam"));
        assert_eq!(f.start.as_deref(), Some("1585829187"));
        assert_eq!(f.end, None);
    }
}
