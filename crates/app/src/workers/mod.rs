//! The app's background workers. Each owns its resource (the clinic store, the card
//! readers, the link to the registry), talks to the UI through channels, and wakes the UI
//! when it has news: the UI thread never blocks, and an idle window repaints nothing.

pub mod bpjs;
pub mod clinic;
pub mod offline;
pub mod outside;
pub mod reader;
pub mod remote;
pub mod sync;

use std::sync::mpsc::Sender;

/// Wakes the UI from a worker thread.
#[derive(Clone)]
pub struct Waker {
    ctx: eframe::egui::Context,
    hook: Option<Sender<()>>,
}

impl Waker {
    /// A waker for the app's window; `hook`, when given, is told too (a test driving the
    /// app waits on it instead of polling).
    pub fn new(ctx: &eframe::egui::Context, hook: Option<Sender<()>>) -> Self {
        Self {
            ctx: ctx.clone(),
            hook,
        }
    }

    /// Asks for one repaint, in which the UI reads what the worker sent.
    pub fn wake(&self) {
        self.ctx.request_repaint();
        if let Some(hook) = &self.hook {
            // A test that stopped listening has finished.
            let _ = hook.send(());
        }
    }
}
