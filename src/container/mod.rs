//! The ground floor both directions stand on: each container's constants and header layouts,
//! defined once and imported by its reader (`input/`) and its writer (`mux/`).

pub mod flv;
pub mod mp4;
pub mod ts;
