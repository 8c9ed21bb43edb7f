//! The bounded prelude over which a session's starting configuration is settled, for every
//! input kind: events are held until each track's configuration has come, or until the budget
//! here is spent — [`MAX_SPAN_90K`] of media, [`MAX_ITEMS`] tags or packets, or [`MAX_BYTES`]
//! of payload. A sequence header arriving a few tags late is therefore part of the start, not
//! a configuration change.

/// Media time the prelude may span: 3 s.
pub(crate) const MAX_SPAN_90K: i64 = 3 * 90_000;
/// Tags (FLV, RTMP) or packets (MPEG-TS) the prelude may hold.
pub(crate) const MAX_ITEMS: usize = 2_000;
/// Payload bytes the prelude may hold.
pub(crate) const MAX_BYTES: usize = 32 << 20;

/// What a prelude has held so far.
#[derive(Clone, Debug, Default)]
pub(crate) struct Budget {
    /// The first and the latest media DTS held.
    span_90k: Option<(i64, i64)>,
    items: usize,
    bytes: usize,
}

impl Budget {
    /// A tag or packet was held.
    pub(crate) fn item(&mut self) {
        self.items += 1;
    }

    /// A media packet of `bytes` at `dts_90k` was held.
    pub(crate) fn media(&mut self, dts_90k: i64, bytes: usize) {
        let (_, last) = self.span_90k.get_or_insert((dts_90k, dts_90k));
        *last = (*last).max(dts_90k);
        self.bytes += bytes;
    }

    /// Whether a media packet has been held.
    pub(crate) fn framed(&self) -> bool {
        self.span_90k.is_some()
    }

    /// Whether the prelude may hold no more: the start is settled with what came.
    pub(crate) fn spent(&self) -> bool {
        let span = self.span_90k.map_or(0, |(first, last)| last - first);
        span >= MAX_SPAN_90K || self.items >= MAX_ITEMS || self.bytes >= MAX_BYTES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_limit_spends_the_budget() {
        let mut span = Budget::default();
        span.media(1_000, 1);
        span.media(1_000 + MAX_SPAN_90K - 1, 1);
        assert!(span.framed() && !span.spent());
        span.media(1_000 + MAX_SPAN_90K, 1);
        assert!(span.spent());

        let mut items = Budget::default();
        (0..MAX_ITEMS - 1).for_each(|_| items.item());
        assert!(!items.framed() && !items.spent());
        items.item();
        assert!(items.spent());

        let mut bytes = Budget::default();
        bytes.media(0, MAX_BYTES - 1);
        assert!(!bytes.spent());
        bytes.media(0, 1);
        assert!(bytes.spent());
    }

    #[test]
    fn a_span_before_zero_is_measured_from_its_first_packet() {
        let mut b = Budget::default();
        b.media(-MAX_SPAN_90K, 1);
        b.media(-10, 1);
        assert!(!b.spent());
    }

    #[test]
    fn a_packet_out_of_order_does_not_shorten_the_span() {
        let mut b = Budget::default();
        b.media(0, 1);
        b.media(MAX_SPAN_90K, 1);
        b.media(10, 1);
        assert!(b.spent());
    }
}
