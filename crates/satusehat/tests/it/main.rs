//! The sender against the testkit's fake SATUSEHAT on loopback HTTPS, on a real clinic
//! store.

mod delivery;
mod linked;
mod support;
