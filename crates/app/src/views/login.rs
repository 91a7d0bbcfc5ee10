//! The login screen, with the demo's accounts when there are some.

use eframe::egui;
use kartika_store::Role;

use super::widgets;
use crate::command::{Command, Commands};
use crate::state::{LoginField, Pending, State};
use crate::text::T;

/// A role's name on screen.
pub fn role_name(role: Role) -> T {
    match role {
        Role::Admin => T::RoleAdmin,
        Role::Registration => T::RoleRegistration,
        Role::Nurse => T::RoleNurse,
    }
}

pub fn show(ui: &mut egui::Ui, state: &mut State, commands: &mut Commands) {
    let lang = state.lang();
    ui.vertical_centered(|ui| {
        ui.set_max_width(360.0);
        ui.add_space(40.0);
        ui.heading(T::LoginTitle.get(lang));
        if let Some(facility) = &state.facility {
            ui.label(&facility.name);
        }
        ui.add_space(16.0);
        let busy = state.is_pending(Pending::LogIn);
        let username =
            widgets::labelled_input(ui, T::Username.get(lang), &mut state.login.username);
        let password =
            widgets::labelled_password(ui, T::Password.get(lang), &mut state.login.password);
        match state.login.keyboard_to.take() {
            Some(LoginField::Username) => username.request_focus(),
            Some(LoginField::Password) => password.request_focus(),
            None => {}
        }
        let entered = password.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            let clicked = ui
                .add_enabled(!busy, egui::Button::new(T::LogIn.get(lang)))
                .clicked();
            if (clicked || entered) && !busy {
                commands.push(Command::LogIn);
            }
            if busy {
                ui.spinner();
                ui.label(T::LoggingIn.get(lang));
            }
        });
        if let Some(problem) = &state.login.problem {
            widgets::problem(ui, problem, lang);
        }
        if let Some(path) = &state.setup.node_public_key {
            ui.add_space(12.0);
            ui.label(format!("{} {}", T::NodeKeyMade.get(lang), path.display()));
        }
        if let Some(demo) = &state.demo {
            ui.add_space(24.0);
            ui.separator();
            ui.strong(T::DemoAccounts.get(lang));
            ui.label(T::DemoAccountsHint.get(lang));
            for (index, account) in demo.accounts.iter().enumerate() {
                let text = format!(
                    "{} — {} / {}",
                    role_name(account.role).get(lang),
                    account.username,
                    account.password
                );
                if ui.button(text).clicked() {
                    commands.push(Command::UseDemoAccount(index));
                }
            }
        }
    });
}
