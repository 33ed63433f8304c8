//! One module per subcommand: its clap arguments and its `run`.

pub mod convert;
pub mod emit;
pub mod inspect;
pub mod keys;
pub mod name;
pub mod schema;
pub mod sign;
pub mod stats;
pub mod validate;
