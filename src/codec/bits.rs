//! Bit reader with Exp-Golomb codes (H.264 §9.1) over an RBSP (emulation prevention removed).
