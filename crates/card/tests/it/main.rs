//! The card contract, host side, tested in-process against the software card and against
//! scripted and hostile cards.

mod hostile;
mod issuance;
mod model;
mod properties;
mod security;
mod support;
