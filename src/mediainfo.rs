//! ffprobe-style media information (stub).
