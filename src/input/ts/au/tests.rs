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
            AuEvent::Skipped { .. } | AuEvent::Damage { .. } => None,
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
