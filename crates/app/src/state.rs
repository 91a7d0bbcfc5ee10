//! Everything the screens show, in one place. Views read it and edit only their own form
//! fields; every other change is a [`crate::command::Command`] applied after the frame, or
//! an answer from a worker.

use std::collections::HashMap;
use std::path::PathBuf;

use kartika_demo::{DemoAccount, TrayCard};
use kartika_store::{
    Care, DeskPatient, FacilityProfile, PatientSummary, Payer, ServiceUnit, Session, SyncHealth,
    TimeZone, UnitQueue, VisitTicket, Warning,
};
use kartika_sync::Progress;
use serde::{Deserialize, Serialize};

use crate::problem::Problem;
use crate::text::Lang;
use crate::ticket::PrinterTarget;
use crate::workers::clinic::{ReportKind, ReportQuery};
use crate::workers::reader::ReaderStatus;
use kartika_report::{Report, Sheet};
use kartika_store::{ReportFilter, ReportPeriod};

/// Choices of this workstation remembered between runs (never patient data).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    /// The language of the screens.
    pub lang: Lang,
    /// Where tickets are printed.
    pub printer: PrinterTarget,
    /// The poli this workstation serves.
    #[serde(default)]
    pub poli_unit: Option<String>,
    /// Where and how this workstation backs the store up.
    #[serde(default)]
    pub backup: BackupPlan,
}

/// This workstation's backups: a folder (a second disk, a USB stick), how many dated
/// copies it keeps, and whether one is made each day while the app runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupPlan {
    /// The folder; none chosen yet when empty.
    pub folder: String,
    /// Copies kept.
    pub keep: usize,
    /// One a day while the app runs.
    pub daily: bool,
}

impl Default for BackupPlan {
    fn default() -> Self {
        Self {
            folder: String::new(),
            keep: 7,
            daily: false,
        }
    }
}

/// Which screen is up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Screen {
    /// Waiting for the clinic worker to open the store.
    Opening,
    /// No store yet: the first-run set-up.
    SetUp,
    /// The store could not be opened.
    Broken(Problem),
    /// Nobody is logged in.
    Login,
    /// The registration desk.
    Desk,
    /// The nurse's workspace at a poli.
    Poli,
    /// The admin's room.
    Admin,
    /// The monthly reports.
    Reports,
}

/// What a request to the clinic worker was for, so its answer lands in the right place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pending {
    /// The set-up form.
    SetUp,
    /// The login form.
    LogIn,
    /// A tap's admission.
    Admit,
    /// Opening a patient from the search.
    OpenPatient,
    /// The search.
    Search,
    /// The new-patient form.
    CreatePatient,
    /// The register button.
    RegisterVisit,
    /// The queue counts.
    QueueCounts,
    /// The sync health.
    SyncHealth,
    /// SATUSEHAT's queue.
    Satusehat,
    /// BPJS's queue.
    BpjsQueue,
    /// A workstation's BPJS member check, through the server.
    BpjsMember,
    /// The report on screen.
    Report,
    /// The poli's queue.
    PoliQueue,
    /// Calling or opening a visit.
    OpenVisit,
    /// A change to the open visit (examination, diagnosis).
    VisitChange,
    /// Ending the open visit.
    EndVisit,
    /// The card in the poli's reader, asked of the store.
    PoliCard,
    /// The open patient's history, read again.
    History,
    /// An admin-room request.
    Admin,
    /// The admin's patient search.
    AdminSearch,
    /// A backup or restore.
    Backup,
}

/// The whole app's state.
pub struct State {
    /// Remembered choices.
    pub prefs: Preferences,
    /// The screen.
    pub screen: Screen,
    /// The facility, once the store is open.
    pub facility: Option<FacilityProfile>,
    /// Its service units.
    pub units: Vec<ServiceUnit>,
    /// The logged-in staff member.
    pub session: Option<Session>,
    /// The login form.
    pub login: LoginForm,
    /// The first-run form.
    pub setup: SetupForm,
    /// The readers.
    pub readers: Vec<ReaderStatus>,
    /// pcscd went away.
    pub reader_service_down: bool,
    /// Sync, when a registry is configured.
    pub sync: Option<SyncState>,
    /// The registration desk.
    pub desk: DeskState,
    /// The Laporan view.
    pub reports: ReportsState,
    /// The nurse's workspace.
    pub poli: crate::poli::PoliState,
    /// The admin's room.
    pub admin: crate::admin::AdminState,
    /// This workstation's link to the registry and its terminal certificate.
    pub workstation: WorkstationInfo,
    /// The demo's accounts and cards, in demo mode.
    pub demo: Option<DemoInfo>,
    /// Requests in flight to the clinic worker.
    pub pending: HashMap<u64, Pending>,
    /// The Puskesmas's server stopped answering (a workstation only): what is on screen is
    /// the last data received.
    pub server_away: Option<Problem>,
    /// SATUSEHAT's queue, as last read.
    pub satusehat: Option<kartika_store::DeliveryStatus>,
    /// Why the SATUSEHAT sender paused its last round, if it did.
    pub satusehat_paused: Option<String>,
    /// BPJS's queue (P-Care, Antrean FKTP), as last read.
    pub bpjs_queue: Option<kartika_store::DeliveryStatus>,
    /// Why the BPJS sender paused its last round, if it did.
    pub bpjs_paused: Option<String>,
    /// Where PDF tickets and exported reports are saved.
    pub output_dir: PathBuf,
    /// Whether the settings window is open.
    pub settings_open: bool,
    /// The app's last warnings and errors from its log, read when an admin opens the
    /// settings.
    pub recent_errors: Option<Vec<String>>,
    /// The printer address being typed in the settings.
    pub printer_address: String,
    /// Today in the facility's zone, as of this frame.
    pub today: time::Date,
}

impl State {
    /// Whether a request of this kind is in flight.
    pub fn is_pending(&self, kind: Pending) -> bool {
        self.pending.values().any(|p| *p == kind)
    }

    /// The facility's zone (WIB until the store says otherwise).
    pub fn zone(&self) -> TimeZone {
        self.facility.as_ref().map_or(TimeZone::Wib, |f| f.zone)
    }

    /// The language.
    pub fn lang(&self) -> Lang {
        self.prefs.lang
    }
}

/// The Laporan view.
#[derive(Clone, Debug)]
pub struct ReportsState {
    /// Which report.
    pub kind: ReportKind,
    /// The month shown: year and month.
    pub month: (i32, time::Month),
    /// The day of the daily report.
    pub day: time::Date,
    /// One unit only; `None` for all (admins only).
    pub unit_code: Option<String>,
    /// Count new cases only (the top ten).
    pub new_cases_only: bool,
    /// The report on screen, laid out.
    pub shown: Option<(Report, Sheet)>,
    /// The last failure.
    pub problem: Option<Problem>,
    /// A passing message (report saved).
    pub notice: Option<String>,
}

impl ReportsState {
    /// This month, all units.
    pub fn new(today: time::Date) -> Self {
        Self {
            kind: ReportKind::Lb1,
            month: (today.year(), today.month()),
            day: today,
            unit_code: None,
            new_cases_only: false,
            shown: None,
            problem: None,
            notice: None,
        }
    }

    /// The days the report covers: the month, or the day for the daily report.
    pub fn period(&self) -> ReportPeriod {
        let (year, month) = self.month;
        let day = |d: time::Date| kartika_card::model::format_iso_date(d);
        let first = time::Date::from_calendar_date(year, month, 1).unwrap_or(self.day);
        let last =
            time::Date::from_calendar_date(year, month, month.length(year)).unwrap_or(self.day);
        match self.kind {
            ReportKind::Daily => ReportPeriod {
                from: day(self.day),
                to: day(self.day),
            },
            _ => ReportPeriod {
                from: day(first),
                to: day(last),
            },
        }
    }

    /// What to ask the store for.
    pub fn query(&self) -> ReportQuery {
        ReportQuery {
            kind: self.kind,
            period: self.period(),
            filter: ReportFilter {
                unit_code: self.unit_code.clone(),
                new_cases_only: self.new_cases_only,
            },
        }
    }
}

/// The demo's extras.
#[derive(Clone, Debug)]
pub struct DemoInfo {
    /// The accounts shown on the login screen.
    pub accounts: Vec<DemoAccount>,
    /// The card tray.
    pub tray: Vec<TrayCard>,
    /// The tray card in the reader now.
    pub inserted: Option<usize>,
}

/// The login form.
#[derive(Clone, Debug)]
pub struct LoginForm {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
    /// Why the last attempt failed.
    pub problem: Option<Problem>,
    /// Where the keyboard goes the next time the form is drawn: the username when the
    /// screen opens, the password again after a refusal.
    pub keyboard_to: Option<LoginField>,
}

impl Default for LoginForm {
    fn default() -> Self {
        Self {
            username: String::new(),
            password: String::new(),
            problem: None,
            keyboard_to: Some(LoginField::Username),
        }
    }
}

/// A field of the login form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginField {
    /// The username.
    Username,
    /// The password.
    Password,
}

/// The first-run form.
#[derive(Clone, Debug)]
pub struct SetupForm {
    /// Facility code.
    pub code: String,
    /// Facility name.
    pub name: String,
    /// Catchment region code.
    pub catchment: String,
    /// Time zone.
    pub zone: TimeZone,
    /// First admin's login.
    pub admin_username: String,
    /// First admin's name.
    pub admin_name: String,
    /// First admin's password.
    pub admin_password: String,
    /// Run without a registry.
    pub standalone: bool,
    /// The registry's address.
    pub registry_url: String,
    /// The node's token from the registry.
    pub registry_token: String,
    /// Why the last attempt failed.
    pub problem: Option<Problem>,
    /// After set-up: the node's public key file, to give the registry's operator.
    pub node_public_key: Option<PathBuf>,
}

impl Default for SetupForm {
    fn default() -> Self {
        Self {
            code: String::new(),
            name: String::new(),
            catchment: String::new(),
            zone: TimeZone::Wib,
            admin_username: "admin".into(),
            admin_name: String::new(),
            admin_password: String::new(),
            standalone: true,
            registry_url: String::new(),
            registry_token: String::new(),
            problem: None,
            node_public_key: None,
        }
    }
}

/// What the admin sees of this workstation's link and certificate.
#[derive(Clone, Debug, Default)]
pub struct WorkstationInfo {
    /// The registry's address, unless standalone.
    pub registry: Option<String>,
    /// The node token's first characters, the rest hidden.
    pub token_hint: Option<String>,
    /// The node named in the terminal certificate.
    pub node_id: Option<String>,
    /// The day the terminal certificate ends.
    pub certificate_until: Option<time::Date>,
}

/// Sync as the top bar shows it.
#[derive(Clone, Debug, Default)]
pub struct SyncState {
    /// The worker's latest progress.
    pub progress: Progress,
    /// The store's latest sync health.
    pub health: Option<SyncHealth>,
}

/// The tap's verdict at the desk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TapVerdict {
    /// A card is being read.
    Reading,
    /// Genuine, and the store is finding the patient.
    Admitting,
    /// Genuine card of a patient known here.
    Genuine,
    /// Genuine card; the patient was registered here from it.
    GenuineNewHere,
    /// Refused, with why and what to do.
    Refused(Problem),
}

/// The registration desk.
#[derive(Clone, Debug, Default)]
pub struct DeskState {
    /// The last tap's verdict.
    pub verdict: Option<TapVerdict>,
    /// The patient at the desk.
    pub patient: Option<DeskPatient>,
    /// What the store asked the clerk to check about this patient.
    pub warnings: Vec<Warning>,
    /// The visit being opened.
    pub choice: VisitChoice,
    /// The ticket shown large after registering (or for a reprint).
    pub ticket: Option<VisitTicket>,
    /// The search without a card.
    pub search: SearchForm,
    /// The new-patient form, while open.
    pub new_patient: Option<NewPatientForm>,
    /// Today's queue per unit.
    pub queue: Vec<UnitQueue>,
    /// The last failure of a desk operation.
    pub problem: Option<Problem>,
    /// A passing message (ticket printed, PDF saved).
    pub notice: Option<String>,
    /// What BPJS said of the patient's card number, when asked.
    pub bpjs: Option<(String, crate::workers::bpjs::BpjsLine)>,
}

/// Unit, payer and care of the visit being opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisitChoice {
    /// The unit's code.
    pub unit_code: String,
    /// Who pays.
    pub payer: Payer,
    /// Sick or well.
    pub care: Care,
}

impl Default for VisitChoice {
    fn default() -> Self {
        Self {
            unit_code: "general".into(),
            payer: Payer::General,
            care: Care::Sick,
        }
    }
}

/// The search without a card.
#[derive(Clone, Debug, Default)]
pub struct SearchForm {
    /// What was typed.
    pub text: String,
    /// Birth date `DD-MM-YYYY`, to narrow a name.
    pub birth_date: String,
    /// The results of the last search.
    pub results: Option<Vec<PatientSummary>>,
}

/// The new-patient form.
#[derive(Clone, Debug, Default)]
pub struct NewPatientForm {
    /// Full name.
    pub name: String,
    /// NIK.
    pub nik: String,
    /// `DD-MM-YYYY`.
    pub birth_date: String,
    /// Sex, once chosen.
    pub sex: Option<kartika_card::model::Sex>,
    /// BPJS number.
    pub bpjs_number: String,
    /// No. KK.
    pub family_card_number: String,
    /// Street address.
    pub address: String,
    /// Village code.
    pub region_code: String,
    /// Phone.
    pub phone: String,
}
