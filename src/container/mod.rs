//! The ground floor both directions stand on: each container's constants and header layouts,
//! defined once and imported by its reader (`input/`) and its writer (`mux/`).

pub(crate) mod flv;
pub(crate) mod mp4;
pub(crate) mod ts;
