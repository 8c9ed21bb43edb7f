//! Grouping of spans and points too small to draw apart: a run of pushes or files narrower than
//! a few px becomes one aggregate with a summary, so a week of one-minute pushes stays readable
//! and the document's size stays bounded by its width, not by the number of pushes.

use super::axis::Scale;

/// Narrower than this (px), a span is merged with its tiny neighbours.
pub(crate) const MIN_SPAN_PX: f64 = 4.0;
/// More groups than this in one row: merge everything that touches (pathological overlaps).
pub(crate) const MAX_GROUPS: usize = 600;
/// Points (damage) closer than this (px) share one marker.
pub(crate) const POINT_PX: f64 = 9.0;

/// Consecutive members (indexes into the caller's order) drawn as one shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Group {
    pub(crate) members: Vec<usize>,
    pub(crate) start_ms: i64,
    pub(crate) end_ms: i64,
}

/// Groups `spans` (start, end), given in start order: a span joins the previous group only when
/// both are narrower than [`MIN_SPAN_PX`], so every wide span keeps its own shape and label.
pub(crate) fn spans(spans: &[(i64, i64)], scale: &Scale) -> Vec<Group> {
    let px = |a: i64, b: i64| (scale.x(b) - scale.x(a)).abs();
    let groups = gather(spans.iter().map(|&(s, e)| (s, e.max(s))), |g, s, e| {
        px(g.start_ms, g.end_ms) < MIN_SPAN_PX && px(s, e) < MIN_SPAN_PX
    });
    if groups.len() <= MAX_GROUPS {
        return groups;
    }
    // Bounded fallback: groups become disjoint intervals at least MIN_SPAN_PX apart.
    let mut merged: Vec<Group> = Vec::new();
    for g in groups {
        match merged.last_mut() {
            Some(m) if scale.x(g.start_ms) < scale.x(m.end_ms) + MIN_SPAN_PX => {
                m.members.extend(g.members);
                m.end_ms = m.end_ms.max(g.end_ms);
            }
            _ => merged.push(g),
        }
    }
    merged
}

/// Groups points given in time order: a point joins the group whose first point is within
/// [`POINT_PX`].
pub(crate) fn points(times_ms: &[i64], scale: &Scale) -> Vec<Group> {
    gather(times_ms.iter().map(|&t| (t, t)), |g, t, _| {
        scale.x(t) - scale.x(g.start_ms) < POINT_PX
    })
}

/// Groups members (start, end) in order: each joins the last group when `joins` says so, else
/// begins one of its own.
fn gather(
    members: impl Iterator<Item = (i64, i64)>,
    joins: impl Fn(&Group, i64, i64) -> bool,
) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for (i, (start_ms, end_ms)) in members.enumerate() {
        match groups.last_mut() {
            Some(g) if joins(g, start_ms, end_ms) => {
                g.members.push(i);
                g.end_ms = g.end_ms.max(end_ms);
            }
            _ => groups.push(Group {
                members: vec![i],
                start_ms,
                end_ms,
            }),
        }
    }
    groups
}

/// Label lanes under a row: a label goes into the first lane where it does not run into the
/// previous label, or nowhere.
pub(crate) struct Lanes {
    free_x: Vec<f64>,
    left_px: f64,
    right_px: f64,
}

impl Lanes {
    /// `count` lanes whose labels start at `left_px` or later and end by `right_px`.
    pub(crate) fn new(count: usize, left_px: f64, right_px: f64) -> Lanes {
        Lanes {
            free_x: vec![left_px; count],
            left_px,
            right_px,
        }
    }

    /// Where a label `w` px wide meant for `x` goes: its lane and x (moved left when it would
    /// leave the picture, never before the previous label of its lane).
    pub(crate) fn place(&mut self, x: f64, w: f64) -> Option<(usize, f64)> {
        let x = x.min(self.right_px - w);
        let lane = self.free_x.iter().position(|&f| f <= x)?;
        self.free_x[lane] = x + w + 10.0;
        Some((lane, x))
    }

    /// How many lanes hold a label.
    pub(crate) fn used(&self) -> usize {
        self.free_x.iter().filter(|&&f| f > self.left_px).count()
    }
}
