//! The admin's room, as state: a patient's cards and the card in the reader, issuing a
//! card step by step, the staff list, the audit log, sync, the facility and backups.
//! Views draw it; what changes it arrives from the workers.

use std::path::PathBuf;

use kartika_card::model::Identity;
use kartika_card::IssueStep;
use kartika_store::{
    AuditEntry, AuditFilter, AuditReport, Card, Patient, PatientSummary, Role, SetAside,
    StaffMember, SyncHealth,
};

use crate::problem::Problem;

/// The parts of the admin's room.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AdminTab {
    /// Kartu: a patient's cards, issuing, blocking, replacing.
    #[default]
    Cards,
    /// Staf: accounts.
    Staff,
    /// Audit: the log and its check.
    Audit,
    /// Sinkronisasi: what waits, what was set aside.
    Sync,
    /// Puskesmas: the facility and its units.
    Facility,
    /// Cadangan: backups and restore.
    Backup,
    /// Komputer: the workstations of the LAN.
    Workstations,
    /// Pasien ganda: possible duplicates, merging them, undoing a merge.
    Duplicates,
}

/// The admin's room.
#[derive(Debug, Default)]
pub struct AdminState {
    /// The part on screen.
    pub tab: AdminTab,
    /// The patient search.
    pub search_text: String,
    /// Its results.
    pub results: Option<Vec<PatientSummary>>,
    /// The patient whose cards are shown, and the cards.
    pub patient: Option<(Patient, Vec<Card>)>,
    /// The card in the reader, as the last tap found it.
    pub reader_card: Option<ReaderCard>,
    /// Why a card is blocked, terminated or unblocked, as typed.
    pub reason: String,
    /// A card being issued.
    pub issue: Option<IssueForm>,
    /// The new PIN for a blocked PIN, typed twice.
    pub pin_reset: (String, String),
    /// The accounts.
    pub staff: Vec<StaffMember>,
    /// The workstations of the LAN.
    pub workstations: Vec<kartika_store::Workstation>,
    /// "Pasien ganda".
    pub duplicates: DuplicatesForm,
    /// The new-account form.
    pub new_staff: NewStaffForm,
    /// A new password being typed for an account: (username, password).
    pub password_reset: Option<(String, String)>,
    /// The audit filter as typed.
    pub audit_filter: AuditFilter,
    /// The entries found.
    pub audit_entries: Vec<AuditEntry>,
    /// The chain check's verdict.
    pub audit_verdict: Option<AuditReport>,
    /// Sync health.
    pub sync_health: Option<SyncHealth>,
    /// The set-aside records.
    pub set_aside: Vec<SetAside>,
    /// The facility form.
    pub facility: FacilityForm,
    /// The SATUSEHAT set-up form.
    pub satusehat: SatusehatForm,
    /// The new-unit form: code, name, queue letter.
    pub new_unit: (String, String, String),
    /// Backups.
    pub backup: BackupForm,
    /// The last failure.
    pub problem: Option<Problem>,
    /// A passing message.
    pub notice: Option<String>,
}

/// The card in the admin's reader.
#[derive(Clone, Debug)]
pub enum ReaderCard {
    /// A blank card, ready to issue.
    Blank {
        /// Its reader.
        reader: String,
    },
    /// An issued card that reads genuine.
    Issued {
        /// Its reader.
        reader: String,
        /// What it says.
        identity: Box<Identity>,
    },
    /// A card that was refused, and why.
    Refused {
        /// Its reader.
        reader: String,
        /// Why.
        problem: Problem,
    },
}

impl ReaderCard {
    /// The reader it is in.
    pub fn reader(&self) -> &str {
        match self {
            Self::Blank { reader } | Self::Issued { reader, .. } | Self::Refused { reader, .. } => {
                reader
            }
        }
    }
}

/// Issuing a card to the patient on screen.
#[derive(Debug, Default)]
pub struct IssueForm {
    /// The card it replaces, if any.
    pub replacing: Option<String>,
    /// The PIN, typed by the patient.
    pub pin: String,
    /// The PIN again.
    pub pin_again: String,
    /// What the card will carry, once the store has prepared it.
    pub identity: Option<Box<Identity>>,
    /// The step under way.
    pub step: Option<IssueStep>,
    /// Whether the reader worker is issuing.
    pub running: bool,
    /// The card face saved, once issued and recorded.
    pub face: Option<PathBuf>,
    /// Done: the card is issued and recorded.
    pub done: bool,
    /// Put the keyboard in the first PIN field on the next frame: the patient types next.
    pub focus_pin: bool,
}

/// The new-account form.
#[derive(Clone, Debug)]
pub struct NewStaffForm {
    /// Login name.
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// First password.
    pub password: String,
}

impl Default for NewStaffForm {
    fn default() -> Self {
        Self {
            username: String::new(),
            display_name: String::new(),
            role: Role::Nurse,
            password: String::new(),
        }
    }
}

/// The facility form.
#[derive(Clone, Debug, Default)]
pub struct FacilityForm {
    /// Name.
    pub name: String,
    /// Catchment region code.
    pub catchment: String,
    /// Zone.
    pub zone: Option<kartika_store::TimeZone>,
}

/// Where SATUSEHAT is, as the admin chooses it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SatusehatPlace {
    /// SATUSEHAT's sandbox, where a Puskesmas starts.
    #[default]
    Sandbox,
    /// The real one.
    Production,
    /// Kemenkes's development environment.
    Development,
    /// Addresses typed by hand.
    Other,
}

impl SatusehatPlace {
    /// Its published environment, if it is one.
    pub fn environment(self) -> Option<kartika_satusehat::Environment> {
        match self {
            Self::Sandbox => Some(kartika_satusehat::Environment::Sandbox),
            Self::Production => Some(kartika_satusehat::Environment::Production),
            Self::Development => Some(kartika_satusehat::Environment::Development),
            Self::Other => None,
        }
    }
}

/// The SATUSEHAT set-up form. The secret is never shown again once saved: the field is
/// emptied, and an empty field keeps the secret kept.
#[derive(Clone, Debug, Default)]
pub struct SatusehatForm {
    /// Which environment.
    pub place: SatusehatPlace,
    /// The token's base, for [`SatusehatPlace::Other`].
    pub auth_url: String,
    /// The FHIR base, for [`SatusehatPlace::Other`].
    pub fhir_url: String,
    /// The Organization id.
    pub organization_id: String,
    /// The client id.
    pub client_id: String,
    /// A new client secret, while it is typed.
    pub secret: String,
    /// Requests a second.
    pub pace: String,
    /// Whether a link is set up already (then an empty secret keeps the one kept).
    pub set_up: bool,
}

impl SatusehatForm {
    /// The form filled from the link as set up.
    pub fn from_link(link: &kartika_store::SatusehatLink) -> Self {
        let place = [
            SatusehatPlace::Sandbox,
            SatusehatPlace::Production,
            SatusehatPlace::Development,
        ]
        .into_iter()
        .find(|p| {
            p.environment()
                .is_some_and(|e| e.fhir_url() == link.fhir_url)
        })
        .unwrap_or(SatusehatPlace::Other);
        Self {
            place,
            auth_url: link.auth_url.clone(),
            fhir_url: link.fhir_url.clone(),
            organization_id: link.organization_id.clone(),
            client_id: link.client_id.clone(),
            secret: Default::default(),
            pace: link.pace.to_string(),
            set_up: true,
        }
    }
}

/// Backups: the copy to restore, and what the last backup did (where and how many is
/// this workstation's [`crate::state::BackupPlan`]).
#[derive(Clone, Debug, Default)]
pub struct BackupForm {
    /// The copy to restore, as typed.
    pub restore_from: String,
    /// The last backup made, in words.
    pub last: Option<String>,
}

/// "Pasien ganda": the flags and merges the store holds, and two records side by side.
#[derive(Debug, Default)]
pub struct DuplicatesForm {
    /// The open flags and the merges in force, as last read.
    pub view: Option<kartika_store::Duplicates>,
    /// The two records compared: what a merge of them would do.
    pub plan: Option<kartika_store::MergePlan>,
    /// The fields the record that stays takes from the other.
    pub take: Vec<kartika_store::MergeField>,
    /// The registry's pairs with other Puskesmas and the proposals, as last answered, or
    /// why they could not be had.
    pub registry: Option<Result<kartika_sync::MergeBoard, String>>,
    /// Whether the registry is being asked.
    pub registry_busy: bool,
}
