//! cost (being written)
