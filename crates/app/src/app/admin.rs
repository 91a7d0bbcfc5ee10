//! The app's side of the admin's room: its commands, the store's answers, and the card in
//! the admin's reader (issued step by step, terminated, its PIN reset) on the reader
//! worker.

use kartika_card::model::{Identity, Pin};
use kartika_store::{FacilityProfile, NewStaff, PatientQuery, ServiceUnit};

use super::KartikaApp;
use crate::admin::{AdminTab, IssueForm, ReaderCard};
use crate::card_face::{self, CardFace};
use crate::command::Command;
use crate::format;
use crate::problem::Problem;
use crate::state::{Pending, Screen};
use crate::text::T;
use crate::workers::clinic::{
    CardChange, ClinicAnswer, ClinicRequest, FacilityChange, Operation, StaffChange,
};
use crate::workers::reader::{CardFound, CardTask, ReaderCommand, ReaderState};
use kartika_lan::MergeChange;

impl KartikaApp {
    pub(super) fn show_admin(&mut self) {
        let opened = self.state.screen != Screen::Admin;
        self.state.screen = Screen::Admin;
        self.load_admin_tab();
        if opened {
            self.read_cards_on_readers();
        }
    }

    /// What the tab on screen shows, read again.
    fn load_admin_tab(&mut self) {
        match self.state.admin.tab {
            AdminTab::Cards => {}
            AdminTab::Staff => self.admin_request(Operation::Staff { change: None }),
            AdminTab::Workstations => self.admin_request(Operation::Workstations { change: None }),
            AdminTab::Audit => self.audit_search(),
            AdminTab::Sync => {
                self.admin_request(Operation::SyncDetails { resend: Vec::new() });
                self.refresh_satusehat();
                self.refresh_bpjs_queue();
            }
            AdminTab::Facility => {
                let form = &mut self.state.admin.facility;
                if let Some(facility) = &self.state.facility {
                    form.name.clone_from(&facility.name);
                    form.catchment = facility.region_code.clone().unwrap_or_default();
                    form.zone = Some(facility.zone);
                }
            }
            AdminTab::Backup => {}
            AdminTab::Duplicates => {
                self.admin_request(Operation::Duplicates { change: None });
                self.ask_registry(crate::workers::sync::RegistryAsk::Look);
            }
        }
    }

    /// Asks the registry through the sync worker, when this PC syncs with one.
    fn ask_registry(&mut self, ask: crate::workers::sync::RegistryAsk) {
        let (Some(sync), Some(session)) = (&self.sync, &self.state.session) else {
            return;
        };
        self.state.admin.duplicates.registry_busy = true;
        sync.registry_merges(session.clone(), ask);
    }

    /// The registry's answer: shown, and the links this store follows read again.
    pub(super) fn on_registry_board(&mut self, board: crate::workers::sync::Board) {
        let form = &mut self.state.admin.duplicates;
        form.registry_busy = false;
        form.registry = Some(board);
        if self.state.screen == Screen::Admin && self.state.admin.tab == AdminTab::Duplicates {
            self.admin_request(Operation::Duplicates { change: None });
        }
    }

    /// What merging the two records compared would do, with the fields chosen.
    fn plan_merge(&mut self) {
        let form = &self.state.admin.duplicates;
        if let Some(plan) = &form.plan {
            let operation = Operation::PlanMerge {
                keep: plan.survivor.patient_number.clone(),
                retire: plan.retired.patient_number.clone(),
                take: form.take.clone(),
            };
            self.admin_request(operation);
        }
    }

    fn admin_request(&mut self, operation: Operation) {
        self.state.admin.problem = None;
        self.session_request(Pending::Admin, operation);
    }

    /// Tells the clinic worker this workstation's daily backup plan.
    pub(super) fn send_backup_plan(&mut self) {
        let plan = &self.state.prefs.backup;
        let folder = plan.folder.trim();
        let request = (plan.daily && !folder.is_empty())
            .then(|| (std::path::PathBuf::from(folder), plan.keep.max(1)));
        self.ask(Pending::Backup, ClinicRequest::BackupPlan(request));
    }

    fn audit_search(&mut self) {
        let filter = self.state.admin.audit_filter.clone();
        self.admin_request(Operation::AuditSearch { filter });
    }

    fn admin_patient(&self) -> Option<String> {
        self.state
            .admin
            .patient
            .as_ref()
            .map(|(p, _)| p.patient_number.clone())
    }

    fn change_card(&mut self, change: CardChange) {
        if let Some(patient_number) = self.admin_patient() {
            self.admin_request(Operation::ChangeCard {
                patient_number,
                change,
            });
        }
    }

    /// Applies a command of the admin's room.
    pub(super) fn apply_admin(&mut self, command: Command) {
        let lang = self.state.lang();
        let admin = &mut self.state.admin;
        match command {
            Command::SetAdminTab(tab) => {
                admin.tab = tab;
                admin.problem = None;
                admin.notice = None;
                self.load_admin_tab();
            }
            Command::AdminSearch => {
                let text = admin.search_text.trim().to_owned();
                if text.is_empty() {
                    return;
                }
                let queries = PatientQuery::guess(&text);
                admin.problem = None;
                self.session_request(Pending::AdminSearch, Operation::Search { queries });
            }
            Command::AdminOpenPatient(patient_number) => {
                admin.issue = None;
                self.admin_request(Operation::PatientCards { patient_number });
            }
            Command::StartIssue(replacing) => {
                admin.issue = Some(IssueForm {
                    replacing,
                    focus_pin: true,
                    ..IssueForm::default()
                });
                admin.problem = None;
            }
            Command::CancelIssue => admin.issue = None,
            Command::IssueCard => self.issue_card(),
            Command::BlockCard(card_number) => {
                let reason = std::mem::take(&mut admin.reason);
                self.change_card(CardChange::Block {
                    card_number,
                    reason,
                });
            }
            Command::UnblockCard(card_number) => {
                let reason = std::mem::take(&mut admin.reason);
                self.change_card(CardChange::Unblock {
                    card_number,
                    reason,
                });
            }
            Command::TerminateCard(card_number) => self.terminate_card(card_number),
            Command::ResetCardPin => self.reset_card_pin(),
            Command::Staff(change) => {
                admin.password_reset = None;
                self.admin_request(Operation::Staff { change });
            }
            Command::Workstation(change) => {
                self.admin_request(Operation::Workstations { change });
            }
            Command::ComparePatients(keep, retire) => {
                admin.duplicates.take.clear();
                self.admin_request(Operation::PlanMerge {
                    keep,
                    retire,
                    take: Vec::new(),
                });
            }
            Command::SwapSurvivor => {
                if let Some(plan) = &admin.duplicates.plan {
                    let (keep, retire) = (
                        plan.retired.patient_number.clone(),
                        plan.survivor.patient_number.clone(),
                    );
                    admin.duplicates.take.clear();
                    self.admin_request(Operation::PlanMerge {
                        keep,
                        retire,
                        take: Vec::new(),
                    });
                }
            }
            Command::ToggleMergeField(field) => {
                let take = &mut admin.duplicates.take;
                match take.iter().position(|f| *f == field) {
                    Some(at) => {
                        take.remove(at);
                    }
                    None => take.push(field),
                }
                self.plan_merge();
            }
            Command::MergePatients => {
                if let Some(plan) = admin.duplicates.plan.take() {
                    let change = MergeChange::Merge {
                        keep: plan.survivor.patient_number,
                        retire: plan.retired.patient_number,
                        take: std::mem::take(&mut admin.duplicates.take),
                    };
                    admin.notice = Some(T::MergeDone.get(lang).to_owned());
                    self.admin_request(Operation::Duplicates {
                        change: Some(change),
                    });
                }
            }
            Command::CancelMerge => {
                admin.duplicates.plan = None;
                admin.duplicates.take.clear();
            }
            Command::RegistryMerges(ask) => self.ask_registry(ask),
            Command::Unmerge(retired) => {
                admin.notice = Some(T::UnmergeDone.get(lang).to_owned());
                self.admin_request(Operation::Duplicates {
                    change: Some(MergeChange::Unmerge { retired }),
                });
            }
            Command::AddStaff => {
                // The form stays on screen (without the password) until the store accepts it.
                let form = &mut admin.new_staff;
                let new = NewStaff {
                    username: form.username.trim().to_owned(),
                    display_name: form.display_name.trim().to_owned(),
                    role: form.role,
                    password: std::mem::take(&mut form.password),
                };
                self.admin_request(Operation::Staff {
                    change: Some(StaffChange::Add(new)),
                });
            }
            Command::AuditSearch => self.audit_search(),
            Command::VerifyAudit => self.ask(Pending::Admin, ClinicRequest::VerifyAudit),
            Command::BpjsRetry(visit_id) => {
                self.admin_request(Operation::BpjsRetry { visit_id });
            }
            Command::SatusehatRetry(visit_id) => {
                self.admin_request(Operation::SatusehatRetry { visit_id });
            }
            Command::SaveSatusehat => {
                let form = &mut admin.satusehat;
                let (auth_url, fhir_url) = match form.place.environment() {
                    Some(env) => (env.auth_url(), env.fhir_url()),
                    None => (
                        form.auth_url.trim().to_owned(),
                        form.fhir_url.trim().to_owned(),
                    ),
                };
                let pace = form.pace.trim();
                let Ok(pace) = (if pace.is_empty() {
                    Ok(5)
                } else {
                    pace.parse::<u32>()
                }) else {
                    admin.problem = Some(Problem::InvalidField {
                        field: "SATUSEHAT pace".into(),
                        reason: "a whole number of requests a second (0: unpaced)".into(),
                    });
                    return;
                };
                let secret = (!form.secret.trim().is_empty())
                    .then(|| kartika_satusehat::Secret::new(&form.secret));
                if secret.is_none() && !form.set_up {
                    admin.problem = Some(Problem::InvalidField {
                        field: "client secret".into(),
                        reason: "give the client secret SATUSEHAT issued".into(),
                    });
                    return;
                }
                let link = kartika_store::SatusehatLink {
                    auth_url,
                    fhir_url,
                    client_id: form.client_id.trim().to_owned(),
                    organization_id: form.organization_id.trim().to_owned(),
                    pace,
                };
                form.secret.clear();
                self.admin_request(Operation::SatusehatSetup {
                    link,
                    secret,
                    ca_pem: None,
                });
            }
            Command::SyncDetails(resend) => {
                self.admin_request(Operation::SyncDetails { resend });
            }
            Command::SaveFacility => {
                let (Some(facility), Some(zone)) = (&self.state.facility, admin.facility.zone)
                else {
                    return;
                };
                let catchment = admin.facility.catchment.trim();
                let profile = FacilityProfile {
                    code: facility.code.clone(),
                    name: admin.facility.name.trim().to_owned(),
                    region_code: (!catchment.is_empty()).then(|| catchment.to_owned()),
                    zone,
                };
                self.admin_request(Operation::ChangeFacility {
                    change: FacilityChange::Profile(profile),
                });
            }
            Command::AddUnit => {
                let (code, name, letter) = &admin.new_unit;
                let unit = ServiceUnit {
                    code: code.trim().to_owned(),
                    name: name.trim().to_owned(),
                    queue_prefix: letter.trim().to_ascii_uppercase(),
                    built_in: false,
                };
                self.admin_request(Operation::ChangeFacility {
                    change: FacilityChange::AddUnit(unit),
                });
            }
            Command::BackupPlanChanged => self.send_backup_plan(),
            Command::BackupNow => {
                let plan = self.state.prefs.backup.clone();
                let folder = plan.folder.trim();
                if folder.is_empty() {
                    admin.problem = Some(Problem::InvalidField {
                        field: "backup folder".into(),
                        reason: "choose a folder first".into(),
                    });
                    return;
                }
                let request = ClinicRequest::Backup {
                    folder: folder.into(),
                    keep: plan.keep.max(1),
                };
                admin.problem = None;
                self.send_backup_plan();
                self.ask(Pending::Backup, request);
            }
            Command::Restore => {
                let from = admin.backup.restore_from.trim().to_owned();
                if from.is_empty() {
                    return;
                }
                admin.problem = None;
                // The sync worker's connection must not stay on the file being replaced;
                // it starts again once the store is open.
                self.sync = None;
                self.ask(
                    Pending::Backup,
                    ClinicRequest::Restore { from: from.into() },
                );
            }
            // Every other command is applied by the app itself.
            _ => {}
        }
    }

    fn issue_card(&mut self) {
        let admin = &mut self.state.admin;
        let Some(form) = &mut admin.issue else {
            return;
        };
        if form.pin != form.pin_again {
            admin.problem = Some(Problem::PinsDiffer);
            return;
        }
        if Pin::new(form.pin.trim()).is_err() {
            admin.problem = Some(Problem::WrongPinFormat);
            return;
        }
        if !matches!(admin.reader_card, Some(ReaderCard::Blank { .. })) {
            admin.problem = Some(Problem::CardNotBlank);
            return;
        }
        admin.problem = None;
        // A retry after a pulled card uses the identity already prepared.
        match form.identity.clone() {
            Some(identity) => self.personalize(identity),
            None => {
                let replacing = form.replacing.clone();
                if let Some(patient_number) = self.admin_patient() {
                    self.admin_request(Operation::NewCardIdentity {
                        patient_number,
                        replacing,
                    });
                }
            }
        }
    }

    /// Sends the blank card in the reader to be issued with `identity`.
    fn personalize(&mut self, identity: Box<Identity>) {
        let admin = &mut self.state.admin;
        let (Some(form), Some(ReaderCard::Blank { reader })) =
            (&mut admin.issue, &admin.reader_card)
        else {
            return;
        };
        let Ok(pin) = Pin::new(form.pin.trim()) else {
            admin.problem = Some(Problem::WrongPinFormat);
            return;
        };
        form.identity = Some(identity.clone());
        form.running = true;
        form.step = None;
        let card_number = identity.card_number.to_string();
        let reader = reader.clone();
        self.readers.send(ReaderCommand::Card {
            reader,
            card_number,
            task: CardTask::Personalize(identity, pin),
        });
    }

    fn terminate_card(&mut self, card_number: String) {
        let admin = &mut self.state.admin;
        let in_reader = match &admin.reader_card {
            Some(ReaderCard::Issued { reader, identity })
                if identity.card_number.as_str() == card_number =>
            {
                Some(reader.clone())
            }
            _ => None,
        };
        match in_reader {
            Some(reader) => self.readers.send(ReaderCommand::Card {
                reader,
                card_number,
                task: CardTask::Terminate,
            }),
            // Not in the reader (a broken chip): recorded, and revoked everywhere.
            None => {
                let reason = std::mem::take(&mut admin.reason);
                self.change_card(CardChange::Terminate {
                    card_number,
                    reason,
                });
            }
        }
    }

    fn reset_card_pin(&mut self) {
        let admin = &mut self.state.admin;
        let (pin, again) = std::mem::take(&mut admin.pin_reset);
        if pin != again {
            admin.problem = Some(Problem::PinsDiffer);
            return;
        }
        let Ok(pin) = Pin::new(pin.trim()) else {
            admin.problem = Some(Problem::WrongPinFormat);
            return;
        };
        if let Some(ReaderCard::Issued { reader, identity }) = &admin.reader_card {
            self.readers.send(ReaderCommand::Card {
                reader: reader.clone(),
                card_number: identity.card_number.to_string(),
                task: CardTask::ResetPin(pin),
            });
        }
    }

    /// An answer of the clinic worker for the admin's room.
    pub(super) fn on_admin_answer(&mut self, kind: Option<Pending>, answer: ClinicAnswer) {
        let lang = self.state.lang();
        let admin = &mut self.state.admin;
        match answer {
            ClinicAnswer::Found(hits) if kind == Some(Pending::AdminSearch) => {
                admin.results = Some(hits);
            }
            ClinicAnswer::PatientCards(patient, cards) => {
                let issued_now = admin.issue.as_ref().is_some_and(|f| f.running);
                admin.patient = Some((*patient, cards));
                if issued_now {
                    self.on_card_recorded();
                }
            }
            ClinicAnswer::CardIdentity(identity) => self.personalize(identity),
            ClinicAnswer::Workstations(workstations) => admin.workstations = workstations,
            ClinicAnswer::Duplicates(view) => admin.duplicates.view = Some(*view),
            ClinicAnswer::MergePlan(plan) => admin.duplicates.plan = Some(*plan),
            ClinicAnswer::Staff(staff) => {
                admin.staff = staff;
                admin.new_staff = Default::default();
            }
            ClinicAnswer::Audit(entries) => admin.audit_entries = entries,
            ClinicAnswer::AuditVerdict(report) => admin.audit_verdict = Some(report),
            ClinicAnswer::SyncDetails(health, set_aside) => {
                admin.sync_health = Some(health);
                admin.set_aside = set_aside;
            }
            ClinicAnswer::FacilityChanged(profile, units) => {
                admin.notice = Some(T::Saved.get(lang).to_owned());
                admin.new_unit = Default::default();
                self.state.facility = Some(profile);
                self.state.units = units;
            }
            ClinicAnswer::BackedUp(report) => {
                admin.backup.last = Some(format!(
                    "{} {} ({:.1} MB)",
                    T::BackupMade.get(lang),
                    report.path.display(),
                    report.bytes as f64 / 1e6
                ));
            }
            ClinicAnswer::Restored(report) => {
                admin.notice = Some(match report.kept_aside {
                    Some(aside) => format!("{} {}", T::Restored.get(lang), aside.display()),
                    None => T::Restored.get(lang).to_owned(),
                });
                self.restart_sync();
            }
            _ => {}
        }
    }

    /// The issued card is recorded: its face is saved to print.
    fn on_card_recorded(&mut self) {
        let lang = self.state.lang();
        let facility = self
            .state
            .facility
            .as_ref()
            .map(|f| f.name.clone())
            .unwrap_or_default();
        let admin = &mut self.state.admin;
        let Some(form) = &mut admin.issue else {
            return;
        };
        form.running = false;
        form.done = true;
        form.pin.clear();
        form.pin_again.clear();
        let Some(identity) = &form.identity else {
            return;
        };
        let card_number = identity.card_number.to_string();
        let face = CardFace {
            title: T::CardFaceTitle.get(lang).to_owned(),
            facility,
            name: identity.name.clone(),
            patient_number: format!("{} {}", T::PatientNumber.get(lang), identity.patient_number),
            card_number: card_face::grouped(&card_number),
            dates: format!(
                "{} {} · {} {}",
                T::Issued.get(lang),
                format::short_date(identity.issue_date),
                T::ValidUntil.get(lang),
                format::short_date(identity.expiry_date)
            ),
        };
        let folder = self.state.output_dir.join("cards");
        match card_face::save_pdf(&folder, &face, &card_number) {
            Ok(path) => {
                form.face = Some(path.clone());
                admin.notice = Some(format!("{} {}", T::CardFaceSaved.get(lang), path.display()));
            }
            Err(problem) => admin.problem = Some(problem),
        }
    }

    /// A card tapped while the admin's room is on screen.
    pub(super) fn on_admin_tap(&mut self, reader: String, result: Result<Box<Identity>, Problem>) {
        let admin = &mut self.state.admin;
        admin.reader_card = Some(match result {
            Ok(identity) => ReaderCard::Issued { reader, identity },
            Err(Problem::BlankCard) => ReaderCard::Blank { reader },
            Err(problem) => ReaderCard::Refused { reader, problem },
        });
        // A blank card laid on the reader for an open issuance: the patient types the PIN.
        if let (Some(form), Some(ReaderCard::Blank { .. })) = (&mut admin.issue, &admin.reader_card)
        {
            form.focus_pin = !form.running && !form.done;
        }
    }

    /// A card task of the admin's room ended.
    pub(super) fn on_admin_card_found(
        &mut self,
        card_number: String,
        result: Result<CardFound, Problem>,
    ) {
        let lang = self.state.lang();
        let admin = &mut self.state.admin;
        match result {
            Ok(CardFound::Issued) => {
                let replacing = admin.issue.as_ref().and_then(|f| f.replacing.clone());
                // The card reads genuine now; the next tap sees it so.
                if let Some(ReaderCard::Blank { reader }) = admin.reader_card.take() {
                    admin.reader_card = admin
                        .issue
                        .as_ref()
                        .and_then(|f| f.identity.clone())
                        .map(|identity| ReaderCard::Issued { reader, identity });
                }
                self.change_card(CardChange::Issued {
                    card_number,
                    replacing,
                });
            }
            Ok(CardFound::Terminated) => {
                admin.reader_card = None;
                let reason = std::mem::take(&mut admin.reason);
                self.change_card(CardChange::Terminate {
                    card_number,
                    reason,
                });
            }
            Ok(CardFound::PinReset) => {
                admin.notice = Some(T::PinWasReset.get(lang).to_owned());
                self.change_card(CardChange::PinReset { card_number });
            }
            Ok(_) => {}
            Err(problem) => {
                let issuing = admin
                    .issue
                    .as_mut()
                    .is_some_and(|f| std::mem::take(&mut f.running));
                admin.problem = Some(match problem {
                    Problem::PulledTooEarly if issuing => Problem::PulledWhileIssuing,
                    other => other,
                });
            }
        }
    }

    /// Issuing reached a step.
    pub(super) fn on_issue_step(&mut self, step: kartika_card::IssueStep) {
        if let Some(form) = &mut self.state.admin.issue {
            form.step = Some(step);
        }
    }

    /// Readers changed: a card gone from the admin's reader is forgotten; one pulled while
    /// being issued is said plainly.
    pub(super) fn forget_admin_card(&mut self) {
        let readers = &self.state.readers;
        let admin = &mut self.state.admin;
        let gone = admin.reader_card.as_ref().is_some_and(|card| {
            !readers
                .iter()
                .any(|r| r.name == card.reader() && r.state != ReaderState::Waiting)
        });
        if gone {
            admin.reader_card = None;
            if let Some(form) = &mut admin.issue {
                if form.running {
                    form.running = false;
                    admin.problem = Some(Problem::PulledWhileIssuing);
                }
            }
        }
    }
}
