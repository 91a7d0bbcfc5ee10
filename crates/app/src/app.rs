//! The app: state, workers and the frame loop. Each frame reads what the workers sent,
//! draws, then applies the commands the views pushed.

mod admin;
mod poli;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::time::Instant;

use eframe::egui;
use kartika_card::crypto::TrustAnchors;
use kartika_demo::{DemoAccount, TrayCard};
use kartika_store::{
    Clock, FacilityProfile, NewPatient, NewStaff, NewVisit, PatientQuery, Payer, Role, TapOutcome,
    TimeZone,
};
use kartika_sync::SyncConfig;

use crate::command::{Command, Commands};
use crate::format;
use crate::problem::Problem;
use crate::state::{
    DemoInfo, DeskState, LoginField, LoginForm, Pending, Preferences, ReportsState, Screen,
    SetupForm, State, SyncState, TapVerdict, VisitChoice,
};
use crate::text::{Lang, T};
use crate::ticket::{self, TicketText};
use crate::views;
use crate::workers::bpjs::{BpjsLine, BpjsWorker};
use crate::workers::clinic::{
    ClinicAnswer, ClinicReply, ClinicRequest, ClinicWorker, Operation, ReportKind,
};
use crate::workers::outside::OutsideWorker;
use crate::workers::reader::{ReaderCommand, ReaderSetup, ReaderState, ReaderUpdate, ReaderWorker};
use crate::workers::remote::ServerLink;
use crate::workers::sync::SyncWorker;
use crate::workers::Waker;
use crate::workstation::RegistryLink;

/// The key under which eframe keeps the preferences.
const PREFERENCES_KEY: &str = "kartika-preferences";

/// How the app is wired: where its data is, whom it trusts, what it talks to.
pub struct AppConfig {
    /// The clinic store (made by the first-run set-up when missing).
    pub store_path: PathBuf,
    /// Where PDF tickets (`tickets/`) and exported reports (`reports/`) are saved.
    pub output_dir: PathBuf,
    /// The registry roots cards must chain to.
    pub trust: TrustAnchors,
    /// Watch PC/SC readers.
    pub pcsc: bool,
    /// The registry to sync with; `None` runs standalone.
    pub sync: Option<SyncConfig>,
    /// The Puskesmas's server, on a workstation whose store is there; `None` keeps the
    /// store on this PC.
    pub server: Option<ServerLink>,
    /// The demo's accounts and card tray.
    pub demo: Option<DemoConfig>,
    /// This workstation's terminal key and certificate, which let the poli write to cards;
    /// without them the poli only reads.
    pub terminal: Option<kartika_card::crypto::NodeCredentials>,
    /// The clock (a settable one in tests).
    pub clock: Arc<dyn Clock>,
    /// Told each time a worker wakes the UI: lets a test wait for the app's news.
    pub wake_hook: Option<Sender<()>>,
    /// When given, the app prints to standard error how long after this instant its first
    /// frame was drawn, and how long each tap took to reach the screen (for benchmarks).
    pub report_timings: Option<Instant>,
}

/// What the demo adds to the screens.
#[derive(Clone, Debug)]
pub struct DemoConfig {
    /// One account per role, shown on the login screen.
    pub accounts: Vec<DemoAccount>,
    /// The cards to tap.
    pub tray: Vec<TrayCard>,
}

/// The log lines an admin sees in Pengaturan.
const RECENT_ERRORS: usize = 20;

/// The Kartika desktop app.
pub struct KartikaApp {
    state: State,
    clinic: ClinicWorker,
    readers: ReaderWorker,
    sync: Option<SyncWorker>,
    sync_config: Option<SyncConfig>,
    /// SATUSEHAT's sender, on a PC whose store is its own.
    satusehat: Option<OutsideWorker>,
    /// BPJS's sender (P-Care, Antrean FKTP), on a PC whose store is its own.
    bpjs_sender: Option<OutsideWorker>,
    /// The desk's BPJS member check, on a PC whose store is its own.
    bpjs: Option<BpjsWorker>,
    /// On a workstation, what the server said of each member today (by card: the day and
    /// the line), so a second look asks nobody.
    bpjs_kept: HashMap<String, (String, BpjsLine)>,
    /// Whether the store is on this PC (not a workstation's server).
    store_here: bool,
    store_path: PathBuf,
    clock: Arc<dyn Clock>,
    waker: Waker,
    timings: Option<Timings>,
    files: (Sender<FileOutcome>, Receiver<FileOutcome>),
    /// The log's last warnings, read off the UI thread.
    errors: (Sender<Vec<String>>, Receiver<Vec<String>>),
}

/// What printing a ticket or saving a file came to, for the screen that asked: a notice,
/// or the problem.
type FileOutcome = (Screen, Result<String, Problem>);

impl KartikaApp {
    /// Starts the workers and opens on the login (or set-up) screen.
    pub fn new(cc: &eframe::CreationContext<'_>, config: AppConfig) -> Self {
        let prefs: Preferences = cc
            .storage
            .and_then(|storage| eframe::get_value(storage, PREFERENCES_KEY))
            .unwrap_or_default();
        let waker = Waker::new(&cc.egui_ctx, config.wake_hook);
        let clinic = match &config.server {
            Some(server) => {
                ClinicWorker::start_remote(server.clone(), Arc::clone(&config.clock), waker.clone())
            }
            None => ClinicWorker::start(
                config.store_path.clone(),
                Arc::clone(&config.clock),
                config.trust.clone(),
                waker.clone(),
            ),
        };
        // On a workstation the server PC syncs the store; this PC has none to sync.
        let sync_config = config.sync.filter(|_| config.server.is_none());
        let workstation = crate::state::WorkstationInfo {
            registry: sync_config.as_ref().map(|c| c.registry.clone()),
            token_hint: sync_config
                .as_ref()
                .map(|c| format!("{}…", c.token.chars().take(4).collect::<String>())),
            node_id: config
                .terminal
                .as_ref()
                .map(|t| t.certificate().node_id().to_owned()),
            certificate_until: config
                .terminal
                .as_ref()
                .map(|t| t.certificate().valid_until()),
        };
        let readers = ReaderWorker::start(
            ReaderSetup {
                pcsc: config.pcsc,
                trust: config.trust,
                terminal: config.terminal,
            },
            Arc::clone(&config.clock),
            waker.clone(),
        );
        let printer_address = match &prefs.printer {
            ticket::PrinterTarget::Network(a) => a.clone(),
            ticket::PrinterTarget::Device(p) => p.display().to_string(),
            ticket::PrinterTarget::None => String::new(),
        };
        let state = State {
            prefs,
            screen: Screen::Opening,
            facility: None,
            units: Vec::new(),
            session: None,
            login: LoginForm::default(),
            setup: SetupForm::default(),
            readers: Vec::new(),
            reader_service_down: false,
            sync: sync_config.as_ref().map(|_| SyncState::default()),
            desk: DeskState::default(),
            reports: ReportsState::new(config.clock.now().date()),
            poli: crate::poli::PoliState::default(),
            admin: crate::admin::AdminState::default(),
            workstation,
            demo: config.demo.map(|d| DemoInfo {
                accounts: d.accounts,
                tray: d.tray,
                inserted: None,
            }),
            pending: HashMap::new(),
            server_away: None,
            satusehat: None,
            satusehat_paused: None,
            bpjs_queue: None,
            bpjs_paused: None,
            output_dir: config.output_dir,
            settings_open: false,
            recent_errors: None,
            printer_address,
            today: config.clock.now().date(),
        };
        Self {
            state,
            clinic,
            readers,
            sync: None,
            sync_config,
            satusehat: None,
            bpjs_sender: None,
            bpjs: None,
            bpjs_kept: HashMap::new(),
            store_here: config.server.is_none(),
            store_path: config.store_path,
            clock: config.clock,
            waker,
            timings: config.report_timings.map(|started| Timings {
                started,
                first_frame_done: false,
                tap_seen_at: None,
            }),
            files: mpsc::channel(),
            errors: mpsc::channel(),
        }
    }

    /// The state, for tests.
    pub fn state(&self) -> &State {
        &self.state
    }

    fn ask(&mut self, kind: Pending, request: ClinicRequest) {
        let id = self.clinic.send(request);
        self.state.pending.insert(id, kind);
    }

    /// Asks the store as the logged-in account; nothing without one.
    fn session_request(&mut self, kind: Pending, operation: Operation) {
        if let Some(session) = self.state.session.clone() {
            self.ask(kind, ClinicRequest::Store { session, operation });
        }
    }

    /// Reads everything the workers sent since the last frame.
    fn receive(&mut self) {
        self.state.today = self
            .clock
            .now()
            .to_offset(zone_offset(self.state.zone()))
            .date();
        let replies: Vec<ClinicReply> = self.clinic.replies().collect();
        for reply in replies {
            self.on_clinic_reply(reply);
        }
        let updates: Vec<ReaderUpdate> = self.readers.updates().collect();
        for update in updates {
            self.on_reader_update(update);
        }
        let fetched: Vec<_> = self.sync.iter().flat_map(SyncWorker::fetched).collect();
        for (patient_number, outcome) in fetched {
            self.on_fetched(patient_number, outcome);
        }
        let boards: Vec<_> = self.sync.iter().flat_map(SyncWorker::boards).collect();
        for board in boards {
            self.on_registry_board(board);
        }
        let checked: Vec<_> = self.bpjs.iter().flat_map(BpjsWorker::answers).collect();
        for (card, line) in checked {
            self.show_bpjs_line(card, line);
        }
        let rounds: Vec<_> = self
            .satusehat
            .iter()
            .flat_map(OutsideWorker::rounds)
            .collect();
        if !rounds.is_empty() {
            self.state.satusehat_paused = rounds.into_iter().last().flatten();
            self.refresh_satusehat();
        }
        let rounds: Vec<_> = self
            .bpjs_sender
            .iter()
            .flat_map(OutsideWorker::rounds)
            .collect();
        if !rounds.is_empty() {
            self.state.bpjs_paused = rounds.into_iter().last().flatten();
            self.refresh_bpjs_queue();
        }
        let progress: Vec<_> = self.sync.iter().flat_map(SyncWorker::progress).collect();
        for p in progress {
            let round_ended = !p.running;
            if let Some(sync) = &mut self.state.sync {
                sync.progress = p;
            }
            if round_ended {
                self.ask(Pending::SyncHealth, ClinicRequest::SyncHealth);
            }
        }
        while let Ok(lines) = self.errors.1.try_recv() {
            self.state.recent_errors = Some(lines);
        }
        while let Ok((screen, outcome)) = self.files.1.try_recv() {
            let (notice, problem) = match screen {
                Screen::Reports => (
                    &mut self.state.reports.notice,
                    &mut self.state.reports.problem,
                ),
                _ => (&mut self.state.desk.notice, &mut self.state.desk.problem),
            };
            match outcome {
                Ok(text) => *notice = Some(text),
                Err(p) => *problem = Some(p),
            }
        }
    }

    fn on_clinic_reply(&mut self, reply: ClinicReply) {
        let kind = self.state.pending.remove(&reply.id);
        let answer = match reply.answer {
            // Only news from the server itself says it is back: an answer may come from
            // this PC's own records while it is away.
            Ok(answer @ (ClinicAnswer::ChangedElsewhere | ClinicAnswer::Opened { .. })) => {
                self.state.server_away = None;
                answer
            }
            Ok(answer) => answer,
            Err(problem) => return self.on_clinic_error(kind, reply.id, problem),
        };
        match answer {
            ClinicAnswer::Opened { profile, units } => self.on_opened(profile, units),
            ClinicAnswer::NeedsSetUp => self.state.screen = Screen::SetUp,
            ClinicAnswer::LoggedOut => {}
            ClinicAnswer::SetUpDone {
                profile,
                units,
                node_public_key,
                registry,
            } => {
                if let Some(link) = registry {
                    self.sync_config = Some(SyncConfig::new(&link.url, &link.token));
                    self.state.sync = Some(SyncState::default());
                }
                self.state.setup.node_public_key = Some(node_public_key);
                self.on_opened(profile, units);
            }
            ClinicAnswer::LoggedIn(session) => {
                self.state.login = LoginForm::default();
                let role = session.role();
                self.state.session = Some(session);
                self.state.reports = ReportsState::new(self.state.today);
                self.refresh_satusehat();
                match role {
                    Role::Registration | Role::Admin => {
                        self.state.screen = Screen::Desk;
                        self.refresh_counts();
                        self.read_cards_on_readers();
                    }
                    Role::Nurse => {
                        // A nurse reads her own unit's reports, and no others.
                        self.state.reports.unit_code = self.poli_unit();
                        self.show_poli();
                    }
                }
            }
            ClinicAnswer::Admitted { outcome, desk } => {
                let desk_state = &mut self.state.desk;
                match outcome {
                    TapOutcome::Known { warnings, .. } => {
                        desk_state.verdict = Some(TapVerdict::Genuine);
                        desk_state.warnings = warnings;
                    }
                    TapOutcome::RegisteredFromCard { warnings, .. } => {
                        desk_state.verdict = Some(TapVerdict::GenuineNewHere);
                        desk_state.warnings = warnings;
                    }
                    TapOutcome::Refused { reason, .. } => {
                        desk_state.verdict =
                            Some(TapVerdict::Refused(Problem::refused_card(&reason)));
                    }
                }
                if let Some(desk) = desk {
                    self.show_patient(*desk);
                }
            }
            ClinicAnswer::Desk(desk) => self.show_patient(*desk),
            ClinicAnswer::Found(hits) if kind == Some(Pending::AdminSearch) => {
                self.state.admin.results = Some(hits);
            }
            ClinicAnswer::Found(hits) => self.state.desk.search.results = Some(hits),
            ClinicAnswer::Created { created, desk } => {
                self.state.desk.new_patient = None;
                self.state.desk.search = Default::default();
                self.show_patient(*desk);
                self.state.desk.warnings = created.warnings;
            }
            ClinicAnswer::Registered(ticket) => {
                self.state.desk.ticket = Some(ticket);
                // A BPJS visit goes to P-Care and Antrean at once, off the desk's path.
                if let Some(worker) = &self.bpjs_sender {
                    worker.nudge();
                }
                self.refresh_counts();
                self.ask(Pending::SyncHealth, ClinicRequest::SyncHealth);
            }
            ClinicAnswer::QueueCounts(counts) => self.state.desk.queue = counts,
            ClinicAnswer::Satusehat(status) => {
                // The form shows the link as set up when first read and after a save; a
                // round's refresh leaves what the admin is typing.
                if let Some(link) = &status.link {
                    if !self.state.admin.satusehat.set_up || kind == Some(Pending::Admin) {
                        self.state.admin.satusehat = crate::admin::SatusehatForm::from_link(link);
                    }
                }
                self.state.satusehat = Some(*status);
                // After "Kirim ulang" the sender looks at once.
                if kind == Some(Pending::Admin) {
                    self.nudge_outside();
                }
            }
            ClinicAnswer::BpjsMember { card, check } => {
                let line = BpjsLine::from(check);
                // BPJS's answer holds for the day; not having one does not.
                if !matches!(line, BpjsLine::Unchecked(_)) {
                    let today = self.state.today.to_string();
                    self.bpjs_kept.insert(card.clone(), (today, line.clone()));
                }
                self.show_bpjs_line(card, line);
            }
            ClinicAnswer::Bpjs(status) => {
                self.state.bpjs_queue = Some(*status);
                // After "Kirim ulang" the sender looks at once.
                if kind == Some(Pending::Admin) {
                    self.nudge_outside();
                }
            }
            ClinicAnswer::Report(report) => {
                let sheet = report.sheet();
                self.state.reports.shown = Some((*report, sheet));
            }
            ClinicAnswer::SyncHealth(health) => {
                if let Some(sync) = &mut self.state.sync {
                    sync.health = Some(health);
                }
            }
            admin @ (ClinicAnswer::PatientCards(..)
            | ClinicAnswer::CardIdentity(_)
            | ClinicAnswer::Staff(_)
            | ClinicAnswer::Workstations(_)
            | ClinicAnswer::Duplicates(_)
            | ClinicAnswer::MergePlan(_)
            | ClinicAnswer::Audit(_)
            | ClinicAnswer::AuditVerdict(_)
            | ClinicAnswer::SyncDetails(..)
            | ClinicAnswer::FacilityChanged(..)
            | ClinicAnswer::BackedUp(_)
            | ClinicAnswer::Restored(_)) => self.on_admin_answer(kind, admin),
            ClinicAnswer::BackupPlanSet => {}
            ClinicAnswer::ChangedElsewhere => match self.state.screen {
                Screen::Poli => self.refresh_poli_queue(),
                Screen::Desk => self.refresh_counts(),
                _ => {}
            },
            poli => self.on_poli_answer(poli),
        }
    }

    fn on_clinic_error(&mut self, kind: Option<Pending>, id: u64, problem: Problem) {
        match (&problem, kind) {
            (Problem::ServerUnreachable(_), None) => {
                self.state.server_away = Some(problem);
                return;
            }
            // The server restarted or the session sat idle too long: log in again.
            (Problem::SessionEnded, _) if self.state.session.is_some() => {
                // Said by the server, so it answers again.
                self.state.server_away = None;
                self.state.session = None;
                self.state.screen = Screen::Login;
                self.state.login.problem = Some(problem);
                self.state.login.keyboard_to = Some(LoginField::Username);
                return;
            }
            _ => {}
        }
        match kind {
            // The worker's first answer: the store itself.
            None if id == 0 => self.state.screen = Screen::Broken(problem),
            Some(Pending::LogIn) => {
                self.state.login.problem = Some(problem);
                self.state.login.password.clear();
                self.state.login.keyboard_to = Some(LoginField::Password);
            }
            Some(Pending::SetUp) => self.state.setup.problem = Some(problem),
            Some(Pending::Admit) => {
                self.state.desk.verdict = Some(TapVerdict::Refused(problem));
            }
            Some(Pending::Report) => self.state.reports.problem = Some(problem),
            Some(Pending::PoliCard) => {
                self.state.poli.card = None;
                self.state.poli.problem = Some(match problem {
                    Problem::NotFound => Problem::NotRegisteredHere,
                    other => other,
                });
            }
            Some(Pending::Admin | Pending::AdminSearch | Pending::Backup) => {
                if let Some(form) = &mut self.state.admin.issue {
                    form.running = false;
                }
                self.state.admin.problem = Some(problem);
            }
            Some(
                Pending::PoliQueue
                | Pending::OpenVisit
                | Pending::VisitChange
                | Pending::EndVisit
                | Pending::History,
            ) => self.state.poli.problem = Some(problem),
            // The top bar's count is a courtesy: it stays as it was.
            Some(Pending::Satusehat | Pending::BpjsQueue) => {}
            // The desk goes on; its BPJS line says the status was not checked.
            Some(Pending::BpjsMember) => {
                if let Some((card, BpjsLine::Checking)) = &self.state.desk.bpjs {
                    let line = BpjsLine::Unchecked(problem.text(self.state.lang()));
                    self.state.desk.bpjs = Some((card.clone(), line));
                }
            }
            Some(Pending::SyncHealth) => {
                let text = problem.text(self.state.lang());
                if let Some(sync) = &mut self.state.sync {
                    sync.progress.last_error = Some(text);
                }
            }
            _ => self.state.desk.problem = Some(problem),
        }
    }

    fn on_opened(&mut self, profile: FacilityProfile, units: Vec<kartika_store::ServiceUnit>) {
        self.readers
            .send(ReaderCommand::Zone(zone_offset(profile.zone)));
        self.state.facility = Some(profile);
        self.state.units = units;
        self.state.screen = Screen::Login;
        self.restart_sync();
        if self.store_here && self.satusehat.is_none() {
            self.satusehat = Some(OutsideWorker::satusehat(
                self.store_path.clone(),
                self.waker.clone(),
            ));
        }
        if self.store_here && self.bpjs_sender.is_none() {
            self.bpjs_sender = Some(OutsideWorker::bpjs(
                self.store_path.clone(),
                self.waker.clone(),
            ));
        }
        if self.store_here && self.bpjs.is_none() {
            self.bpjs = Some(BpjsWorker::start(
                self.store_path.clone(),
                self.waker.clone(),
            ));
        }
        self.send_backup_plan();
    }

    /// Reads the log's last warnings and errors for an admin, on a thread of its own.
    fn read_recent_errors(&mut self) {
        let admin = self
            .state
            .session
            .as_ref()
            .is_some_and(|s| s.role() == Role::Admin);
        if !admin {
            self.state.recent_errors = None;
            return;
        }
        let folder = self.state.output_dir.join("logs");
        let (done, waker) = (self.errors.0.clone(), self.waker.clone());
        let _ = std::thread::Builder::new()
            .name("recent-errors".into())
            .spawn(move || {
                let _ = done.send(crate::recent_errors::recent_errors(&folder, RECENT_ERRORS));
                waker.wake();
            });
    }

    /// Tells this PC's senders to outside systems, if it has them, to look for due visits
    /// now.
    pub(crate) fn nudge_outside(&self) {
        for worker in self.satusehat.iter().chain(&self.bpjs_sender) {
            worker.nudge();
        }
    }

    /// Reads SATUSEHAT's queue again: the counts for the top bar, and the visits not sent
    /// when the admin's Sinkronisasi is on screen.
    pub(crate) fn refresh_satusehat(&mut self) {
        let list = self.state.screen == Screen::Admin
            && self.state.admin.tab == crate::admin::AdminTab::Sync;
        self.session_request(Pending::Satusehat, Operation::SatusehatStatus { list });
    }

    /// Reads BPJS's queue again, as [`Self::refresh_satusehat`] SATUSEHAT's.
    pub(crate) fn refresh_bpjs_queue(&mut self) {
        let list = self.state.screen == Screen::Admin
            && self.state.admin.tab == crate::admin::AdminTab::Sync;
        self.session_request(Pending::BpjsQueue, Operation::BpjsStatus { list });
    }

    /// Starts the sync worker when a registry is linked and none runs.
    fn restart_sync(&mut self) {
        if self.sync.is_none() {
            if let Some(config) = self.sync_config.clone() {
                self.sync = Some(SyncWorker::start(
                    self.store_path.clone(),
                    config,
                    Arc::clone(&self.clock),
                    self.waker.clone(),
                ));
            }
        }
    }

    /// BPJS's word on the member with card `card`, shown if that patient is still at the
    /// desk (the clerk may have moved on while BPJS was asked).
    fn show_bpjs_line(&mut self, card: String, line: BpjsLine) {
        let on_screen = self
            .state
            .desk
            .patient
            .as_ref()
            .and_then(|d| d.patient.bpjs_number.as_ref());
        if on_screen == Some(&card) {
            self.state.desk.bpjs = Some((card, line));
        }
    }

    fn show_patient(&mut self, desk: kartika_store::DeskPatient) {
        let choice = VisitChoice {
            payer: if desk.patient.bpjs_number.is_some() {
                Payer::BpjsPbi
            } else {
                Payer::General
            },
            ..VisitChoice::default()
        };
        self.state.desk.choice = choice;
        self.state.desk.ticket = None;
        self.state.desk.problem = None;
        self.state.desk.notice = None;
        // BPJS is asked while the patient is already on screen; the desk does not wait.
        self.state.desk.bpjs = None;
        let today = self.state.today.to_string();
        match (&desk.patient.bpjs_number, &self.bpjs) {
            (Some(card), Some(worker)) => {
                if let Some(session) = &self.state.session {
                    worker.check(card, desk.patient.nik.as_deref(), &today, session);
                    self.state.desk.bpjs = Some((card.clone(), BpjsLine::Checking));
                }
            }
            // A workstation asks through the server, which holds BPJS's set-up.
            (Some(card), None) if !self.store_here => match self.bpjs_kept.get(card) {
                Some((day, line)) if *day == today => {
                    self.state.desk.bpjs = Some((card.clone(), line.clone()));
                }
                _ => {
                    let operation = Operation::BpjsMember {
                        card: card.clone(),
                        nik: desk.patient.nik.clone(),
                    };
                    self.session_request(Pending::BpjsMember, operation);
                    self.state.desk.bpjs = Some((card.clone(), BpjsLine::Checking));
                }
            },
            _ => {}
        }
        self.state.desk.patient = Some(desk);
    }

    /// A screen that takes taps has opened: a card already lying on a reader is read
    /// there, as if just tapped.
    fn read_cards_on_readers(&mut self) {
        let lying = self
            .state
            .readers
            .iter()
            .any(|r| r.state == ReaderState::CardPresent);
        if lying {
            if self.state.screen == Screen::Desk {
                self.state.desk.verdict = Some(TapVerdict::Reading);
            }
            self.readers.send(ReaderCommand::ReadAgain);
        }
    }

    /// "Reading the card" ends when no card is left to read: the card was pulled before
    /// its verdict reached the desk, or the verdict went to another screen.
    fn forget_desk_reading(&mut self) {
        let card_there = self
            .state
            .readers
            .iter()
            .any(|r| r.state != ReaderState::Waiting);
        if !card_there && self.state.desk.verdict == Some(TapVerdict::Reading) {
            self.state.desk.verdict = None;
        }
    }

    fn refresh_counts(&mut self) {
        self.session_request(Pending::QueueCounts, Operation::QueueCounts {});
    }

    fn on_reader_update(&mut self, update: ReaderUpdate) {
        match update {
            ReaderUpdate::Readers {
                readers,
                service_down,
            } => {
                self.state.readers = readers;
                self.state.reader_service_down = service_down;
                self.forget_pulled_card();
                self.forget_admin_card();
                self.forget_desk_reading();
            }
            ReaderUpdate::DemoCard(path) => {
                if let Some(demo) = &mut self.state.demo {
                    demo.inserted = path.and_then(|p| demo.tray.iter().position(|c| c.path == p));
                }
            }
            ReaderUpdate::IssueStep(step) => self.on_issue_step(step),
            ReaderUpdate::Card {
                card_number,
                result,
            } if self.state.screen == Screen::Admin => {
                self.on_admin_card_found(card_number, result)
            }
            ReaderUpdate::Card {
                card_number,
                result,
            } => self.on_card_found(&card_number, result),
            ReaderUpdate::Tapped { reader, result, .. } if self.state.screen == Screen::Admin => {
                self.on_admin_tap(reader, result);
            }
            ReaderUpdate::Tapped {
                reader,
                result,
                proof,
                ..
            } if self.state.screen == Screen::Poli => {
                self.on_poli_tap(reader, result, proof);
            }
            ReaderUpdate::Tapped {
                result,
                proof,
                evidence,
                seen_at,
                ..
            } => {
                if self.state.screen != Screen::Desk {
                    return;
                }
                if let Some(timings) = &mut self.timings {
                    timings.tap_seen_at = Some(seen_at);
                }
                let desk = &mut self.state.desk;
                desk.patient = None;
                desk.ticket = None;
                desk.warnings.clear();
                desk.problem = None;
                desk.notice = None;
                match (result, evidence) {
                    (Ok(_), Some(tap)) => {
                        desk.verdict = Some(TapVerdict::Admitting);
                        self.session_request(Pending::Admit, Operation::AdmitCard { tap, proof });
                    }
                    (Ok(_), None) => {
                        desk.verdict = Some(TapVerdict::Refused(Problem::PulledTooEarly));
                    }
                    (Err(problem), _) => desk.verdict = Some(TapVerdict::Refused(problem)),
                }
            }
        }
    }

    /// Applies one command.
    fn apply(&mut self, command: Command) {
        match command {
            Command::SetLanguage(lang) => self.state.prefs.lang = lang,
            Command::UseDemoAccount(index) => {
                if let Some(account) = self.state.demo.as_ref().and_then(|d| d.accounts.get(index))
                {
                    self.state.login.username = account.username.clone();
                    self.state.login.password = account.password.clone();
                }
            }
            Command::LogIn => {
                self.state.login.problem = None;
                let request = ClinicRequest::LogIn {
                    username: self.state.login.username.trim().to_owned(),
                    password: self.state.login.password.clone(),
                };
                self.ask(Pending::LogIn, request);
            }
            Command::LogOut => {
                self.clinic.send(ClinicRequest::LogOut);
                self.state.session = None;
                self.state.desk = DeskState::default();
                self.state.poli = crate::poli::PoliState::default();
                self.state.admin = crate::admin::AdminState::default();
                // The next person starts with an empty reader.
                if let Some(demo) = &mut self.state.demo {
                    if demo.inserted.take().is_some() {
                        self.readers.send(ReaderCommand::PullVirtual);
                    }
                }
                self.state.login.keyboard_to = Some(LoginField::Username);
                self.state.screen = Screen::Login;
            }
            Command::SetUp => self.set_up(),
            Command::TapDemoCard(index) => {
                let Some(demo) = &mut self.state.demo else {
                    return;
                };
                if let Some(card) = demo.tray.get(index) {
                    demo.inserted = Some(index);
                    if self.state.screen == Screen::Desk {
                        self.state.desk.verdict = Some(TapVerdict::Reading);
                    }
                    self.readers
                        .send(ReaderCommand::TapVirtual(card.path.clone()));
                }
            }
            Command::PullDemoCard => {
                if let Some(demo) = &mut self.state.demo {
                    demo.inserted = None;
                }
                self.readers.send(ReaderCommand::PullVirtual);
            }
            Command::OpenPatient(patient_number) => {
                self.state.desk.verdict = None;
                self.state.desk.warnings.clear();
                self.session_request(
                    Pending::OpenPatient,
                    Operation::DeskPatient { patient_number },
                );
            }
            Command::Search => self.search(),
            Command::StartNewPatient => {
                let typed = self.state.desk.search.text.trim().to_owned();
                let mut form = crate::state::NewPatientForm {
                    birth_date: self.state.desk.search.birth_date.clone(),
                    ..Default::default()
                };
                if typed.len() == 16 && typed.bytes().all(|b| b.is_ascii_digit()) {
                    form.nik = typed;
                } else if !typed.bytes().any(|b| b.is_ascii_digit()) {
                    form.name = typed;
                }
                self.state.desk.new_patient = Some(form);
                self.state.desk.problem = None;
            }
            Command::CancelNewPatient => {
                self.state.desk.new_patient = None;
                self.state.desk.problem = None;
            }
            Command::SaveNewPatient => self.save_new_patient(),
            Command::RegisterVisit => {
                let Some(patient) = &self.state.desk.patient else {
                    return;
                };
                let choice = &self.state.desk.choice;
                let visit = NewVisit {
                    patient_number: patient.patient.patient_number.clone(),
                    unit_code: choice.unit_code.clone(),
                    payer: choice.payer,
                    care: choice.care,
                    complaint: None,
                };
                self.state.desk.problem = None;
                self.session_request(Pending::RegisterVisit, Operation::RegisterVisit { visit });
            }
            Command::Reprint(ticket) => self.state.desk.ticket = Some(ticket),
            Command::PrintTicket => self.print_ticket(false),
            Command::SaveTicketPdf => self.print_ticket(true),
            Command::NextPatient => {
                let queue = std::mem::take(&mut self.state.desk.queue);
                self.state.desk = DeskState {
                    queue,
                    ..DeskState::default()
                };
                if let Some(demo) = &mut self.state.demo {
                    if demo.inserted.take().is_some() {
                        self.readers.send(ReaderCommand::PullVirtual);
                    }
                }
            }
            Command::ToggleSettings => {
                self.state.settings_open = !self.state.settings_open;
                if self.state.settings_open {
                    self.read_recent_errors();
                }
            }
            Command::SetPrinter(target) => self.state.prefs.printer = target,
            Command::Show(Screen::Reports) => self.show_reports(),
            Command::Show(Screen::Poli) => self.show_poli(),
            Command::Show(Screen::Admin) => self.show_admin(),
            Command::Show(screen) => {
                let desk_opened = screen == Screen::Desk && self.state.screen != screen;
                self.state.screen = screen;
                self.refresh_counts();
                if desk_opened {
                    self.read_cards_on_readers();
                }
            }
            Command::SetReportKind(kind) => {
                self.state.reports.kind = kind;
                self.load_report();
            }
            Command::ShiftReportPeriod(step) => {
                let reports = &mut self.state.reports;
                if reports.kind == ReportKind::Daily {
                    reports.day += time::Duration::days(i64::from(step));
                } else {
                    reports.month = shift_month(reports.month, step);
                }
                self.load_report();
            }
            Command::SetReportUnit(unit) => {
                self.state.reports.unit_code = unit;
                self.load_report();
            }
            Command::SetNewCasesOnly(on) => {
                self.state.reports.new_cases_only = on;
                self.load_report();
            }
            Command::ExportReport(format) => self.export_report(format),
            poli => self.apply_poli(poli),
        }
    }

    fn show_reports(&mut self) {
        self.state.screen = Screen::Reports;
        self.load_report();
    }

    fn load_report(&mut self) {
        self.state.reports.problem = None;
        self.state.reports.notice = None;
        let query = self.state.reports.query();
        self.session_request(Pending::Report, Operation::Report { query });
    }

    /// Writes the report on screen into the reports folder, on a thread of its own.
    fn export_report(&mut self, format: kartika_report::Format) {
        let Some((report, _)) = self.state.reports.shown.clone() else {
            return;
        };
        let query = self.state.reports.query();
        let name = format!(
            "{}-{}-{}.{}",
            report_file_stem(query.kind),
            query.period.from,
            query.period.to,
            format.extension()
        );
        let folder = self.state.output_dir.join("reports");
        let lang = self.state.lang();
        let done = self.files.0.clone();
        let waker = self.waker.clone();
        let _ = std::thread::Builder::new()
            .name("report-export".into())
            .spawn(move || {
                let path = folder.join(name);
                let outcome = report
                    .render(format)
                    .map_err(|e| Problem::FileNotSaved(e.to_string()))
                    .and_then(|bytes| {
                        std::fs::create_dir_all(&folder)
                            .and_then(|()| std::fs::write(&path, bytes))
                            .map_err(|e| Problem::FileNotSaved(e.to_string()))
                    })
                    .map(|()| format!("{} {}", T::ReportSaved.get(lang), path.display()));
                let _ = done.send((Screen::Reports, outcome));
                waker.wake();
            });
    }

    fn set_up(&mut self) {
        let form = &self.state.setup;
        let catchment = form.catchment.trim();
        let registry = if form.standalone {
            None
        } else {
            let (url, token) = (form.registry_url.trim(), form.registry_token.trim());
            if url.is_empty() || token.is_empty() {
                self.state.setup.problem = Some(Problem::InvalidField {
                    field: "registry".into(),
                    reason: "give the registry's address and the node's token, or run standalone"
                        .into(),
                });
                return;
            }
            Some(RegistryLink {
                url: url.to_owned(),
                token: token.to_owned(),
            })
        };
        let request = ClinicRequest::SetUp {
            registry,
            profile: FacilityProfile {
                code: form.code.trim().to_ascii_uppercase(),
                name: form.name.trim().to_owned(),
                region_code: (!catchment.is_empty()).then(|| catchment.to_owned()),
                zone: form.zone,
            },
            admin: NewStaff {
                username: form.admin_username.trim().to_owned(),
                display_name: form.admin_name.trim().to_owned(),
                role: Role::Admin,
                password: form.admin_password.clone(),
            },
        };
        self.state.setup.problem = None;
        self.ask(Pending::SetUp, request);
    }

    fn search(&mut self) {
        let form = &self.state.desk.search;
        let text = form.text.trim();
        if text.is_empty() {
            return;
        }
        let mut queries = PatientQuery::guess(text);
        let birth_date = format::typed_date_to_iso(&form.birth_date);
        for query in &mut queries {
            if let PatientQuery::Name { birth_date: b, .. } = query {
                b.clone_from(&birth_date);
            }
        }
        self.state.desk.problem = None;
        self.session_request(Pending::Search, Operation::Search { queries });
    }

    fn save_new_patient(&mut self) {
        let Some(form) = &self.state.desk.new_patient else {
            return;
        };
        let optional = |text: &str| {
            let t = text.trim();
            (!t.is_empty()).then(|| t.to_owned())
        };
        let patient = NewPatient {
            nik: optional(&form.nik),
            bpjs_number: optional(&form.bpjs_number),
            family_card_number: optional(&form.family_card_number),
            name: form.name.trim().to_owned(),
            // What the clerk typed goes to the store as it is when it is not a date, so
            // the store's own check names the field.
            birth_date: format::typed_date_to_iso(&form.birth_date)
                .unwrap_or_else(|| form.birth_date.trim().to_owned()),
            sex: form.sex,
            blood_group: None,
            address: optional(&form.address),
            region_code: optional(&form.region_code),
            phone: optional(&form.phone),
        };
        self.state.desk.problem = None;
        self.session_request(
            Pending::CreatePatient,
            Operation::CreatePatient {
                patient: Box::new(patient),
            },
        );
    }

    /// Prints the shown ticket (or saves its PDF) on a thread of its own.
    fn print_ticket(&mut self, pdf: bool) {
        let (Some(ticket), Some(facility)) = (&self.state.desk.ticket, &self.state.facility) else {
            return;
        };
        let lang = self.state.lang();
        let patient_number = self
            .state
            .desk
            .patient
            .as_ref()
            .map(|p| {
                format!(
                    "{} {}",
                    T::PatientNumber.get(lang),
                    p.patient.patient_number
                )
            })
            .unwrap_or_default();
        let offset = zone_offset(facility.zone);
        let now = self.clock.now();
        let text = TicketText {
            facility: facility.name.clone(),
            heading: T::QueueNumber.get(lang).to_owned(),
            ticket: ticket.ticket.clone(),
            unit: ticket.unit_name.clone(),
            when: format!(
                "{} {}",
                format::iso_date_words(&ticket.queue_date, lang),
                format::clock_time(now, offset, lang)
            ),
            waiting: waiting_ahead(ticket.waiting_ahead, lang),
            patient_number,
        };
        let stem = format!("{}-{}", ticket.queue_date, ticket.ticket);
        let target = self.state.prefs.printer.clone();
        let folder = self.state.output_dir.join("tickets");
        let done = self.files.0.clone();
        let waker = self.waker.clone();
        let _ = std::thread::Builder::new()
            .name("ticket-printer".into())
            .spawn(move || {
                let outcome = if pdf {
                    ticket::save_pdf(&folder, &text, &stem)
                        .map(|path| format!("{} {}", T::PdfSaved.get(lang), path.display()))
                } else {
                    ticket::escpos_bytes(&text)
                        .and_then(|bytes| ticket::send_to_printer(&bytes, &target))
                        .map(|()| T::Printed.get(lang).to_owned())
                };
                let _ = done.send((Screen::Desk, outcome));
                waker.wake();
            });
    }
}

/// The benchmark's stopwatch: first frame, and each tap until its patient is drawn.
struct Timings {
    started: Instant,
    first_frame_done: bool,
    tap_seen_at: Option<Instant>,
}

impl Timings {
    fn after_frame(&mut self, state: &State) {
        if !self.first_frame_done {
            self.first_frame_done = true;
            eprintln!(
                "timing: first frame {:.1} ms after start",
                self.started.elapsed().as_secs_f64() * 1e3
            );
        }
        let drawn = state.desk.patient.is_some()
            || matches!(state.desk.verdict, Some(TapVerdict::Refused(_)));
        if drawn {
            if let Some(seen_at) = self.tap_seen_at.take() {
                eprintln!(
                    "timing: tap to screen {:.2} ms",
                    seen_at.elapsed().as_secs_f64() * 1e3
                );
            }
        }
    }
}

fn report_file_stem(kind: ReportKind) -> &'static str {
    match kind {
        ReportKind::Lb1 => "lb1",
        ReportKind::Visits => "rekap-kunjungan",
        ReportKind::Top10 => "10-besar-penyakit",
        ReportKind::Daily => "laporan-harian",
    }
}

/// A month `step` months away.
fn shift_month((year, month): (i32, time::Month), step: i32) -> (i32, time::Month) {
    let index = year * 12 + i32::from(month as u8) - 1 + step;
    let month = u8::try_from(index.rem_euclid(12) + 1).unwrap_or(1);
    (
        index.div_euclid(12),
        time::Month::try_from(month).unwrap_or(time::Month::January),
    )
}

/// "3 orang menunggu sebelum Anda".
pub fn waiting_ahead(count: i64, lang: Lang) -> String {
    match (lang, count) {
        (Lang::Id, 0) => "Tidak ada yang menunggu sebelum Anda".into(),
        (Lang::Id, n) => format!("{n} orang menunggu sebelum Anda"),
        (Lang::En, 0) => "Nobody is waiting ahead of you".into(),
        (Lang::En, 1) => "1 person is waiting ahead of you".into(),
        (Lang::En, n) => format!("{n} people are waiting ahead of you"),
    }
}

impl eframe::App for KartikaApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.receive();
        let mut commands = Commands::default();
        views::show(ui, &mut self.state, &mut commands);
        for command in commands.take() {
            self.apply(command);
        }
        if let Some(timings) = &mut self.timings {
            timings.after_frame(&self.state);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, PREFERENCES_KEY, &self.state.prefs);
    }
}

/// The facility's zone as an offset.
pub fn zone_offset(zone: TimeZone) -> time::UtcOffset {
    time::UtcOffset::from_hms(zone.hours(), 0, 0).unwrap_or(time::UtcOffset::UTC)
}
