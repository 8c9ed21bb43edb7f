//! MPEG-TS packetizer used by the HLS writer (stub: not written yet).
