//! Chunk-level tests: header forms and state rules on hand-built chunks.
