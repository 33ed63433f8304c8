//! The record-signature profiles: go-embeddingsdb's (`compatible`) and ours (`native`).

pub mod compatible;
pub mod native;
pub mod records;
