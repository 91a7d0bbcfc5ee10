//! BPJS Kesehatan as Kartika reaches it (issue 32, begun): its wire, as BPJS publishes it
//! for P-Care and Antrean FKTP and as working clients (SIMRS Khanza, ssecd/jkn) speak it
//! ([`wire`], [`lz`]); the link and its secrets beside the store ([`settings`]); and
//! P-Care's member check ([`client`]). Every request is signed with the consumer's secret
//! over its id and the time; every answer's `response`, when it is a string, is sealed
//! with a key made of the consumer's id, secret and the request's own timestamp and
//! compressed with LZ-String. The fake BPJS (feature `fake`) seals with the same code and
//! checks what the real one checks.
//!
//! **Invariant:** a secret is never part of an error's words, a log line or a screen.
#![deny(missing_docs)]

pub mod client;
#[cfg(feature = "fake")]
pub mod fake;
pub mod lz;
pub mod member;
pub mod sender;
pub mod settings;
pub mod wire;

pub use client::{
    AntreanAction, Client, Kind, Member, Peserta, Provider, Recorded, RefDokter, RefPoli,
    Registered,
};
pub use member::{check_member, MemberCheck, CHECK_BUDGET};
pub use sender::{serve, Drained, Sender, SenderError, Served};
pub use settings::{BpjsLink, BpjsSecrets, Environment, Secret};

/// Why BPJS could not be asked, or what it refused, in words an admin can act on.
#[derive(Debug, thiserror::Error)]
pub enum BpjsError {
    /// No answer: the network, DNS, TLS, or no answer in the time given.
    #[error("BPJS cannot be reached: {0}")]
    Unreachable(String),
    /// 408 or 5xx: BPJS is busy or failing.
    #[error("BPJS is busy or failing ({status}: {message})")]
    Busy {
        /// The HTTP status.
        status: u16,
        /// BPJS's words.
        message: String,
    },
    /// The cons-id, secret, user key or P-Care login was refused.
    #[error(
        "BPJS refused this Puskesmas's credentials ({0}); check them with `kartika bpjs setup`"
    )]
    LoginRefused(String),
    /// BPJS refused the request, in its own words.
    #[error("BPJS refused it: {message} (code {code}){}", fields_text(.fields))]
    Refused {
        /// BPJS's metaData code.
        code: i64,
        /// BPJS's message.
        message: String,
        /// P-Care's field messages of a 412.
        fields: Vec<(String, String)>,
    },
    /// An answer that is not what BPJS documents.
    #[error("BPJS's answer cannot be read: {0}")]
    BadAnswer(String),
    /// The answer's response would not open.
    #[error(transparent)]
    Wire(#[from] wire::WireError),
    /// A value given is not what BPJS takes.
    #[error("{0}")]
    Invalid(String),
    /// The CA file to trust is not usable.
    #[error("the BPJS CA file cannot be used: {0}")]
    Ca(String),
    /// A settings file could not be read or written.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

fn fields_text(fields: &[(String, String)]) -> String {
    if fields.is_empty() {
        return String::new();
    }
    let listed: Vec<String> = fields
        .iter()
        .map(|(field, message)| format!("{field}: {message}"))
        .collect();
    format!("; {}", listed.join("; "))
}
