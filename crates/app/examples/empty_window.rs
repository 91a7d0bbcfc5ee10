//! The baseline of the app's benchmarks: an empty eframe window with the same features and
//! window size, reporting its first frame as `kartika demo` does with KARTIKA_TIMINGS.
//!
//!     cargo build --release -p kartika-app --example empty_window

use std::time::Instant;

use eframe::egui;

struct Empty {
    started: Instant,
    reported: bool,
}

impl eframe::App for Empty {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::CentralPanel::default().show(ui, |_| {});
        if !self.reported {
            self.reported = true;
            eprintln!(
                "timing: first frame {:.1} ms after start",
                self.started.elapsed().as_secs_f64() * 1e3
            );
        }
    }
}

fn main() -> eframe::Result {
    let started = Instant::now();
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Empty")
            .with_inner_size([1280.0, 800.0]),
        ..Default::default()
    };
    eframe::run_native(
        "Empty",
        options,
        Box::new(move |_| {
            Ok(Box::new(Empty {
                started,
                reported: false,
            }))
        }),
    )
}
