//! Naming (stub).
