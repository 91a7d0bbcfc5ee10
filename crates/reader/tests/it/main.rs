//! The reader crate against a real pcscd with vpcd and the software card.

mod events;
mod tap;
