//! AMF0 (stub).
