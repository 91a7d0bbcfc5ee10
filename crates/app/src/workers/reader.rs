//! The reader worker: owns the PC/SC context and the reader monitor, and the demo's
//! virtual cards. At a tap it reads and verifies the card (SELECT, GET DATA FF20 and FF21,
//! INTERNAL AUTHENTICATE) off the UI thread and reports the verdict.
//!
//! At the poli it also runs the card tasks of the open visit on the card still in the
//! reader: each begins again with SELECT and the tap's checks, and goes on only if the card
//! is the same genuine card, so a card swapped in between is never written.
//!
//! A demo card is tapped into vpcd's first slot when pcscd runs with vpcd, so it travels
//! the same PC/SC path as a plastic card; otherwise into a reader inside this process.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kartika_card::crypto::{NodeCredentials, TrustAnchors};
use kartika_card::model::{Identity, MedicalSummary, Pin, VisitRecord};
use kartika_card::presence::TapEvidence;
use kartika_card::verify::{CardReading, Verdict};
use kartika_card::{CardError, CardSession, PinStatus, Transport};
use kartika_protocol::PresenceProof;
use kartika_reader::{Monitor, ReaderCard, ReaderContext, ReaderEvent};
use kartika_store::Clock;
use kartika_vcard::vpcd::{CardPuller, VpcdLink};
use kartika_vcard::VirtualCard;
use rand_core::{OsRng, RngCore};
use time::UtcOffset;

use super::Waker;
use crate::problem::Problem;

/// The name of the reader inside this process, where there is no pcscd with vpcd.
pub const IN_PROCESS_READER: &str = "Pembaca virtual";
/// The vpcd reader the demo taps into.
const VPCD_READER: &str = "Virtual PCD 00 00";
/// How long a card inserted into vpcd may take to be seen before it is inserted again
/// (vpcd sometimes leaves a new connection unread right after a card was pulled).
const VPCD_SEEN_WITHIN: Duration = Duration::from_millis(1500);
const VPCD_ATTEMPTS: u32 = 3;

/// Where a reader stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReaderState {
    /// Empty, waiting for a card.
    Waiting,
    /// A card is in it.
    CardPresent,
    /// A card is being read.
    Reading,
}

/// One reader as the top bar shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReaderStatus {
    /// Its name.
    pub name: String,
    /// Its state.
    pub state: ReaderState,
}

/// What the reader worker reports.
#[derive(Debug)]
pub enum ReaderUpdate {
    /// The readers and their states, whole, after any change.
    Readers {
        /// Every reader.
        readers: Vec<ReaderStatus>,
        /// pcscd went away (the monitor keeps trying).
        service_down: bool,
    },
    /// A tap was read: the identity of a genuine card, or why it is refused.
    Tapped {
        /// The reader.
        reader: String,
        /// The verdict.
        result: Result<Box<Identity>, Problem>,
        /// The card's answer to this terminal's presence challenge, for the registry.
        proof: Option<PresenceProof>,
        /// What a genuine card sent, for a server that judges it again.
        evidence: Option<Box<TapEvidence>>,
        /// When the card was seen, for the tap-to-screen measurement.
        seen_at: Instant,
    },
    /// A card being issued began this step.
    IssueStep(kartika_card::IssueStep),
    /// The demo card in the demo's reader now (its file), or none: what the tray shows.
    DemoCard(Option<PathBuf>),
    /// A card task ended.
    Card {
        /// The card.
        card_number: String,
        /// What it found, or why it failed.
        result: Result<CardFound, Problem>,
    },
}

/// What the UI asks of the reader worker.
#[derive(Debug)]
pub enum ReaderCommand {
    /// Puts a demo card into the demo's reader (pulling the one there first).
    TapVirtual(PathBuf),
    /// Takes the demo card out.
    PullVirtual,
    /// Reads every card already in a reader again, as a tap: a screen that takes taps has
    /// opened with a card lying on the reader.
    ReadAgain,
    /// The facility's zone, so a card's expiry is judged on the local day.
    Zone(UtcOffset),
    /// Work on the card in `reader`, if it is still card `card_number`.
    Card {
        /// The reader the card was tapped on.
        reader: String,
        /// The card it must be.
        card_number: String,
        /// What to do.
        task: CardTask,
    },
}

/// What the poli does with the card of the patient in the room.
#[derive(Debug)]
pub enum CardTask {
    /// Reads the card's visit log and the PIN's tries left.
    ReadLog,
    /// Appends the finished visit after terminal authentication, then reads the log back.
    AppendVisit(Box<VisitRecord>),
    /// Checks the patient's PIN and reads the medical summary.
    ReadSummary(Pin),
    /// Checks the PIN, authenticates this terminal, writes the summary and reads it back.
    WriteSummary(Pin, Box<MedicalSummary>),
    /// Issues a blank card with this identity and first PIN, step by step, then checks
    /// that it reads genuine. The card number is the identity's.
    Personalize(Box<Identity>, Pin),
    /// TERMINATE CARD, after terminal authentication: the card answers nothing again.
    Terminate,
    /// RESET RETRY COUNTER with a new PIN, after terminal authentication.
    ResetPin(Pin),
}

/// What a card task found.
#[derive(Debug)]
pub enum CardFound {
    /// The visit log, newest first, and the PIN's state.
    Log {
        /// The card's own visits.
        visits: Vec<VisitRecord>,
        /// The PIN's state.
        pin: PinStatus,
        /// Whether a visit was just appended.
        appended: bool,
    },
    /// The card was issued and reads genuine.
    Issued,
    /// The card was terminated.
    Terminated,
    /// The PIN was reset.
    PinReset,
    /// The medical summary (none written yet is `None`), and whether it was just written.
    Summary {
        /// What the card holds.
        summary: Option<MedicalSummary>,
        /// Whether it was just written.
        written: bool,
    },
}

enum Input {
    Command(ReaderCommand),
    Pcsc(ReaderEvent),
    /// The app is closing: pull the demo card and end.
    Stop,
}

/// How the worker reaches cards.
#[derive(Clone, Debug)]
pub struct ReaderSetup {
    /// Watch PC/SC readers (pcscd or winscard).
    pub pcsc: bool,
    /// The registry roots cards must chain to.
    pub trust: TrustAnchors,
    /// This workstation's terminal key and certificate, which let it write to cards.
    pub terminal: Option<NodeCredentials>,
}

/// The UI's end of the reader worker. Dropping it stops the worker and waits for it, so a
/// demo card in vpcd is pulled before the app is gone.
pub struct ReaderWorker {
    commands: Sender<Input>,
    updates: Receiver<ReaderUpdate>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for ReaderWorker {
    fn drop(&mut self) {
        let _ = self.commands.send(Input::Stop);
        if let Some(thread) = self.thread.take() {
            // A panicked worker has nothing left to pull.
            let _ = thread.join();
        }
    }
}

impl ReaderWorker {
    /// Starts the worker (and, with `setup.pcsc`, the PC/SC monitor).
    pub fn start(setup: ReaderSetup, clock: Arc<dyn Clock>, waker: Waker) -> Self {
        let (commands, inbox) = mpsc::channel();
        let (outbox, updates) = mpsc::channel();
        if setup.pcsc {
            forward_monitor_events(commands.clone());
        }
        let worker = Worker {
            setup,
            clock,
            zone: UtcOffset::from_hms(7, 0, 0).unwrap_or(UtcOffset::UTC),
            readers: Vec::new(),
            service_down: false,
            context: None,
            in_process: None,
            vpcd: None,
            outbox,
            waker,
        };
        // Without its thread the desk has no reader; the top bar then shows none.
        let thread = std::thread::Builder::new()
            .name("reader-worker".into())
            .spawn(move || worker.run(inbox))
            .ok();
        Self {
            commands,
            updates,
            thread,
        }
    }

    /// Sends a command.
    pub fn send(&self, command: ReaderCommand) {
        // A dead worker has already shown no readers; nothing more to tell.
        let _ = self.commands.send(Input::Command(command));
    }

    /// Updates that have arrived, without waiting.
    pub fn updates(&self) -> impl Iterator<Item = ReaderUpdate> + '_ {
        self.updates.try_iter()
    }
}

/// Runs the reader monitor on its own thread and feeds its events to the worker.
fn forward_monitor_events(inbox: Sender<Input>) {
    let _ = std::thread::Builder::new()
        .name("reader-events".into())
        .spawn(move || {
            let monitor = Monitor::start();
            while let Ok(event) = monitor.events().recv() {
                if inbox.send(Input::Pcsc(event)).is_err() {
                    break;
                }
            }
            monitor.stop();
        });
}

/// A demo card served to vpcd from a thread until pulled.
struct VpcdCard {
    path: PathBuf,
    puller: CardPuller,
    inserted_at: Instant,
    attempts: u32,
    seen: bool,
}

struct Worker {
    setup: ReaderSetup,
    clock: Arc<dyn Clock>,
    zone: UtcOffset,
    readers: Vec<ReaderStatus>,
    service_down: bool,
    context: Option<ReaderContext>,
    in_process: Option<VirtualCard>,
    vpcd: Option<VpcdCard>,
    outbox: Sender<ReaderUpdate>,
    waker: Waker,
}

impl Worker {
    fn run(mut self, inbox: Receiver<Input>) {
        if !self.setup.pcsc {
            self.set_state(IN_PROCESS_READER, ReaderState::Waiting);
        }
        loop {
            // Block until something happens, except while a vpcd insertion awaits its
            // confirmation.
            let input = match self.vpcd.as_ref().filter(|v| !v.seen) {
                Some(card) => {
                    let left = VPCD_SEEN_WITHIN.saturating_sub(card.inserted_at.elapsed());
                    match inbox.recv_timeout(left) {
                        Ok(input) => input,
                        Err(RecvTimeoutError::Timeout) => {
                            self.retry_vpcd_insert();
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
                None => match inbox.recv() {
                    Ok(input) => input,
                    Err(_) => break,
                },
            };
            match input {
                Input::Command(command) => self.command(command),
                Input::Pcsc(event) => self.pcsc_event(event),
                Input::Stop => break,
            }
        }
        if let Some(card) = self.vpcd.take() {
            card.puller.pull();
        }
    }

    fn command(&mut self, command: ReaderCommand) {
        match command {
            ReaderCommand::Zone(zone) => self.zone = zone,
            ReaderCommand::TapVirtual(path) => {
                self.pull_virtual();
                if self.vpcd_available() {
                    self.insert_into_vpcd(path, 1);
                } else {
                    self.tap_in_process(path);
                }
            }
            ReaderCommand::PullVirtual => self.pull_virtual(),
            ReaderCommand::ReadAgain => self.read_again(),
            ReaderCommand::Card {
                reader,
                card_number,
                task,
            } => {
                let result = self.card_task(&reader, &card_number, &task);
                self.publish(ReaderUpdate::Card {
                    card_number,
                    result,
                });
            }
        }
    }

    fn pull_virtual(&mut self) {
        let had = self.vpcd.is_some() || self.in_process.is_some();
        if let Some(card) = self.vpcd.take() {
            card.puller.pull();
        }
        if self.in_process.take().is_some() {
            self.set_state(IN_PROCESS_READER, ReaderState::Waiting);
        }
        if had {
            self.publish(ReaderUpdate::DemoCard(None));
        }
    }

    /// Reads again each card lying in a reader, and reports each as a tap.
    fn read_again(&mut self) {
        if let Some(mut card) = self.in_process.take() {
            let seen_at = Instant::now();
            self.set_state(IN_PROCESS_READER, ReaderState::Reading);
            let result = self.verify(&mut card);
            self.in_process = Some(card);
            self.set_state(IN_PROCESS_READER, ReaderState::CardPresent);
            self.report_tap(IN_PROCESS_READER, result, seen_at);
        }
        let present: Vec<String> = self
            .readers
            .iter()
            .filter(|r| r.name != IN_PROCESS_READER && r.state == ReaderState::CardPresent)
            .map(|r| r.name.clone())
            .collect();
        for reader in present {
            let seen_at = Instant::now();
            self.set_state(&reader, ReaderState::Reading);
            let result = self.read_pcsc(&reader);
            self.set_state(&reader, ReaderState::CardPresent);
            self.report_tap(&reader, result, seen_at);
        }
    }

    fn vpcd_available(&self) -> bool {
        self.setup.pcsc && self.readers.iter().any(|r| r.name == VPCD_READER)
    }

    fn insert_into_vpcd(&mut self, path: PathBuf, attempts: u32) {
        let card = VirtualCard::open(&path).map_err(|e| Problem::CardUnreadable(e.to_string()));
        let link = card.and_then(|card| {
            VpcdLink::connect(0)
                .and_then(|link| link.puller().map(|puller| (card, link, puller)))
                .map_err(|e| Problem::CardUnreadable(e.to_string()))
        });
        match link {
            Ok((mut card, mut link, puller)) => {
                let _ = std::thread::Builder::new()
                    .name("demo-card".into())
                    .spawn(move || {
                        // The card ends when pulled; an error is a pulled card too.
                        let _ = link.serve(&mut card, None, None);
                    });
                self.publish(ReaderUpdate::DemoCard(Some(path.clone())));
                self.vpcd = Some(VpcdCard {
                    path,
                    puller,
                    inserted_at: Instant::now(),
                    attempts,
                    seen: false,
                });
            }
            Err(problem) => {
                self.publish(ReaderUpdate::DemoCard(None));
                self.report_tap(VPCD_READER, Err(problem), Instant::now());
            }
        }
    }

    fn retry_vpcd_insert(&mut self) {
        let Some(card) = self.vpcd.take() else {
            return;
        };
        card.puller.pull();
        if card.attempts < VPCD_ATTEMPTS {
            self.insert_into_vpcd(card.path, card.attempts + 1);
        } else {
            self.publish(ReaderUpdate::DemoCard(None));
            let problem = Problem::CardUnreadable("vpcd".into());
            self.report_tap(VPCD_READER, Err(problem), Instant::now());
        }
    }

    fn tap_in_process(&mut self, path: PathBuf) {
        let seen_at = Instant::now();
        let mut card = match VirtualCard::open(&path) {
            Ok(card) => card,
            Err(e) => {
                self.publish(ReaderUpdate::DemoCard(None));
                let problem = Problem::CardUnreadable(e.to_string());
                return self.report_tap(IN_PROCESS_READER, Err(problem), seen_at);
            }
        };
        self.set_state(IN_PROCESS_READER, ReaderState::Reading);
        let result = self.verify(&mut card);
        self.in_process = Some(card);
        self.publish(ReaderUpdate::DemoCard(Some(path)));
        self.set_state(IN_PROCESS_READER, ReaderState::CardPresent);
        self.report_tap(IN_PROCESS_READER, result, seen_at);
    }

    fn pcsc_event(&mut self, event: ReaderEvent) {
        match event {
            ReaderEvent::ReaderAdded(name) => self.set_state(&name, ReaderState::Waiting),
            ReaderEvent::ReaderRemoved(name) => {
                self.readers.retain(|r| r.name != name);
                self.publish_readers();
            }
            ReaderEvent::CardInserted { reader, .. } => {
                let seen_at = Instant::now();
                if let Some(card) = self.vpcd.as_mut().filter(|_| reader == VPCD_READER) {
                    card.seen = true;
                }
                self.set_state(&reader, ReaderState::Reading);
                let result = self.read_pcsc(&reader);
                self.set_state(&reader, ReaderState::CardPresent);
                self.report_tap(&reader, result, seen_at);
            }
            ReaderEvent::CardRemoved { reader } => self.set_state(&reader, ReaderState::Waiting),
            ReaderEvent::ServiceLost => {
                self.context = None;
                self.service_down = true;
                self.readers.retain(|r| r.name == IN_PROCESS_READER);
                self.publish_readers();
            }
            ReaderEvent::ServiceRestored => {
                self.service_down = false;
                self.publish_readers();
            }
        }
    }

    /// Connects to the card in `reader`, establishing a PC/SC context first if needed.
    fn connect_pcsc(&mut self, reader: &str) -> Result<ReaderCard, Problem> {
        let transport =
            |e: kartika_reader::ReaderError| Problem::from(CardError::Transport(e.into()));
        if self.context.is_none() {
            self.context = Some(ReaderContext::establish().map_err(transport)?);
        }
        let Some(context) = self.context.as_ref() else {
            return Err(Problem::CardServiceDown);
        };
        context.connect(reader).map_err(transport)
    }

    /// After pcscd went away, the next card gets a new context.
    fn forget_context_if_gone<T>(&mut self, outcome: &Result<T, CardError>) {
        if let Err(CardError::Transport(kartika_card::TransportError::ServiceUnavailable)) = outcome
        {
            self.context = None;
        }
    }

    /// Reads the tapped card on a thread of its own, with a PC/SC context of its own: pcscd
    /// and vpcd wait for a card's answer without a deadline, so a card that stops answering
    /// mid-APDU would hold whoever waits until it is pulled. The worker waits
    /// [`TAP_DEADLINE`], says the card does not answer, and goes on; the read's thread
    /// ends when the card is pulled.
    fn read_pcsc(&mut self, reader: &str) -> TapRead {
        let (trust, today) = (self.setup.trust.clone(), self.today());
        let challenge = self.presence_challenge();
        let (reader, bytes) = (reader.to_owned(), challenge.bytes);
        let (done, outcome) = mpsc::channel();
        std::thread::Builder::new()
            .name("card-read".into())
            .spawn(move || {
                let transport = |e: kartika_reader::ReaderError| CardError::Transport(e.into());
                let read = ReaderContext::establish()
                    .and_then(|context| context.connect(&reader))
                    .map_err(transport)
                    .and_then(|mut card| {
                        card.with_transaction(|transport| {
                            CardSession::new(transport).verify_card(&trust, today, &bytes)
                        })
                    });
                let _ = done.send(read);
            })
            .map_err(|e| Problem::CardUnreadable(e.to_string()))?;
        match outcome.recv_timeout(TAP_DEADLINE) {
            Ok(read) => tap_verdict(read.map_err(Problem::from)?, &challenge),
            Err(RecvTimeoutError::Timeout) => Err(Problem::CardSilent),
            // The read's thread panicked: nothing was read.
            Err(RecvTimeoutError::Disconnected) => Err(Problem::PulledTooEarly),
        }
    }

    /// The challenge of a tap: with this terminal's node id, the time and a nonce, so the
    /// card's answer also proves to the registry that the card was here.
    /// Without a terminal certificate the challenge names no node: it still carries the
    /// time and the nonce, which let the Puskesmas's server judge the tap fresh.
    fn presence_challenge(&self) -> TapChallenge {
        let mut nonce = [0u8; 16];
        OsRng.fill_bytes(&mut nonce);
        let at_ms =
            i64::try_from(self.clock.now().unix_timestamp_nanos() / 1_000_000).unwrap_or_default();
        let node_id = self
            .setup
            .terminal
            .as_ref()
            .map(|node| node.certificate().node_id().to_owned());
        TapChallenge {
            bytes: kartika_card::presence::presence_challenge(
                node_id.as_deref().unwrap_or_default(),
                at_ms,
                &nonce,
            ),
            node_id,
            at_ms,
            nonce,
        }
    }

    /// Runs `task` on the card in `reader` once it has passed the tap's checks again and
    /// proved to be card `card_number`.
    fn card_task(
        &mut self,
        reader: &str,
        card_number: &str,
        task: &CardTask,
    ) -> Result<CardFound, Problem> {
        let today = self.today();
        let mut pcsc_card = match reader {
            IN_PROCESS_READER => None,
            _ => Some(self.connect_pcsc(reader)?),
        };
        let (outbox, waker) = (self.outbox.clone(), self.waker.clone());
        let progress = move |step| {
            let _ = outbox.send(ReaderUpdate::IssueStep(step));
            waker.wake();
        };
        let job = CardJob {
            trust: &self.setup.trust,
            terminal: self.setup.terminal.as_ref(),
            today,
            card_number,
            progress: &progress,
        };
        let outcome = match &mut pcsc_card {
            Some(card) => card.with_transaction(|transport| job.run(transport, task)),
            None => {
                let card = self.in_process.as_mut().ok_or(Problem::PulledTooEarly)?;
                job.run(card, task)
            }
        };
        self.forget_context_if_gone(&outcome);
        outcome.map_err(Problem::from)?
    }

    fn verify(&self, card: &mut dyn Transport) -> TapRead {
        let challenge = self.presence_challenge();
        let reading = CardSession::new(card)
            .verify_card(&self.setup.trust, self.today(), &challenge.bytes)
            .map_err(Problem::from)?;
        tap_verdict(reading, &challenge)
    }

    fn today(&self) -> time::Date {
        self.clock.now().to_offset(self.zone).date()
    }

    fn set_state(&mut self, name: &str, state: ReaderState) {
        match self.readers.iter_mut().find(|r| r.name == name) {
            Some(reader) => reader.state = state,
            None => self.readers.push(ReaderStatus {
                name: name.to_owned(),
                state,
            }),
        }
        self.publish_readers();
    }

    fn publish_readers(&self) {
        self.publish(ReaderUpdate::Readers {
            readers: self.readers.clone(),
            service_down: self.service_down,
        });
    }

    fn report_tap(&self, reader: &str, read: TapRead, seen_at: Instant) {
        let (result, proof, evidence) = match read {
            Ok(tap) => (Ok(tap.identity), tap.proof, Some(tap.evidence)),
            Err(problem) => (Err(problem), None, None),
        };
        self.publish(ReaderUpdate::Tapped {
            reader: reader.to_owned(),
            result,
            proof,
            evidence,
            seen_at,
        });
    }

    fn publish(&self, update: ReaderUpdate) {
        // The UI has gone: the worker ends when its inbox closes.
        let _ = self.outbox.send(update);
        self.waker.wake();
    }
}

/// One card task's fixed inputs.
struct CardJob<'a> {
    trust: &'a TrustAnchors,
    terminal: Option<&'a NodeCredentials>,
    today: time::Date,
    card_number: &'a str,
    /// Where issuing reports its steps.
    progress: &'a dyn Fn(kartika_card::IssueStep),
}

impl CardJob<'_> {
    /// The outer error is the card's (pulled, unreadable), the inner one the task's own.
    fn run(
        &self,
        transport: &mut dyn Transport,
        task: &CardTask,
    ) -> Result<Result<CardFound, Problem>, CardError> {
        let mut session = CardSession::new(transport);
        if let CardTask::Personalize(identity, pin) = task {
            return self.personalize(&mut session, identity, pin);
        }
        let reading = session.verify_card(self.trust, self.today, &challenge())?;
        if let Verdict::NotGenuine(rejection) = reading.verdict {
            return Ok(Err(Problem::from(rejection)));
        }
        if reading.identity.card_number.as_str() != self.card_number {
            return Ok(Err(Problem::OtherCard));
        }
        let terminal = || self.terminal.ok_or(Problem::NoTerminalCertificate);
        match task {
            // Issued above, before the checks a blank card cannot pass.
            CardTask::Personalize(..) => Ok(Err(Problem::OtherCard)),
            CardTask::Terminate | CardTask::ResetPin(_) => {
                let terminal = match terminal() {
                    Ok(t) => t,
                    Err(problem) => return Ok(Err(problem)),
                };
                session.terminal_authenticate(terminal)?;
                Ok(Ok(match task {
                    CardTask::ResetPin(pin) => {
                        session.reset_pin(pin)?;
                        CardFound::PinReset
                    }
                    _ => {
                        session.terminate()?;
                        CardFound::Terminated
                    }
                }))
            }
            CardTask::ReadLog => {
                // Contract v1.1 cards show their visit log to a staff terminal only.
                let terminal = match terminal() {
                    Ok(t) => t,
                    Err(problem) => return Ok(Err(problem)),
                };
                session.terminal_authenticate(terminal)?;
                Ok(Ok(CardFound::Log {
                    visits: session.read_visits()?,
                    pin: session.pin_status()?,
                    appended: false,
                }))
            }
            CardTask::AppendVisit(record) => {
                let terminal = match terminal() {
                    Ok(t) => t,
                    Err(problem) => return Ok(Err(problem)),
                };
                session.terminal_authenticate(terminal)?;
                session.append_visit(record, self.today)?;
                let visits = session.read_visits()?;
                // Believed only when read back from the card.
                if !visits.iter().any(|v| v.visit_id() == record.visit_id()) {
                    return Ok(Err(Problem::CardWriteUnconfirmed));
                }
                Ok(Ok(CardFound::Log {
                    visits,
                    pin: session.pin_status()?,
                    appended: true,
                }))
            }
            CardTask::ReadSummary(pin) => {
                session.verify_pin(pin)?;
                Ok(Ok(CardFound::Summary {
                    summary: session.read_medical_summary()?,
                    written: false,
                }))
            }
            CardTask::WriteSummary(pin, summary) => {
                let terminal = match terminal() {
                    Ok(t) => t,
                    Err(problem) => return Ok(Err(problem)),
                };
                session.verify_pin(pin)?;
                session.terminal_authenticate(terminal)?;
                session.write_medical_summary(summary)?;
                let read_back = session.read_medical_summary()?;
                if read_back.as_ref() != Some(summary.as_ref()) {
                    return Ok(Err(Problem::CardWriteUnconfirmed));
                }
                Ok(Ok(CardFound::Summary {
                    summary: read_back,
                    written: true,
                }))
            }
        }
    }
}

impl CardJob<'_> {
    /// Issues the blank card, then reads it as a desk would: believed issued only when it
    /// reads genuine under the registry's root.
    fn personalize(
        &self,
        session: &mut CardSession<&mut dyn Transport>,
        identity: &Identity,
        pin: &Pin,
    ) -> Result<Result<CardFound, Problem>, CardError> {
        let Some(issuer) = self.terminal else {
            return Ok(Err(Problem::NoTerminalCertificate));
        };
        let Some(root) = self.trust.roots().first() else {
            return Ok(Err(Problem::UntrustedIssuer));
        };
        let request = kartika_card::IssueRequest {
            identity,
            issuer,
            root,
            pin,
        };
        let mut report = |step| (self.progress)(step);
        match session.personalize_with_progress(&request, &mut report) {
            Ok(_) => {}
            Err(CardError::AlreadyIssued) => return Ok(Err(Problem::CardNotBlank)),
            Err(other) => return Err(other),
        }
        let reading = session.verify_card(self.trust, self.today, &challenge())?;
        Ok(match reading.verdict {
            Verdict::Genuine if reading.identity.card_number == identity.card_number => {
                Ok(CardFound::Issued)
            }
            Verdict::Genuine => Err(Problem::OtherCard),
            Verdict::NotGenuine(rejection) => Err(Problem::from(rejection)),
        })
    }
}

/// A fresh random challenge: a host makes one per tap.
fn challenge() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// How long a tap's read may take. A genuine card answers in a fraction of a second, even
/// at a contact card's speed.
const TAP_DEADLINE: Duration = Duration::from_secs(5);

/// A genuine card's tap: what it says, what it sent, and its proof of presence.
struct GenuineTap {
    identity: Box<Identity>,
    evidence: Box<TapEvidence>,
    proof: Option<PresenceProof>,
}

/// A tap's reading: a genuine card's, or why not.
type TapRead = Result<GenuineTap, Problem>;

/// A tap's challenge, and what it binds: this terminal's node (when it has a certificate),
/// the time and a nonce.
struct TapChallenge {
    bytes: [u8; 32],
    node_id: Option<String>,
    at_ms: i64,
    nonce: [u8; 16],
}

fn tap_verdict(reading: CardReading, challenge: &TapChallenge) -> TapRead {
    // Only a terminal the registry certified proves presence to it.
    let proof = challenge.node_id.as_ref().map(|_| PresenceProof {
        card_number: reading.identity.card_number.to_string(),
        patient_number: reading.identity.patient_number.to_string(),
        at_ms: challenge.at_ms,
        nonce: hex::encode(challenge.nonce),
        signature: hex::encode(&reading.challenge_signature),
    });
    let evidence = Box::new(TapEvidence {
        identity_tlv: reading.identity_tlv,
        security_tlv: reading.security_tlv,
        node_id: challenge.node_id.clone().unwrap_or_default(),
        at_ms: challenge.at_ms,
        nonce: challenge.nonce,
        signature: reading.challenge_signature,
    });
    verdict(reading.identity, reading.verdict).map(|identity| GenuineTap {
        identity,
        evidence,
        proof,
    })
}

fn verdict(identity: Identity, verdict: Verdict) -> Result<Box<Identity>, Problem> {
    match verdict {
        Verdict::Genuine => Ok(Box::new(identity)),
        Verdict::NotGenuine(rejection) => Err(Problem::from(rejection)),
    }
}
