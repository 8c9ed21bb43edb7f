//! Callbacks (stub).
