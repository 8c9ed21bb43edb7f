//! Recording pipeline (stub).
