use super::*;

const T: fn(i64) -> Option<AuTime> = |dts| {
    Some(AuTime {
        pts: dts + 3600,
        dts,
    })
};

/// An H.264 access unit: AUD, then slices (`first` marks first_mb_in_slice 0) with `len` bytes.
fn h264_au(slices: &[(bool, usize)]) -> Vec<u8> {
    let mut au = vec![0, 0, 0, 1, 0x09, 0xF0];
    for &(first, len) in slices {
        au.extend([0, 0, 1, 0x41, if first { 0x9A } else { 0x22 }]);
        au.extend((0..len).map(|i| (i % 200) as u8 + 2));
    }
    au
}

fn units(a: &mut AuAssembler) -> Vec<(Vec<u8>, AuTime)> {
    a.take()
        .into_iter()
        .filter_map(|e| match e {
            AuEvent::Unit { data, time, .. } => Some((data, time)),
            AuEvent::Skipped { .. } | AuEvent::Dropped { .. } | AuEvent::Derived { .. } => None,
        })
        .collect()
}

#[test]
fn one_access_unit_per_pes_is_given_out_with_its_pes() {
    let aus = [h264_au(&[(true, 50)]), h264_au(&[(true, 30), (false, 20)])];
    let mut a = AuAssembler::new(VideoCodec::H264);
    a.push(&aus[0], T(0), 0);
    assert!(a.take().is_empty());
    a.before_pes(&aus[1][..10]);
    assert_eq!(units(&mut a), [(aus[0].clone(), T(0).unwrap())]);
    a.push(&aus[1], T(3600), 188);
    a.end_of_input();
    assert_eq!(units(&mut a), [(aus[1].clone(), T(3600).unwrap())]);
}

#[test]
fn units_split_across_pes_come_out_whole_with_their_times() {
    let aus: Vec<Vec<u8>> = (0..5)
        .map(|k| h264_au(&[(true, 100 + k), (false, 90)]))
        .collect();
    let all: Vec<u8> = aus.concat();
    let mut at = 0;
    let starts: Vec<usize> = aus
        .iter()
        .map(|u| {
            at += u.len();
            at - u.len()
        })
        .collect();
    let cuts = [
        0,
        starts[1] - 40,     // inside the last slice
        starts[2] - 95 + 2, // inside the last slice's start code
        starts[2] + 60,     // inside a slice: a PES without start code or PTS follows
        starts[3] - 95,     // between two slices
        starts[4],          // aligned
        all.len(),
    ];
    let times = [T(0), T(3600), T(7200), None, T(10_800), T(14_400)];
    let mut a = AuAssembler::new(VideoCodec::H264);
    let mut got = Vec::new();
    for (k, w) in cuts.windows(2).enumerate() {
        a.push(&all[w[0]..w[1]], times[k], k as u64 * 188);
        if let Some(&next) = cuts.get(k + 2) {
            a.before_pes(&all[w[1]..next.min(w[1] + 20)]);
        }
        got.extend(units(&mut a));
    }
    a.end_of_input();
    assert_eq!(
        got.len() + units(&mut a).len(),
        4,
        "not aligned: the last unit waits"
    );
    a.finish();
    got.extend(units(&mut a));
    let want: Vec<(Vec<u8>, AuTime)> = aus
        .iter()
        .zip([0, 3600, 7200, 10_800, 14_400])
        .map(|(u, d)| (u.clone(), T(d).unwrap()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn nal_roles_follow_the_access_unit_rules() {
    let h264 = |b: &[u8]| role(VideoCodec::H264, b);
    assert_eq!(h264(&[0x09, 0xF0]), NalRole::Delimiter);
    for t in [0x67, 0x68, 0x06] {
        assert_eq!(h264(&[t, 0]), NalRole::Prefix, "{t:#x}");
    }
    assert_eq!(h264(&[0x65, 0x88]), NalRole::FirstSlice);
    assert_eq!(h264(&[0x41, 0x9A]), NalRole::FirstSlice);
    assert_eq!(h264(&[0x22, 0x80]), NalRole::FirstSlice);
    assert_eq!(h264(&[0x41, 0x22]), NalRole::Slice);
    assert_eq!(h264(&[0x41]), NalRole::Slice);
    // Partitions B and C start with slice_id, not first_mb_in_slice.
    assert_eq!(h264(&[0x23, 0x80]), NalRole::Slice);
    assert_eq!(h264(&[0x24, 0x80]), NalRole::Slice);
    for t in [0x0A, 0x0B, 0x0C, 0x0E, 0x0F, 0x12, 0x13, 0x14] {
        assert_eq!(h264(&[t, 0xFF]), NalRole::Other, "{t:#x}");
    }
    let hevc = |t: u8, flag: u8| role(VideoCodec::Hevc, &[t << 1, 1, flag]);
    assert_eq!(hevc(35, 0x50), NalRole::Delimiter);
    for t in [32, 33, 34, 36, 37, 39, 41, 44, 48, 55] {
        assert_eq!(hevc(t, 0), NalRole::Prefix, "{t}");
    }
    for t in [0, 1, 9, 16, 19, 21] {
        assert_eq!(hevc(t, 0x80), NalRole::FirstSlice, "{t}");
        assert_eq!(hevc(t, 0x7F), NalRole::Slice, "{t}");
    }
    for t in [10, 15, 22, 31, 38, 40, 45, 56, 63] {
        assert_eq!(hevc(t, 0x80), NalRole::Other, "{t}");
    }
    assert_eq!(role(VideoCodec::Hevc, &[]), NalRole::Other);
}

#[test]
fn an_hevc_picture_of_two_slice_segments_is_one_unit() {
    // AUD, VPS, first slice segment (IDR_W_RADL), second segment; then a new picture without
    // a delimiter: its first segment starts the next unit.
    let first: Vec<u8> = [
        &[0, 0, 0, 1, 0x46, 0x01, 0x50][..],
        &[0, 0, 1, 0x40, 0x01, 0x0C, 0x01],
        &[0, 0, 1, 0x26, 0x01, 0xAF, 0x11],
        &[0, 0, 1, 0x26, 0x01, 0x2F, 0x22],
    ]
    .concat();
    let second = [0, 0, 1, 0x02, 0x01, 0xD0, 0x33];
    let mut a = AuAssembler::new(VideoCodec::Hevc);
    // The PES boundary falls inside the second segment's header.
    let all = [&first[..], &second].concat();
    a.push(&all[..first.len() - 3], T(0), 0);
    a.push(&all[first.len() - 3..], T(3600), 188);
    a.finish();
    assert_eq!(
        units(&mut a),
        [(first, T(0).unwrap()), (second.to_vec(), T(3600).unwrap())]
    );
}

#[test]
fn a_unit_starting_without_a_pts_gets_derived_times() {
    let aus: Vec<Vec<u8>> = (0..3).map(|k| h264_au(&[(true, 20 + k)])).collect();
    let mut a = AuAssembler::new(VideoCodec::H264);
    a.push(&aus[0], T(0), 0);
    a.push(&aus[1], T(3600), 188);
    a.push(&aus[2], None, 376);
    a.finish();
    let events = a.take();
    let derived = events
        .iter()
        .filter(|e| matches!(e, AuEvent::Derived { offset: 376, .. }))
        .count();
    assert_eq!(derived, 1, "{events:?}");
    let times: Vec<AuTime> = events
        .into_iter()
        .filter_map(|e| match e {
            AuEvent::Unit { time, .. } => Some(time),
            AuEvent::Skipped { .. } | AuEvent::Dropped { .. } | AuEvent::Derived { .. } => None,
        })
        .collect();
    assert_eq!(
        times.last(),
        Some(&AuTime {
            pts: 7200,
            dts: 7200
        })
    );
}

#[test]
fn a_stream_without_unit_starts_keeps_memory_bounded() {
    let mut a = AuAssembler::new(VideoCodec::H264);
    // No start code at all: skipped as it comes, nothing kept.
    let junk = vec![0x55u8; 1 << 20];
    for k in 0..4 {
        a.push(&junk, T(k * 3600), k as u64 * 188);
        assert!(a.buf.len() < 8 && a.marks.len() <= 2);
    }
    let skipped: u64 = a
        .take()
        .iter()
        .map(|e| match e {
            AuEvent::Skipped { len, .. } => *len,
            AuEvent::Unit { .. } | AuEvent::Dropped { .. } | AuEvent::Derived { .. } => 0,
        })
        .sum();
    assert!(skipped + 8 >= 4 << 20, "{skipped}");
    // A unit that never ends is dropped past the bound; the next one is read again.
    a.push(&h264_au(&[(true, 10)]), T(0), 0);
    let chunk = vec![0x55u8; 4 << 20];
    for k in 0..(MAX_AU_BYTES / chunk.len() + 1) {
        a.push(&chunk, None, k as u64);
        assert!(a.buf.len() <= MAX_AU_BYTES + chunk.len());
    }
    let events = a.take();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, AuEvent::Dropped { what, .. } if what.contains("bytes without"))),
        "{events:?}"
    );
    let next = h264_au(&[(true, 10)]);
    a.push(&next, T(90_000), 0);
    a.finish();
    assert_eq!(units(&mut a), [(next, T(90_000).unwrap())]);
}

#[test]
fn a_lost_pes_drops_the_unit_it_continued() {
    let aus: Vec<Vec<u8>> = (0..3).map(|k| h264_au(&[(true, 40 + k)])).collect();
    let mut a = AuAssembler::new(VideoCodec::H264);
    a.push(&aus[0], T(0), 0);
    a.push(&aus[1][..20], T(3600), 188);
    a.lose();
    // The rest of the second unit has nothing to attach to.
    a.push(&[&aus[1][20..], &aus[2][..]].concat(), None, 376);
    a.finish();
    let got = units(&mut a);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, aus[0]);
    assert_eq!(got[1].0, aus[2]);
}
