//! Clinics syncing with a real registry on loopback: a month offline, two clinics at once,
//! and a link that breaks at every moment of a request.

mod backoff;
mod evidence;
mod exchange;
mod faults;
mod merges;
mod support;
