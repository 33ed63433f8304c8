//! What the profiles write and read: record digests, file digests, manifests and sidecars.

pub mod digest;
pub mod file_digest;
pub mod manifest;
pub(crate) mod sidecar;
