//! The app's side of the nurse's workspace: the poli's commands, the store's answers, and
//! the card of the patient in the room (checked by the store, then read and written by the
//! reader worker).

use kartika_card::model::Identity;
use kartika_card::PinStatus;
use kartika_protocol::PresenceProof;
use kartika_store::{TapOutcome, VisitStatus};

use super::KartikaApp;
use crate::command::Command;
use crate::poli::{card_record, next_rank, ExamForm, Here, OpenVisit, PoliCard, PoliTab};
use crate::problem::Problem;
use crate::state::{Pending, Screen};
use crate::text::T;
use crate::workers::clinic::{ClinicAnswer, Operation, PoliVisit, VisitEnd};
use crate::workers::reader::{CardFound, CardTask, ReaderCommand, ReaderState};

impl KartikaApp {
    /// The unit this workstation serves: the one chosen here before, or the first.
    pub(super) fn poli_unit(&self) -> Option<String> {
        let units = &self.state.units;
        self.state
            .prefs
            .poli_unit
            .clone()
            .filter(|code| units.iter().any(|u| &u.code == code))
            .or_else(|| units.first().map(|u| u.code.clone()))
    }

    /// How this Puskesmas names what a history shows.
    fn here(&self) -> Here {
        Here {
            facility: self
                .state
                .facility
                .as_ref()
                .map(|f| f.code.clone())
                .unwrap_or_default(),
            units: self.state.units.clone(),
            lang: self.state.lang(),
        }
    }

    pub(super) fn show_poli(&mut self) {
        let opened = self.state.screen != Screen::Poli;
        self.state.screen = Screen::Poli;
        self.load_poli_queue();
        if opened {
            self.read_cards_on_readers();
        }
    }

    /// Reads the queue again, unless a read is already on its way.
    pub(super) fn refresh_poli_queue(&mut self) {
        if !self.state.is_pending(Pending::PoliQueue) {
            self.load_poli_queue();
        }
    }

    fn load_poli_queue(&mut self) {
        if let Some(unit_code) = self.poli_unit() {
            self.session_request(Pending::PoliQueue, Operation::UnitQueue { unit_code });
        }
    }

    /// Applies a command of the poli.
    pub(super) fn apply_poli(&mut self, command: Command) {
        let poli = &mut self.state.poli;
        match command {
            Command::SetPoliUnit(code) => {
                self.state.prefs.poli_unit = Some(code);
                self.load_poli_queue();
            }
            Command::RefreshPoliQueue => self.load_poli_queue(),
            Command::CallNext => {
                poli.problem = None;
                poli.notice = None;
                if let Some(unit_code) = self.poli_unit() {
                    self.session_request(Pending::OpenVisit, Operation::CallNext { unit_code });
                }
            }
            Command::OpenQueueVisit {
                visit_id,
                patient_number,
            } => self.open_visit(visit_id, patient_number),
            Command::CancelQueueVisit(visit_id) => {
                poli.problem = None;
                self.session_request(
                    Pending::EndVisit,
                    Operation::EndVisit {
                        visit_id,
                        exam: None,
                        end: VisitEnd::Cancel,
                    },
                );
            }
            Command::CloseVisit => {
                poli.open = None;
                poli.referral = None;
                poli.problem = None;
                self.load_poli_queue();
            }
            Command::SetPoliTab(tab) => poli.tab = tab,
            Command::AddDiagnosis(code) => {
                let Some(open) = &poli.open else {
                    return;
                };
                let (visit_id, rank) = (open.visit.visit_id.clone(), next_rank(&open.visit));
                poli.problem = None;
                poli.diagnosis = Default::default();
                self.session_request(
                    Pending::VisitChange,
                    Operation::AddDiagnosis {
                        visit_id,
                        code,
                        rank,
                    },
                );
            }
            Command::RemoveDiagnosis(code) => {
                if let Some(visit_id) = poli.open_visit_id().map(str::to_owned) {
                    self.session_request(
                        Pending::VisitChange,
                        Operation::RemoveDiagnosis { visit_id, code },
                    );
                }
            }
            Command::SaveExamination => {
                let Some((visit_id, exam)) = self.typed_examination() else {
                    return;
                };
                self.session_request(
                    Pending::VisitChange,
                    Operation::SaveExamination {
                        visit_id,
                        exam: Box::new(exam),
                    },
                );
            }
            Command::FinishVisit => self.end_visit(VisitEnd::Finish),
            Command::ReferVisit => {
                let to = poli.referral.clone().unwrap_or_default();
                self.end_visit(VisitEnd::Refer(to));
            }
            Command::ReadCardSummary => self.read_card_summary(),
            Command::WriteCardSummary => self.write_card_summary(),
            other => self.apply_admin(other),
        }
    }

    fn open_visit(&mut self, visit_id: String, patient_number: String) {
        self.state.poli.problem = None;
        self.state.poli.notice = None;
        self.session_request(
            Pending::OpenVisit,
            Operation::OpenVisit {
                visit_id,
                patient_number,
            },
        );
    }

    /// The form as the store will get it, or the field that is not a number.
    fn typed_examination(&mut self) -> Option<(String, kartika_store::Examination)> {
        let poli = &mut self.state.poli;
        let visit_id = poli.open_visit_id()?.to_owned();
        poli.problem = None;
        match poli.exam.examination() {
            Ok(exam) => Some((visit_id, exam)),
            Err(problem) => {
                poli.problem = Some(problem);
                None
            }
        }
    }

    fn end_visit(&mut self, end: VisitEnd) {
        let Some((visit_id, exam)) = self.typed_examination() else {
            return;
        };
        self.session_request(
            Pending::EndVisit,
            Operation::EndVisit {
                visit_id,
                exam: Some(Box::new(exam)),
                end,
            },
        );
    }

    /// An answer of the clinic worker for the poli.
    pub(super) fn on_poli_answer(&mut self, answer: ClinicAnswer) {
        let lang = self.state.lang();
        let here = self.here();
        let poli = &mut self.state.poli;
        match answer {
            ClinicAnswer::UnitQueue(queue) => poli.queue = queue,
            ClinicAnswer::NobodyWaiting => {
                poli.notice = Some(T::NobodyWaiting.get(lang).to_owned());
            }
            ClinicAnswer::VisitOpened(opened) => {
                self.on_visit_opened(*opened);
                self.load_poli_queue();
            }
            ClinicAnswer::VisitChanged(visit) => {
                if let Some(open) = &mut poli.open {
                    open.replace_visit(*visit, &here);
                    poli.notice = Some(T::Saved.get(lang).to_owned());
                }
            }
            ClinicAnswer::VisitEnded(visit) => {
                for worker in self.satusehat.iter().chain(&self.bpjs_sender) {
                    worker.nudge();
                }
                let ended_open = poli.open_visit_id() == Some(visit.visit_id.as_str());
                poli.notice = Some(format!(
                    "{} {}",
                    visit.ticket,
                    crate::poli::status_words(visit.status, lang)
                ));
                if ended_open {
                    poli.open = None;
                    poli.referral = None;
                    poli.exam = ExamForm::default();
                    if matches!(visit.status, VisitStatus::Finished | VisitStatus::Referred) {
                        self.write_visit_to_card(&visit);
                    }
                }
                self.load_poli_queue();
            }
            ClinicAnswer::History(history) => {
                if let Some(open) = &mut poli.open {
                    if open.history.patient.patient_number == history.patient.patient_number {
                        open.replace_history(*history, &here);
                    }
                }
            }
            ClinicAnswer::CardAtPoli(outcome) => self.on_card_at_poli(*outcome),
            _ => {}
        }
    }

    fn on_visit_opened(&mut self, opened: PoliVisit) {
        let lang = self.state.lang();
        let here = self.here();
        let poli = &mut self.state.poli;
        poli.exam = ExamForm::of(&opened.visit, lang);
        poli.diagnosis = Default::default();
        poli.referral = None;
        poli.tab = PoliTab::Examination;
        poli.focus_exam = opened.visit.status == VisitStatus::InProgress;
        let patient_number = opened.history.patient.patient_number.clone();
        poli.open = Some(OpenVisit::new(opened, &here));
        // A card already in the reader for this patient: read its log now.
        let card_matches = poli
            .card
            .as_ref()
            .is_some_and(|c| c.patient_number.as_deref() == Some(patient_number.as_str()));
        if card_matches {
            self.card_task(CardTask::ReadLog);
            self.fetch_from_registry(&patient_number);
        }
    }

    /// A card tapped on a reader while the poli is on screen.
    pub(super) fn on_poli_tap(
        &mut self,
        reader: String,
        result: Result<Box<Identity>, Problem>,
        proof: Option<PresenceProof>,
    ) {
        let poli = &mut self.state.poli;
        poli.problem = None;
        match result {
            Ok(identity) => {
                let mut card = PoliCard::new(reader, identity.clone());
                card.proof = proof;
                poli.card = Some(card);
                self.session_request(Pending::PoliCard, Operation::CardAtPoli { identity });
            }
            Err(problem) => {
                poli.card = None;
                poli.problem = Some(problem);
            }
        }
    }

    fn on_card_at_poli(&mut self, outcome: TapOutcome) {
        let lang = self.state.lang();
        let poli = &mut self.state.poli;
        let patient = match outcome {
            TapOutcome::Known { patient, .. } | TapOutcome::RegisteredFromCard { patient, .. } => {
                patient
            }
            TapOutcome::Refused { reason, .. } => {
                poli.card = None;
                poli.problem = Some(Problem::refused_card(&reason));
                return;
            }
        };
        let Some(card) = &mut poli.card else {
            return;
        };
        card.patient_number = Some(patient.patient_number.clone());
        let open_patient = poli
            .open
            .as_ref()
            .map(|o| o.history.patient.patient_number.clone());
        if open_patient.as_deref() == Some(patient.patient_number.as_str()) {
            self.card_task(CardTask::ReadLog);
            self.fetch_from_registry(&patient.patient_number);
            return;
        }
        // The patient in the room: open their visit of today at this poli.
        let in_queue = poli
            .queue
            .iter()
            .find(|q| {
                q.patient_number == patient.patient_number
                    && matches!(q.status, VisitStatus::Waiting | VisitStatus::InProgress)
            })
            .map(|q| q.visit_id.clone());
        match in_queue {
            Some(visit_id) => self.open_visit(visit_id, patient.patient_number),
            None => {
                poli.notice = Some(format!("{} {}", patient.name, T::NotInThisQueue.get(lang)));
            }
        }
    }

    /// Asks the reader worker to work on the card of the open visit's patient.
    fn card_task(&mut self, task: CardTask) {
        let Some(card) = &mut self.state.poli.card else {
            return;
        };
        card.busy = true;
        card.problem = None;
        self.readers.send(ReaderCommand::Card {
            reader: card.reader.clone(),
            card_number: card.card_number(),
            task,
        });
    }

    /// While the card is present and a registry is linked: what other Puskesmas know of
    /// the patient, then the history read again.
    fn fetch_from_registry(&mut self, patient_number: &str) {
        // The registry takes each proof of presence once: the tap's proof serves the
        // first fetch, and later ones ask for this Puskesmas's own patients only.
        let proof = self.state.poli.card.as_mut().and_then(|c| c.proof.take());
        if let Some(sync) = &self.sync {
            sync.fetch_patient(patient_number.to_owned(), proof);
        }
    }

    /// The registry answered for a patient: read the history again if it is still open.
    pub(super) fn on_fetched(&mut self, patient_number: String, outcome: Result<usize, String>) {
        let open = self.state.poli.open.as_ref();
        let still_open = open.is_some_and(|o| o.history.patient.patient_number == patient_number);
        if still_open && matches!(outcome, Ok(n) if n > 0) {
            self.session_request(Pending::History, Operation::History { patient_number });
        }
    }

    fn write_visit_to_card(&mut self, visit: &kartika_store::VisitDetail) {
        let card_matches =
            self.state.poli.card.as_ref().is_some_and(|c| {
                c.patient_number.as_deref() == Some(visit.patient_number.as_str())
            });
        if !card_matches {
            return;
        }
        match card_record(visit) {
            Ok(record) => {
                self.card_task(CardTask::AppendVisit(Box::new(record)));
                if let Some(card) = &mut self.state.poli.card {
                    card.writing_visit = true;
                }
            }
            Err(problem) => {
                if let Some(card) = &mut self.state.poli.card {
                    card.problem = Some(problem);
                }
            }
        }
    }

    fn read_card_summary(&mut self) {
        let Some(card) = &mut self.state.poli.card else {
            return;
        };
        let typed = std::mem::take(&mut card.summary.pin_typed);
        match kartika_card::model::Pin::new(typed.trim()) {
            Ok(pin) => {
                card.summary.pin = Some(pin.clone());
                self.card_task(CardTask::ReadSummary(pin));
            }
            Err(_) => card.problem = Some(Problem::WrongPinFormat),
        }
    }

    fn write_card_summary(&mut self) {
        let Some(card) = &mut self.state.poli.card else {
            return;
        };
        let Some(pin) = card.summary.pin.clone() else {
            return;
        };
        match card.summary.summary() {
            Ok(summary) => self.card_task(CardTask::WriteSummary(pin, Box::new(summary))),
            Err(problem) => card.problem = Some(problem),
        }
    }

    /// A card task ended.
    pub(super) fn on_card_found(&mut self, card_number: &str, result: Result<CardFound, Problem>) {
        let lang = self.state.lang();
        let Some(card) = self
            .state
            .poli
            .card
            .as_mut()
            .filter(|c| c.card_number() == card_number)
        else {
            return;
        };
        card.busy = false;
        let was_writing_visit = std::mem::take(&mut card.writing_visit);
        match result {
            Ok(CardFound::Log {
                visits,
                pin,
                appended,
            }) => {
                card.visits = Some(visits);
                card.pin = Some(pin);
                if appended {
                    card.notice = Some(T::WrittenToCard.get(lang).to_owned());
                }
            }
            // The admin room's tasks; the poli never asks for them.
            Ok(CardFound::Issued | CardFound::Terminated | CardFound::PinReset) => {}
            Ok(CardFound::Summary { summary, written }) => {
                card.summary.show(summary.as_ref());
                card.pin = Some(PinStatus::Verified);
                card.notice = written.then(|| T::WrittenToCard.get(lang).to_owned());
            }
            Err(problem) => {
                match problem {
                    Problem::WrongPin(left) => {
                        card.pin = Some(PinStatus::TriesLeft(left));
                        card.summary.pin = None;
                    }
                    Problem::PinBlocked => {
                        card.pin = Some(PinStatus::Blocked);
                        card.summary.pin = None;
                    }
                    Problem::PulledTooEarly if was_writing_visit => {
                        card.problem = Some(Problem::VisitNotOnCard);
                        return;
                    }
                    _ => {}
                }
                card.problem = Some(problem);
            }
        }
    }

    /// Readers changed: a card gone from the poli's reader takes its PIN with it.
    pub(super) fn forget_pulled_card(&mut self) {
        let readers = &self.state.readers;
        let gone = self.state.poli.card.as_ref().is_some_and(|card| {
            !readers
                .iter()
                .any(|r| r.name == card.reader && r.state != ReaderState::Waiting)
        });
        if gone {
            // What went wrong with the card outlives it, so the nurse hears of it.
            let poli = &mut self.state.poli;
            if let Some(card) = poli.card.take() {
                poli.problem = match (card.problem, card.writing_visit, card.busy) {
                    (Some(problem), ..) => Some(problem),
                    (None, true, _) => Some(Problem::VisitNotOnCard),
                    (None, false, true) => Some(Problem::PulledTooEarly),
                    (None, false, false) => poli.problem.take(),
                };
            }
        }
    }
}
