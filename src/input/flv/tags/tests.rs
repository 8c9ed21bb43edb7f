use super::*;

fn tag(tag_type: u8, ts: u32, body: &[u8]) -> Vec<u8> {
    let s = (body.len() as u32).to_be_bytes();
    let t = ts.to_be_bytes();
    let mut out = vec![tag_type, s[1], s[2], s[3], t[1], t[2], t[3], t[0], 0, 0, 0];
    out.extend_from_slice(body);
    out.extend_from_slice(&(11 + body.len() as u32).to_be_bytes());
    out
}

fn read(bytes: &[u8]) -> (FlvHeader, Vec<Damage>, Vec<TagEvent>) {
    let (mut r, d) = TagReader::new(bytes, "t").unwrap();
    let mut out = Vec::new();
    while let Some(e) = r.next_event().unwrap() {
        out.push(e);
    }
    (r.header(), d, out)
}

#[test]
fn header_fields_and_extended_timestamps() {
    let mut b = b"FLV\x01\x04\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
    b.extend(tag(8, 0x1234_5678, &[0xAF, 1, 7]));
    let (h, d, tags) = read(&b);
    assert!(d.is_empty());
    assert_eq!(
        (h.version, h.has_audio, h.has_video, h.data_offset),
        (1, true, false, 9)
    );
    assert_eq!(
        tags,
        [TagEvent::Tag(Tag {
            offset: 13,
            kind: TagKind::Audio,
            timestamp_ms: 0x1234_5678,
            data: vec![0xAF, 1, 7],
        })]
    );
}

#[test]
fn a_longer_header_is_skipped_and_an_impossible_one_reported() {
    let mut b = b"FLV\x01\x05\x00\x00\x00\x0C...\x00\x00\x00\x00".to_vec();
    b.extend(tag(9, 0, &[0x17, 2, 0, 0, 0]));
    let (_, d, tags) = read(&b);
    assert!(d.is_empty());
    assert!(matches!(&tags[..], [TagEvent::Tag(Tag { offset: 16, .. })]));

    let mut b = b"FLV\x01\x05\xFF\xFF\xFF\xFF\x00\x00\x00\x00".to_vec();
    b.extend(tag(9, 0, &[0x17, 2, 0, 0, 0]));
    let (_, d, tags) = read(&b);
    assert!(
        matches!(
            &d[..],
            [Damage::Skipped {
                offset: 5,
                len: 4,
                ..
            }]
        ),
        "{d:?}"
    );
    assert!(matches!(&tags[..], [TagEvent::Tag(Tag { offset: 13, .. })]));
}

#[test]
fn a_missing_previous_tag_size0_is_tolerated() {
    let mut b = b"FLV\x01\x05\x00\x00\x00\x09".to_vec();
    b.extend(tag(18, 0, &[5]));
    let (_, d, tags) = read(&b);
    assert!(d.is_empty());
    assert!(matches!(&tags[..], [TagEvent::Tag(Tag { offset: 9, .. })]));
}

#[test]
fn bad_tag_headers_resynchronise() {
    let mut b = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
    // Unknown type, then StreamID not 0, then an encrypted (Filter) tag, then a good one.
    b.extend(tag(7, 0, &[1, 2, 3]));
    let mut bad_stream = tag(9, 0, &[0x17, 2, 0, 0, 0]);
    bad_stream[10] = 1;
    b.extend(bad_stream);
    b.extend(tag(0x28, 0, &[1]));
    let good_at = b.len() as u64;
    b.extend(tag(9, 40, &[0x17, 2, 0, 0, 0]));
    let (_, _, events) = read(&b);
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(
        events[0],
        TagEvent::Damage(Damage::Skipped {
            offset: 13,
            len: good_at - 13,
            what: "unknown TagType 7".into(),
        })
    );
    assert!(matches!(&events[1], TagEvent::Tag(t) if t.offset == good_at));
}

#[test]
fn a_reader_error_is_an_input_error_with_the_offset() {
    struct Failing(usize);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let header = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00";
            if self.0 >= header.len() {
                return Err(io::Error::other("disk on fire"));
            }
            let n = (header.len() - self.0).min(buf.len());
            buf[..n].copy_from_slice(&header[self.0..self.0 + n]);
            self.0 += n;
            Ok(n)
        }
    }
    // Looking past PreviousTagSize0 for the first tag hits the failure.
    let Err(e) = TagReader::new(Failing(0), "t") else {
        panic!("the read error was lost");
    };
    assert_eq!(e.offset, Some(9));
    assert!(e.to_string().contains("disk on fire"));
}

/// A pipe that delivers at most `n` bytes per read.
struct Trickle<'a>(&'a [u8], usize);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.1.min(buf.len()).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn short_reads_give_the_same_tags_and_damage() {
    let mut b = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
    for i in 0..40u32 {
        b.extend(tag(9, i * 40, &vec![0x17; 3000 + i as usize * 97]));
        if i == 17 {
            b.extend(b"garbage");
        }
    }
    b.extend(&tag(8, 2000, &[0xAF, 1, 2, 3])[..5]);
    let whole = read(&b);
    assert_eq!(
        whole.2.len(),
        40 + 2,
        "40 tags, the garbage, the cut header"
    );
    for n in [1, 7, 4096, 70_000] {
        let (mut r, d) = TagReader::new(Trickle(&b, n), "t").unwrap();
        let mut events = Vec::new();
        while let Some(e) = r.next_event().unwrap() {
            events.push(e);
        }
        assert_eq!((r.header(), d, events), whole, "{n} bytes per read");
    }
    assert_eq!(
        whole.2.last(),
        Some(&TagEvent::Damage(Damage::Truncated {
            offset: b.len() as u64 - 5,
            what: "tag header (5 of its 11 bytes before the input ends)".into(),
        }))
    );
}
