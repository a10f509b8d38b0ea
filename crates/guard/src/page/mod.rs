//! The approval page (being built).
