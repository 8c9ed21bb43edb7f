//! Where finished recording files go: the local output tree (atomic, idempotent writes) and,
//! later, S3-compatible storage.

pub mod local;
pub(crate) mod naming;
