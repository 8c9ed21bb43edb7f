//! Timestamp repair: 32-bit rollover and discontinuities (SPEC §1) (stub).
