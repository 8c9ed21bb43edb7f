//! AMF0, the Action Message Format of FLV script tags and RTMP commands (Adobe "Action Message
//! Format -- AMF 0", December 2007, §2 "AMF 0 Data Types").
//!
//! [`decode`] reads one value and [`encode`] writes one; objects and ECMA arrays keep their keys in
//! source order, so a re-encoded `onMetaData` lists its fields as the encoder wrote them.
//!
//! Hostile input is expected (dumps of untrusted pushes): every length is checked against the bytes
//! left before anything is allocated, nesting deeper than [`MAX_DEPTH`] is an error rather than a
//! stack overflow, and strings are decoded as lossy UTF-8 (§1.3 says UTF-8; encoders do not always
//! obey). AMF3 (the `avmplus-object` switch, marker 0x11) is reported as unsupported.

use std::fmt;

/// Deepest nesting of objects/arrays accepted (the outermost value is depth 1). Real metadata
/// and commands nest two or three levels; 64 bounds the recursion far below any stack limit.
pub(crate) const MAX_DEPTH: usize = 64;

/// Type markers (§2.1).
mod marker {
    pub(crate) const NUMBER: u8 = 0x00;
    pub(crate) const BOOLEAN: u8 = 0x01;
    pub(crate) const STRING: u8 = 0x02;
    pub(crate) const OBJECT: u8 = 0x03;
    /// Reserved, "not supported" (§2.6).
    pub(crate) const MOVIECLIP: u8 = 0x04;
    pub(crate) const NULL: u8 = 0x05;
    pub(crate) const UNDEFINED: u8 = 0x06;
    pub(crate) const REFERENCE: u8 = 0x07;
    pub(crate) const ECMA_ARRAY: u8 = 0x08;
    pub(crate) const OBJECT_END: u8 = 0x09;
    pub(crate) const STRICT_ARRAY: u8 = 0x0A;
    pub(crate) const DATE: u8 = 0x0B;
    pub(crate) const LONG_STRING: u8 = 0x0C;
    pub(crate) const UNSUPPORTED: u8 = 0x0D;
    /// Reserved, "not supported" (§2.15).
    pub(crate) const RECORDSET: u8 = 0x0E;
    pub(crate) const XML_DOCUMENT: u8 = 0x0F;
    pub(crate) const TYPED_OBJECT: u8 = 0x10;
    pub(crate) const AVMPLUS: u8 = 0x11;
}

/// One AMF0 value. Property lists keep source order (a `Vec`, not a map).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Number(f64),
    Boolean(bool),
    String(String),
    Object(Vec<(String, Value)>),
    Null,
    Undefined,
    /// Index of an earlier complex value in the same message (§2.9); kept, never resolved.
    Reference(u16),
    /// The associative-count field is only a hint (encoders get it wrong); the properties are read
    /// up to the object-end marker, and [`encode`] writes the real count.
    EcmaArray(Vec<(String, Value)>),
    StrictArray(Vec<Value>),
    /// Milliseconds since the Unix epoch, and the time-zone field (§2.13: "should be 0").
    Date {
        millis: f64,
        tz: i16,
    },
    LongString(String),
    Unsupported,
    XmlDocument(String),
    TypedObject {
        class_name: String,
        properties: Vec<(String, Value)>,
    },
}

impl Value {
    /// The properties of an object, ECMA array or typed object.
    pub(crate) fn properties(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Object(p) | Value::EcmaArray(p) => Some(p),
            Value::TypedObject { properties, .. } => Some(properties),
            _ => None,
        }
    }

    /// The first property named `key` of an object, ECMA array or typed object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.properties()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The text of a string, long string or XML document.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::LongString(s) | Value::XmlDocument(s) => Some(s),
            _ => None,
        }
    }

    #[cfg(test)]
    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }
}

/// A value that could not be decoded: the byte offset (from the start of the decoded buffer)
/// and what failed there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Amf0Error {
    pub offset: usize,
    pub(crate) what: String,
}

impl fmt::Display for Amf0Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AMF0 at byte {}: {}", self.offset, self.what)
    }
}

impl std::error::Error for Amf0Error {}

/// Decodes one value from the start of `buf`; returns it and the number of bytes it used.
pub fn decode(buf: &[u8]) -> Result<(Value, usize), Amf0Error> {
    let mut r = Reader { buf, pos: 0 };
    let v = r.value(1)?;
    Ok((v, r.pos))
}

/// Decodes consecutive values filling `buf` (a script tag body, an RTMP command message).
pub fn decode_all(buf: &[u8]) -> Result<Vec<Value>, Amf0Error> {
    let mut r = Reader { buf, pos: 0 };
    let mut out = Vec::new();
    while r.pos < buf.len() {
        out.push(r.value(1)?);
    }
    Ok(out)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn err<T>(&self, at: usize, what: impl Into<String>) -> Result<T, Amf0Error> {
        Err(Amf0Error {
            offset: at,
            what: what.into(),
        })
    }

    fn take(&mut self, n: usize, field: &str) -> Result<&[u8], Amf0Error> {
        let left = self.buf.len() - self.pos;
        if n > left {
            return self.err(self.pos, format!("{field}: needs {n} bytes, {left} left"));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, field: &str) -> Result<[u8; N], Amf0Error> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, field)?);
        Ok(a)
    }

    fn u8(&mut self, field: &str) -> Result<u8, Amf0Error> {
        Ok(self.array::<1>(field)?[0])
    }

    fn u16(&mut self, field: &str) -> Result<u16, Amf0Error> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    fn u32(&mut self, field: &str) -> Result<u32, Amf0Error> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    fn f64(&mut self, field: &str) -> Result<f64, Amf0Error> {
        Ok(f64::from_be_bytes(self.array(field)?))
    }

    /// UTF-8 (§1.3.1): a 16-bit length, then the bytes.
    fn utf8(&mut self, field: &str) -> Result<String, Amf0Error> {
        let n = self.u16(field)? as usize;
        Ok(String::from_utf8_lossy(self.take(n, field)?).into_owned())
    }

    /// UTF-8-long: a 32-bit length, then the bytes; `take` rejects a length beyond the buffer
    /// before anything is allocated.
    fn utf8_long(&mut self, field: &str) -> Result<String, Amf0Error> {
        let n = self.u32(field)? as usize;
        Ok(String::from_utf8_lossy(self.take(n, field)?).into_owned())
    }

    fn value(&mut self, depth: usize) -> Result<Value, Amf0Error> {
        let at = self.pos;
        let m = self.u8("type marker")?;
        Ok(match m {
            marker::NUMBER => Value::Number(self.f64("number")?),
            marker::BOOLEAN => Value::Boolean(self.u8("boolean")? != 0),
            marker::STRING => Value::String(self.utf8("string length")?),
            marker::OBJECT => Value::Object(self.properties(at, depth, "object")?),
            marker::NULL => Value::Null,
            marker::UNDEFINED => Value::Undefined,
            marker::REFERENCE => Value::Reference(self.u16("reference index")?),
            marker::ECMA_ARRAY => {
                // The count is a hint only: the properties end at the object-end marker.
                self.u32("ECMA array count")?;
                Value::EcmaArray(self.properties(at, depth, "ECMA array")?)
            }
            marker::STRICT_ARRAY => {
                let count = self.u32("strict array count")? as usize;
                // Each element takes at least its marker byte: a larger count cannot be honest.
                if count > self.buf.len() - self.pos {
                    return self.err(
                        at,
                        format!(
                            "strict array count {count} exceeds the {} bytes left",
                            self.buf.len() - self.pos
                        ),
                    );
                }
                self.check_depth(at, depth)?;
                let mut items = Vec::with_capacity(count);
                for _ in 0..count {
                    items.push(self.value(depth + 1)?);
                }
                Value::StrictArray(items)
            }
            marker::DATE => Value::Date {
                millis: self.f64("date")?,
                tz: i16::from_be_bytes(self.array("date time-zone")?),
            },
            marker::LONG_STRING => Value::LongString(self.utf8_long("long string length")?),
            marker::UNSUPPORTED => Value::Unsupported,
            marker::XML_DOCUMENT => Value::XmlDocument(self.utf8_long("XML document length")?),
            marker::TYPED_OBJECT => {
                let class_name = self.utf8("typed object class name")?;
                let properties = self.properties(at, depth, "typed object")?;
                Value::TypedObject {
                    class_name,
                    properties,
                }
            }
            marker::OBJECT_END => return self.err(at, "object-end marker outside an object"),
            marker::MOVIECLIP | marker::RECORDSET => {
                return self.err(at, format!("reserved type marker 0x{m:02x}"));
            }
            marker::AVMPLUS => return self.err(at, "AMF3 value (avmplus-object) not supported"),
            _ => return self.err(at, format!("unknown type marker 0x{m:02x}")),
        })
    }

    fn check_depth(&self, at: usize, depth: usize) -> Result<(), Amf0Error> {
        if depth >= MAX_DEPTH {
            return self.err(at, format!("nesting deeper than {MAX_DEPTH} levels"));
        }
        Ok(())
    }

    /// Key/value pairs up to the empty key followed by the object-end marker (§2.5).
    fn properties(
        &mut self,
        at: usize,
        depth: usize,
        what: &str,
    ) -> Result<Vec<(String, Value)>, Amf0Error> {
        self.check_depth(at, depth)?;
        let mut props = Vec::new();
        loop {
            if self.pos >= self.buf.len() {
                return self.err(
                    self.pos,
                    format!("{what} not terminated (no object-end marker)"),
                );
            }
            let key = self.utf8("property name length")?;
            if key.is_empty() && self.buf.get(self.pos) == Some(&marker::OBJECT_END) {
                self.pos += 1;
                return Ok(props);
            }
            let v = self.value(depth + 1)?;
            props.push((key, v));
        }
    }
}

/// Encodes one value. Lengths that do not fit their field are made to fit, since AMF0 cannot
/// express them: a `String` over 65535 bytes is written as a long string, a property name over
/// 65535 bytes is cut at the last character boundary that fits, and counts saturate at 2^32 − 1.
pub fn encode(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Number(n) => {
            out.push(marker::NUMBER);
            out.extend_from_slice(&n.to_be_bytes());
        }
        Value::Boolean(b) => out.extend_from_slice(&[marker::BOOLEAN, u8::from(*b)]),
        Value::String(s) if s.len() <= u16::MAX as usize => {
            out.push(marker::STRING);
            put_utf8(s, out);
        }
        Value::String(s) | Value::LongString(s) => {
            out.push(marker::LONG_STRING);
            put_utf8_long(s, out);
        }
        Value::Object(p) => {
            out.push(marker::OBJECT);
            put_properties(p, out);
        }
        Value::Null => out.push(marker::NULL),
        Value::Undefined => out.push(marker::UNDEFINED),
        Value::Reference(i) => {
            out.push(marker::REFERENCE);
            out.extend_from_slice(&i.to_be_bytes());
        }
        Value::EcmaArray(p) => {
            out.push(marker::ECMA_ARRAY);
            out.extend_from_slice(&count_u32(p.len()).to_be_bytes());
            put_properties(p, out);
        }
        Value::StrictArray(items) => {
            out.push(marker::STRICT_ARRAY);
            out.extend_from_slice(&count_u32(items.len()).to_be_bytes());
            for item in items {
                encode(item, out);
            }
        }
        Value::Date { millis, tz } => {
            out.push(marker::DATE);
            out.extend_from_slice(&millis.to_be_bytes());
            out.extend_from_slice(&tz.to_be_bytes());
        }
        Value::Unsupported => out.push(marker::UNSUPPORTED),
        Value::XmlDocument(s) => {
            out.push(marker::XML_DOCUMENT);
            put_utf8_long(s, out);
        }
        Value::TypedObject {
            class_name,
            properties,
        } => {
            out.push(marker::TYPED_OBJECT);
            put_utf8(class_name, out);
            put_properties(properties, out);
        }
    }
}

fn count_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn put_utf8(s: &str, out: &mut Vec<u8>) {
    let s = cut(s, u16::MAX as usize);
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_utf8_long(s: &str, out: &mut Vec<u8>) {
    let s = cut(s, u32::MAX as usize);
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_properties(p: &[(String, Value)], out: &mut Vec<u8>) {
    for (k, v) in p {
        put_utf8(k, out);
        encode(v, out);
    }
    // Empty name then the object-end marker (§2.5).
    out.extend_from_slice(&[0, 0, marker::OBJECT_END]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(v: &Value) {
        let mut out = Vec::new();
        encode(v, &mut out);
        let (back, used) = decode(&out).unwrap();
        assert_eq!(&back, v);
        assert_eq!(used, out.len());
    }

    #[test]
    fn round_trips_every_type() {
        let all = Value::Object(vec![
            ("n".into(), Value::Number(-1.5)),
            ("b".into(), Value::Boolean(true)),
            ("s".into(), Value::String("héllo".into())),
            ("null".into(), Value::Null),
            ("u".into(), Value::Undefined),
            ("r".into(), Value::Reference(7)),
            (
                "e".into(),
                Value::EcmaArray(vec![
                    ("z".into(), Value::Number(1.0)),
                    ("a".into(), Value::Number(2.0)),
                ]),
            ),
            (
                "sa".into(),
                Value::StrictArray(vec![Value::Null, Value::String(String::new())]),
            ),
            (
                "d".into(),
                Value::Date {
                    millis: 1.764072e12,
                    tz: -60,
                },
            ),
            ("ls".into(), Value::LongString("long".into())),
            ("un".into(), Value::Unsupported),
            ("x".into(), Value::XmlDocument("<a/>".into())),
            (
                "t".into(),
                Value::TypedObject {
                    class_name: "C".into(),
                    properties: vec![("k".into(), Value::Boolean(false))],
                },
            ),
            (String::new(), Value::Number(0.0)),
        ]);
        round_trip(&all);
        round_trip(&Value::EcmaArray(Vec::new()));
    }

    #[test]
    fn keeps_key_order_and_reads_a_wrong_ecma_count() {
        // ECMA array claiming 5 entries but holding 2, as some encoders write it.
        let mut b = vec![marker::ECMA_ARRAY, 0, 0, 0, 5];
        for (k, n) in [("width", 320.0f64), ("height", 240.0)] {
            b.extend_from_slice(&(k.len() as u16).to_be_bytes());
            b.extend_from_slice(k.as_bytes());
            b.push(marker::NUMBER);
            b.extend_from_slice(&n.to_be_bytes());
        }
        b.extend_from_slice(&[0, 0, 9]);
        let (v, used) = decode(&b).unwrap();
        assert_eq!(used, b.len());
        let keys: Vec<_> = v
            .properties()
            .unwrap()
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(keys, ["width", "height"]);
        assert_eq!(v.get("height").and_then(Value::as_f64), Some(240.0));
    }

    #[test]
    fn long_strings_are_written_as_long_strings() {
        let s = "x".repeat(70_000);
        let mut out = Vec::new();
        encode(&Value::String(s.clone()), &mut out);
        assert_eq!(out[0], marker::LONG_STRING);
        assert_eq!(decode(&out).unwrap().0, Value::LongString(s));
    }

    #[test]
    fn decodes_the_fixture_onmetadata() {
        let flv = std::fs::read(crate::testutil::testdata("studio-1764072000.flv")).unwrap();
        // FLV header (9) + PreviousTagSize0 (4), then the script tag's 11-byte header.
        let size = u32::from_be_bytes([0, flv[14], flv[15], flv[16]]) as usize;
        let body = &flv[24..24 + size];
        let values = decode_all(body).unwrap();
        assert_eq!(values.len(), 2);
        assert_eq!(values[0].as_str(), Some("onMetaData"));
        let meta = &values[1];
        assert!(matches!(meta, Value::EcmaArray(_)));
        assert_eq!(meta.get("width").and_then(Value::as_f64), Some(320.0));
        assert_eq!(meta.get("height").and_then(Value::as_f64), Some(240.0));
        assert_eq!(meta.get("framerate").and_then(Value::as_f64), Some(25.0));
        assert_eq!(meta.get("videocodecid").and_then(Value::as_f64), Some(7.0));
        assert_eq!(meta.get("audiocodecid").and_then(Value::as_f64), Some(10.0));
        assert_eq!(meta.get("stereo").and_then(Value::as_bool), Some(true));
        // Re-encoding gives back the same bytes: order and types are kept.
        let mut out = Vec::new();
        for v in &values {
            encode(v, &mut out);
        }
        assert_eq!(out, body);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let depth = 100_000;
        let mut b = Vec::new();
        for _ in 0..depth {
            b.extend_from_slice(&[marker::STRICT_ARRAY, 0, 0, 0, 1]);
        }
        b.push(marker::NULL);
        let e = decode(&b).unwrap_err();
        assert!(e.what.contains("nesting"), "{e}");
        assert_eq!(e.offset, (MAX_DEPTH - 1) * 5);

        let mut b = Vec::new();
        for _ in 0..depth {
            b.extend_from_slice(&[marker::OBJECT, 0, 1, b'k']);
        }
        assert!(decode(&b).unwrap_err().what.contains("nesting"));

        // Exactly at the limit is fine.
        let mut b = Vec::new();
        for _ in 0..MAX_DEPTH - 1 {
            b.extend_from_slice(&[marker::STRICT_ARRAY, 0, 0, 0, 1]);
        }
        b.push(marker::NULL);
        assert!(decode(&b).is_ok());
    }

    #[test]
    fn hostile_lengths_are_rejected_before_allocating() {
        let e = decode(&[marker::LONG_STRING, 0xFF, 0xFF, 0xFF, 0xFF, b'a']).unwrap_err();
        assert_eq!(e.offset, 5);
        assert!(e.what.contains("long string length"), "{e}");
        let e = decode(&[marker::STRICT_ARRAY, 0xFF, 0xFF, 0xFF, 0xFF, 5]).unwrap_err();
        assert_eq!(e.offset, 0);
        assert!(e.what.contains("strict array count"), "{e}");
        let e = decode(&[marker::STRING, 0x00, 0x09, b'a']).unwrap_err();
        assert_eq!(e.offset, 3);
        assert!(decode(&[marker::ECMA_ARRAY, 0xFF, 0xFF, 0xFF, 0xFF]).is_err());
        assert!(decode(&[marker::OBJECT, 0, 1, b'k']).is_err());
        assert!(decode(&[marker::NUMBER, 1, 2]).is_err());
        assert!(decode(&[]).is_err());
        assert!(
            decode(&[marker::AVMPLUS])
                .unwrap_err()
                .what
                .contains("AMF3")
        );
        assert!(decode(&[0x42]).unwrap_err().what.contains("0x42"));
    }

    #[test]
    fn every_truncation_of_a_valid_value_is_an_error() {
        let v = Value::Object(vec![
            ("a".into(), Value::String("bc".into())),
            (
                "d".into(),
                Value::EcmaArray(vec![("e".into(), Value::Number(1.0))]),
            ),
        ]);
        let mut out = Vec::new();
        encode(&v, &mut out);
        for n in 0..out.len() {
            assert!(decode(&out[..n]).is_err(), "prefix of {n} bytes decoded");
        }
    }

    #[test]
    fn invalid_utf8_is_decoded_lossily() {
        let (v, _) = decode(&[marker::STRING, 0, 2, 0xFF, b'a']).unwrap();
        assert_eq!(v, Value::String("\u{FFFD}a".into()));
    }
}
