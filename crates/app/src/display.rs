//! The waiting room's TV (`kartika display`): the newest call large, the ones before it
//! below; numbers and units only, never a name. A worker follows the server's calls, so a
//! call is on screen within a moment of the nurse's click, and each call is announced once.

use std::collections::HashSet;
use std::sync::mpsc::{self, Receiver, Sender};

use eframe::egui;
use kartika_lan::LanError;
use kartika_store::Call;

use crate::problem::Problem;
use crate::text::{Lang, T};
use crate::workers::remote::ServerLink;
use crate::workers::Waker;

/// How often a display knocks again at a server that did not answer.
const KNOCK_AGAIN: std::time::Duration = std::time::Duration::from_secs(2);

/// Says a call out loud (or rings): called once per call.
pub type Announce = Box<dyn FnMut(&Call) + Send>;

/// How the display is wired.
pub struct DisplayConfig {
    /// The Puskesmas's server.
    pub server: ServerLink,
    /// The screen's language.
    pub lang: Lang,
    /// Announces a new call.
    pub announce: Announce,
    /// Told each time the worker wakes the screen (tests wait on it).
    pub wake_hook: Option<Sender<()>>,
}

/// What the worker hands the screen.
type Update = Result<Vec<Call>, Problem>;

/// The waiting room's screen.
pub struct DisplayApp {
    /// Newest first.
    calls: Vec<Call>,
    /// Why the calls may be old.
    away: Option<Problem>,
    announced: HashSet<String>,
    /// Whether the first answer came: calls made before the screen was switched on are not
    /// announced.
    primed: bool,
    announce: Announce,
    updates: Receiver<Update>,
    lang: Lang,
}

impl DisplayApp {
    /// The screen, with its worker following the server.
    pub fn new(cc: &eframe::CreationContext<'_>, config: DisplayConfig) -> Self {
        let waker = Waker::new(&cc.egui_ctx, config.wake_hook);
        let (send, updates) = mpsc::channel();
        let server = config.server;
        let spawned = std::thread::Builder::new()
            .name("display-worker".into())
            .spawn(move || follow_calls(&server, &send, &waker));
        let away = spawned.err().map(|e| Problem::StoreFailed(e.to_string()));
        Self {
            calls: Vec::new(),
            away,
            announced: HashSet::new(),
            primed: false,
            announce: config.announce,
            updates,
            lang: config.lang,
        }
    }

    /// The calls on screen, newest first (for tests).
    pub fn calls(&self) -> &[Call] {
        &self.calls
    }

    fn receive(&mut self) {
        for update in self.updates.try_iter().collect::<Vec<_>>() {
            match update {
                Ok(calls) => {
                    self.away = None;
                    // The oldest first, so the room hears them in the order they came.
                    for call in calls.iter().rev() {
                        if self.announced.insert(call.id.clone()) && self.primed {
                            (self.announce)(call);
                        }
                    }
                    self.primed = true;
                    self.calls = calls;
                }
                Err(problem) => self.away = Some(problem),
            }
        }
    }
}

impl eframe::App for DisplayApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.receive();
        egui::CentralPanel::default().show(ui, |ui| {
            if let Some(away) = &self.away {
                ui.colored_label(ui.visuals().error_fg_color, away.text(self.lang));
            }
            ui.vertical_centered(|ui| {
                ui.label(egui::RichText::new(T::DisplayNowCalled.get(self.lang)).size(36.0));
                match self.calls.first() {
                    Some(call) => {
                        ui.label(egui::RichText::new(&call.ticket).size(160.0).strong());
                        ui.label(egui::RichText::new(&call.unit_name).size(56.0));
                    }
                    None => {
                        ui.label(
                            egui::RichText::new(T::DisplayNobodyYet.get(self.lang)).size(48.0),
                        );
                    }
                }
                if self.calls.len() > 1 {
                    ui.add_space(32.0);
                    ui.label(egui::RichText::new(T::DisplayEarlier.get(self.lang)).size(28.0));
                    for call in &self.calls[1..] {
                        ui.label(
                            egui::RichText::new(format!("{}  ·  {}", call.ticket, call.unit_name))
                                .size(36.0),
                        );
                    }
                }
            });
        });
    }
}

/// Follows the server's calls until the screen closes.
fn follow_calls(server: &ServerLink, send: &Sender<Update>, waker: &Waker) {
    let client = match server.client() {
        Ok(client) => client,
        Err(e) => {
            let _ = send.send(Err(Problem::from(e)));
            waker.wake();
            return;
        }
    };
    let mut version = u64::MAX;
    let mut shown: Option<Vec<String>> = None;
    loop {
        let update = match client.next_calls(version) {
            Ok(calls) => {
                version = calls.version;
                let ids: Vec<String> = calls.calls.iter().map(|c| c.id.clone()).collect();
                // Nothing new: the screen is not woken.
                if shown.as_ref() == Some(&ids) {
                    continue;
                }
                shown = Some(ids);
                Ok(calls.calls)
            }
            Err(e) => {
                shown = None;
                Err(match e {
                    LanError::Unreachable { server, .. } => Problem::ServerUnreachable(server),
                    other => Problem::from(other),
                })
            }
        };
        let failed = update.is_err();
        if send.send(update).is_err() {
            return;
        }
        waker.wake();
        if failed {
            std::thread::sleep(KNOCK_AGAIN);
        }
    }
}

/// Announces a call with espeak-ng when this PC has it (Bahasa Indonesia), else only on
/// screen.
pub fn speaker(lang: Lang) -> Announce {
    Box::new(move |call: &Call| {
        let words = match lang {
            Lang::Id => format!(
                "Nomor antrian {}, ke {}",
                spell(&call.ticket),
                call.unit_name
            ),
            Lang::En => format!("Number {}, to {}", spell(&call.ticket), call.unit_name),
        };
        let voice = match lang {
            Lang::Id => "id",
            Lang::En => "en",
        };
        // Not found, or no sound card: the screen still shows the call.
        let _ = std::process::Command::new("espeak-ng")
            .args(["-v", voice, &words])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    })
}

/// "U-012" as it is said: "U 12".
fn spell(ticket: &str) -> String {
    match ticket.split_once('-') {
        Some((prefix, number)) => format!("{prefix} {}", number.trim_start_matches('0')),
        None => ticket.to_owned(),
    }
}
