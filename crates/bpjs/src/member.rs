//! The desk's question to P-Care: is this JKN member active, and are they registered here?
//! One function for every place that asks (the app's own worker, the clinic server for a
//! workstation's desk), answered within the time the desk gives.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{settings, Client, Member};

/// How long the desk gives BPJS.
pub const CHECK_BUDGET: Duration = Duration::from_secs(2);

/// What BPJS said of a member, as the desk shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum MemberCheck {
    /// An active member, registered at this FKTP unless `elsewhere` names another.
    Active {
        /// Another FKTP's name, when the member is registered there.
        elsewhere: Option<String>,
        /// Arrears, in rupiah, when any.
        arrears: Option<f64>,
    },
    /// The membership is not active, in BPJS's words.
    Inactive(String),
    /// BPJS knows no such member.
    NotMember,
    /// BPJS did not answer in time, or could not be asked: why.
    Unchecked(String),
    /// BPJS is not set up beside this store: nothing to say.
    NotSetUp,
}

/// Asks P-Care about the member with BPJS card `card` (and by `nik` when P-Care does not
/// know the card), as set up beside the store at `store`, within `budget`.
pub fn check_member(store: &Path, card: &str, nik: Option<&str>, budget: Duration) -> MemberCheck {
    let kept = match settings::load(store) {
        Ok(Some(kept)) => kept,
        Ok(None) => return MemberCheck::NotSetUp,
        Err(e) => return MemberCheck::Unchecked(e.to_string()),
    };
    let provider = kept.link.provider_code.clone();
    let client = match Client::new(kept.link, kept.secrets, kept.ca_pem.as_deref(), budget) {
        Ok(client) => client,
        Err(e) => return MemberCheck::Unchecked(e.to_string()),
    };
    let mut found = client.peserta(&Member::Card(card.to_owned()));
    if let (Ok(None), Some(nik)) = (&found, nik) {
        found = client.peserta(&Member::Nik(nik.to_owned()));
    }
    match found {
        Ok(Some(member)) if member.aktif => MemberCheck::Active {
            elsewhere: member
                .kd_provider_pst
                .filter(|p| p.kd_provider != provider)
                .map(|p| p.nm_provider),
            arrears: member.tunggakan.filter(|a| *a > 0.0),
        },
        Ok(Some(member)) => MemberCheck::Inactive(member.ket_aktif),
        Ok(None) => MemberCheck::NotMember,
        Err(e) => {
            tracing::warn!(target: "kartika::bpjs", "the member check failed: {e}");
            MemberCheck::Unchecked(e.to_string())
        }
    }
}
