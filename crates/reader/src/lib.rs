//! PC/SC for Kartika: list readers, watch for readers and cards coming and going, connect
//! to a card and carry APDUs for `kartika-card` (this crate never looks inside them).
//!
//! One PC/SC context per thread: a [`ReaderContext`] is not shared between threads, and the
//! [`Monitor`] runs its own. After pcscd restarts, a context is dead for good: the monitor
//! throws it away and establishes a new one.
#![deny(missing_docs)]

mod card;
mod context;
mod error;
mod monitor;

pub use card::ReaderCard;
pub use context::{ReaderContext, ReaderInfo};
pub use error::ReaderError;
pub use monitor::{Monitor, ReaderEvent};
