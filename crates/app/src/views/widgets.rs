//! Small pieces the views share: labelled inputs (every input has an accessible name) and
//! the look of a problem.

use eframe::egui;

use crate::problem::Problem;
use crate::text::Lang;

/// A label above a one-line text input named by it.
pub fn labelled_input(ui: &mut egui::Ui, label: &str, value: &mut String) -> egui::Response {
    let label = ui.label(label);
    ui.add(egui::TextEdit::singleline(value).desired_width(f32::INFINITY))
        .labelled_by(label.id)
}

/// A label above a password input named by it.
pub fn labelled_password(ui: &mut egui::Ui, label: &str, value: &mut String) -> egui::Response {
    let label = ui.label(label);
    ui.add(
        egui::TextEdit::singleline(value)
            .password(true)
            .desired_width(f32::INFINITY),
    )
    .labelled_by(label.id)
}

/// A problem in the error colour, in words to act on.
pub fn problem(ui: &mut egui::Ui, problem: &Problem, lang: Lang) {
    ui.colored_label(ui.visuals().error_fg_color, problem.text(lang));
}

/// A heading-sized button, for the one action a screen is about.
pub fn big_button(ui: &mut egui::Ui, text: &str) -> egui::Response {
    ui.add(egui::Button::new(egui::RichText::new(text).size(20.0)).min_size(egui::vec2(0.0, 36.0)))
}
