//! cloud-local (being written)
