//! AMF0 decoding of arbitrary bytes (script tags and RTMP commands come from untrusted pushes):
//! no panic, no unbounded allocation or recursion; and whatever decodes re-encodes to bytes
//! that decode to the same value (compared as bytes, since NaN ≠ NaN and strings are decoded
//! lossily the first time).

#![no_main]

use kls_rec::amf0;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((_, used)) = amf0::decode(data) {
        assert!(
            used <= data.len(),
            "decode used {used} of {} bytes",
            data.len()
        );
    }
    if let Err(e) = amf0::decode(data) {
        assert!(
            e.offset <= data.len(),
            "error offset {} beyond the input",
            e.offset
        );
    }
    let Ok(values) = amf0::decode_all(data) else {
        return;
    };
    let mut first = Vec::new();
    for v in &values {
        amf0::encode(v, &mut first);
    }
    let again = amf0::decode_all(&first).expect("re-encoded values decode");
    assert_eq!(again.len(), values.len(), "value count after a round trip");
    let mut second = Vec::new();
    for v in &again {
        amf0::encode(v, &mut second);
    }
    assert_eq!(
        first, second,
        "encode(decode(encode(v))) differs from encode(v)"
    );
});
