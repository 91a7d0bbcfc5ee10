//! The demo's card tray: software cards to tap on the demo reader.

use eframe::egui;
use kartika_demo::{TrayCard, TrayCardKind};

use crate::command::{Command, Commands};
use crate::state::State;
use crate::text::{Lang, T};

/// What a tray card's button says: its holder and what it is.
pub fn card_label(card: &TrayCard, blank_number: usize, lang: Lang) -> String {
    let kind = match card.kind {
        TrayCardKind::Genuine => T::TrayGenuine,
        TrayCardKind::OtherPuskesmas => T::TrayOtherPuskesmas,
        TrayCardKind::Blocked => T::TrayBlocked,
        TrayCardKind::Copy => T::TrayCopy,
        TrayCardKind::Expired => T::TrayExpired,
        TrayCardKind::Blank => T::TrayBlank,
    };
    match &card.holder {
        Some(holder) => format!("{holder} — {}", kind.get(lang)),
        None => format!("{} {blank_number}", kind.get(lang)),
    }
}

pub fn show(ui: &mut egui::Ui, state: &State, commands: &mut Commands) {
    let Some(demo) = &state.demo else {
        return;
    };
    let lang = state.lang();
    egui::Panel::left("demo_tray")
        .resizable(false)
        .default_size(230.0)
        .show(ui, |ui| {
            ui.heading(T::DemoTray.get(lang));
            ui.label(T::DemoTrayHint.get(lang));
            ui.add_space(8.0);
            let mut blanks = 0;
            for (index, card) in demo.tray.iter().enumerate() {
                if card.kind == TrayCardKind::Blank {
                    blanks += 1;
                }
                let label = card_label(card, blanks, lang);
                let inserted = demo.inserted == Some(index);
                if ui.selectable_label(inserted, label).clicked() && !inserted {
                    commands.push(Command::TapDemoCard(index));
                }
            }
            ui.add_space(8.0);
            if demo.inserted.is_some() && ui.button(T::Pull.get(lang)).clicked() {
                commands.push(Command::PullDemoCard);
            }
        });
}
