//! The bounded prelude over which a session's starting configuration is settled, for every
//! input kind: events are held until each track's configuration has come, or until the budget
//! here is spent — [`MAX_SPAN_90K`] of media, [`MAX_ITEMS`] tags or packets, or [`MAX_BYTES`]
//! of payload. A sequence header arriving a few tags late is therefore part of the start, not
//! a configuration change.

/// Media time the prelude may span: 3 s.
pub const MAX_SPAN_90K: i64 = 3 * 90_000;
/// Tags (FLV, RTMP) or packets (MPEG-TS) the prelude may hold.
pub const MAX_ITEMS: usize = 2_000;
/// Payload bytes the prelude may hold.
pub const MAX_BYTES: usize = 32 << 20;

/// What a prelude has held so far.
#[derive(Clone, Debug, Default)]
pub struct Budget {
    first_90k: Option<i64>,
    last_90k: i64,
    items: usize,
    bytes: usize,
}

impl Budget {
    /// A tag or packet was held.
    pub fn item(&mut self) {
        self.items += 1;
    }

    /// A media packet of `bytes` at `dts_90k` was held.
    pub fn media(&mut self, dts_90k: i64, bytes: usize) {
        self.first_90k.get_or_insert(dts_90k);
        self.last_90k = self.last_90k.max(dts_90k);
        self.bytes += bytes;
    }

    /// Whether a media packet has been held.
    pub fn framed(&self) -> bool {
        self.first_90k.is_some()
    }

    /// Whether the prelude may hold no more: the start is settled with what came.
    pub fn spent(&self) -> bool {
        let span = self.first_90k.map_or(0, |f| self.last_90k - f);
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
    fn a_packet_out_of_order_does_not_shorten_the_span() {
        let mut b = Budget::default();
        b.media(0, 1);
        b.media(MAX_SPAN_90K, 1);
        b.media(10, 1);
        assert!(b.spent());
    }
}
