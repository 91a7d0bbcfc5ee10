//! BPJS against the fake BPJS on loopback HTTPS, which checks every signature, timestamp,
//! user key and login and seals its answers as BPJS does: P-Care's member check, and a
//! Puskesmas's day of BPJS visits through the kept queue.

mod peserta;
mod queue;
