//! P-Care's member check against the fake BPJS on loopback HTTPS, which checks every
//! signature, timestamp, user key and login and seals its answers as BPJS does.

mod peserta;
