use super::*;

fn mark(frame: u64) -> Mark {
    Mark {
        frame,
        offset: frame * 100,
        time_ms: 1_000 + frame as i64,
    }
}

/// The stream as delivered: bytes, with `?` for each lost byte, and the gap reports.
fn run(r: &mut Reassembler, segs: &[(u32, &[u8])], flush: bool) -> (Vec<u8>, Vec<(u64, u64)>) {
    let mut out = Vec::new();
    for (i, (seq, data)) in segs.iter().enumerate() {
        r.push(*seq, data, mark(i as u64 + 1), &mut out);
    }
    if flush {
        r.flush(&mut out);
    }
    let mut bytes = Vec::new();
    let mut gaps = Vec::new();
    for o in out {
        match o {
            Output::Data { bytes: b, .. } => bytes.extend_from_slice(&b),
            Output::Gap { lost, mark } => {
                gaps.push((lost, mark.frame));
                bytes.extend(std::iter::repeat_n(b'?', lost as usize));
            }
        }
    }
    (bytes, gaps)
}

#[test]
fn in_order_after_the_syn() {
    let mut r = Reassembler::new(Some(99), DEFAULT_WINDOW);
    let (b, g) = run(&mut r, &[(100, b"abc"), (103, b"def")], false);
    assert_eq!(b, b"abcdef");
    assert!(g.is_empty());
    assert_eq!(r.delivered(), 6);
}

#[test]
fn sequence_numbers_wrap() {
    let isn = u32::MAX - 3;
    let mut r = Reassembler::new(Some(isn), DEFAULT_WINDOW);
    let s0 = isn.wrapping_add(1);
    // Out of order across the wrap: the second segment (seq 1) arrives first.
    let (b, g) = run(
        &mut r,
        &[
            (s0.wrapping_add(5), b"FGH"),
            (s0, b"ABCDE"),
            (s0.wrapping_add(8), b"IJ"),
        ],
        false,
    );
    assert_eq!(b, b"ABCDEFGHIJ");
    assert!(g.is_empty());
    assert_eq!(r.offset_of(s0.wrapping_add(10)), Some(10));
}

#[test]
fn long_stream_wraps_many_times() {
    let mut r = Reassembler::new(None, 1024);
    let mut out = Vec::new();
    let chunk = [7u8; 60_000];
    let mut seq = 0xffff_0000u32;
    let mut total = 0u64;
    // 100 000 segments of 60 000 bytes: 6 GB of sequence space, two wraps.
    for i in 0..100_000u64 {
        r.push(seq, &chunk, mark(i), &mut out);
        seq = seq.wrapping_add(chunk.len() as u32);
        total += chunk.len() as u64;
        out.clear();
    }
    assert_eq!(r.delivered(), total);
}

#[test]
fn duplicates_and_retransmissions_are_dropped() {
    let mut r = Reassembler::new(Some(0), DEFAULT_WINDOW);
    let (b, g) = run(
        &mut r,
        &[
            (1, b"abc"),
            (1, b"abc"),
            (4, b"def"),
            (2, b"bc"),
            (1, b"abcdef"),
        ],
        false,
    );
    assert_eq!(b, b"abcdef");
    assert!(g.is_empty());
    assert_eq!(r.duplicate_bytes, 3 + 2 + 6);
}

#[test]
fn overlaps_first_copy_wins() {
    // Against delivered bytes: the retransmission's differing bytes are ignored, its new tail
    // is kept.
    let mut r = Reassembler::new(Some(0), DEFAULT_WINDOW);
    let (b, _) = run(&mut r, &[(1, b"abcd"), (3, b"XYef")], false);
    assert_eq!(b, b"abcdef");

    // Against buffered bytes: a later copy covering a buffered range and the hole around it
    // fills only the hole.
    let mut r = Reassembler::new(Some(0), DEFAULT_WINDOW);
    let (b, _) = run(
        &mut r,
        &[(4, b"de"), (8, b"h"), (2, b"XXXXXXXX"), (1, b"a")],
        false,
    );
    assert_eq!(b, b"aXXdeXXhX");
    assert_eq!(r.duplicate_bytes, 3);
}

#[test]
fn reordering_within_the_window_is_invisible() {
    let data: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let segs: Vec<(u32, &[u8])> = data
        .chunks(100)
        .enumerate()
        .map(|(i, c)| (1000u32.wrapping_add(1 + 100 * i as u32), c))
        .collect();
    let mut shuffled = segs.clone();
    // A fixed permutation: reverse every run of 7 and duplicate every fifth segment.
    for run in shuffled.chunks_mut(7) {
        run.reverse();
    }
    let mut with_dups = Vec::new();
    for (i, s) in shuffled.iter().enumerate() {
        with_dups.push(*s);
        if i % 5 == 0 {
            with_dups.push(*s);
        }
    }
    let mut r = Reassembler::new(Some(1000), DEFAULT_WINDOW);
    let (b, g) = run(&mut r, &with_dups, false);
    assert_eq!(b, data);
    assert!(g.is_empty());
    assert!(!r.has_pending());
}

#[test]
fn a_hole_is_declared_at_the_end() {
    let mut r = Reassembler::new(Some(0), DEFAULT_WINDOW);
    let (b, g) = run(&mut r, &[(1, b"ab"), (6, b"fg"), (8, b"h")], true);
    assert_eq!(b, b"ab???fgh");
    // Lost 3 bytes; the stream resumed with packet 2.
    assert_eq!(g, vec![(3, 2)]);
}

#[test]
fn a_hole_is_declared_when_the_window_fills() {
    let mut r = Reassembler::new(Some(0), 10);
    let (b, g) = run(
        &mut r,
        &[(1, b"a"), (3, b"cdefg"), (8, b"hijkl"), (13, b"m")],
        false,
    );
    // 11 bytes wait behind the hole at offset 1: more than the window.
    assert_eq!(b, b"a?cdefghijklm");
    assert_eq!(g, vec![(1, 2)]);
}

#[test]
fn a_segment_far_past_the_hole_declares_it() {
    let mut r = Reassembler::new(Some(0), 100);
    let (b, g) = run(&mut r, &[(1, b"a"), (10, b"x"), (500, b"z")], false);
    assert_eq!(g, vec![(8, 2), (489, 3)]);
    assert_eq!(b.len(), 500);
    assert_eq!(b.last(), Some(&b'z'));
}

#[test]
fn stream_without_syn_starts_at_its_first_segment() {
    let mut r = Reassembler::new(None, DEFAULT_WINDOW);
    let (b, _) = run(
        &mut r,
        &[(5000, b"xy"), (4990, b"old"), (5002, b"z")],
        false,
    );
    assert_eq!(b, b"xyz");
}

#[test]
fn a_far_segment_behind_buffered_bytes_is_not_placed_behind_the_stream() {
    // Window 8: bytes at 8..13 wait; a segment at 9 lies beyond the window, so the hole 0..8 is
    // declared lost and 8..13 handed on, past the segment's own start.
    let mut r = Reassembler::new(Some(u32::MAX), 8);
    let (b, g) = run(&mut r, &[(8, b"abcde"), (9, b"BCDEFG")], true);
    assert_eq!(b, b"????????abcdeFG");
    assert_eq!(g, vec![(8, 1)]);
    assert!(!r.has_pending());
    assert_eq!(r.delivered(), 15);
}
