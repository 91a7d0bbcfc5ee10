//! The queue ticket: ESC/POS bytes for a receipt printer (over the network on port 9100,
//! or a device file), and a one-page PDF for any other printer. Printing happens on a
//! thread of its own, never on the UI thread.

use std::io::Write;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::utils::{JustifyMode, Protocol};
use serde::{Deserialize, Serialize};

use crate::pdf::{self, Page};
use crate::problem::Problem;

/// Where tickets go.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PrinterTarget {
    /// No receipt printer: PDF only.
    #[default]
    None,
    /// A network receipt printer, `host` or `host:port` (port 9100 when not given).
    Network(String),
    /// A device file, for example `/dev/usb/lp0`.
    Device(PathBuf),
}

/// What a ticket says. All text is already in the screen's language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketText {
    /// The facility's name.
    pub facility: String,
    /// "Nomor antrian".
    pub heading: String,
    /// For example `U-007`.
    pub ticket: String,
    /// The unit's name.
    pub unit: String,
    /// The day and time, in words.
    pub when: String,
    /// "3 orang menunggu sebelum Anda".
    pub waiting: String,
    /// The patient number, for the poli to find the record.
    pub patient_number: String,
}

/// Collects what the printer driver is given, so the bytes can be tested and then sent.
#[derive(Clone, Default)]
struct Collected(Arc<Mutex<Vec<u8>>>);

impl Driver for Collected {
    fn name(&self) -> String {
        "collected".into()
    }

    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(data);
        Ok(())
    }

    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }

    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

/// The ESC/POS bytes of a ticket: facility, heading, the number in quadruple size, unit,
/// time, people ahead, patient number, then a cut.
pub fn escpos_bytes(text: &TicketText) -> Result<Vec<u8>, Problem> {
    let collected = Collected::default();
    let mut printer = Printer::new(collected.clone(), Protocol::default(), None);
    let fail = |e: escpos::errors::PrinterError| Problem::PrinterUnreachable(e.to_string());
    printer
        .init()
        .and_then(|p| p.justify(JustifyMode::CENTER))
        .and_then(|p| p.bold(true))
        .and_then(|p| p.writeln(&receipt_text(&text.facility)))
        .and_then(|p| p.bold(false))
        .and_then(|p| p.writeln(&receipt_text(&text.heading)))
        .and_then(|p| p.size(4, 4))
        .and_then(|p| p.writeln(&receipt_text(&text.ticket)))
        .and_then(|p| p.reset_size())
        .and_then(|p| p.size(2, 2))
        .and_then(|p| p.writeln(&receipt_text(&text.unit)))
        .and_then(|p| p.reset_size())
        .and_then(|p| p.writeln(&receipt_text(&text.when)))
        .and_then(|p| p.writeln(&receipt_text(&text.waiting)))
        .and_then(|p| p.writeln(&receipt_text(&text.patient_number)))
        .and_then(|p| p.feeds(3))
        .and_then(|p| p.print_cut())
        .map_err(fail)?;
    let bytes = collected
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    Ok(bytes)
}

/// Receipt printers speak a code page, not UTF-8: what is not ASCII becomes `?`.
fn receipt_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// Sends ticket bytes to the printer.
pub fn send_to_printer(bytes: &[u8], target: &PrinterTarget) -> Result<(), Problem> {
    let unreachable = |e: std::io::Error| Problem::PrinterUnreachable(e.to_string());
    match target {
        PrinterTarget::None => Ok(()),
        PrinterTarget::Network(address) => {
            let addr = network_address(address)?;
            let mut stream =
                TcpStream::connect_timeout(&addr, Duration::from_secs(3)).map_err(unreachable)?;
            stream
                .set_write_timeout(Some(Duration::from_secs(5)))
                .map_err(unreachable)?;
            stream.write_all(bytes).map_err(unreachable)?;
            stream.flush().map_err(unreachable)
        }
        PrinterTarget::Device(path) => std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|mut device| device.write_all(bytes).and_then(|()| device.flush()))
            .map_err(unreachable),
    }
}

fn network_address(address: &str) -> Result<SocketAddr, Problem> {
    let address = address.trim();
    let with_port = if address.contains(':') {
        address.to_owned()
    } else {
        format!("{address}:9100")
    };
    with_port
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| Problem::PrinterUnreachable(format!("\"{address}\"")))
}

/// A one-page PDF of the ticket, 80 mm wide like a receipt, in Helvetica (which every PDF
/// reader carries, so nothing is embedded).
pub fn pdf_bytes(text: &TicketText) -> Vec<u8> {
    const WIDTH: f32 = 226.8; // 80 mm
    const HEIGHT: f32 = 283.5; // 100 mm
    let lines: [(f32, &str, f32); 7] = [
        (12.0, &text.facility, 250.0),
        (11.0, &text.heading, 228.0),
        (54.0, &text.ticket, 170.0),
        (18.0, &text.unit, 140.0),
        (10.0, &text.when, 112.0),
        (10.0, &text.waiting, 94.0),
        (9.0, &text.patient_number, 70.0),
    ];
    let mut page = Page::new(WIDTH, HEIGHT);
    for (size, line, y) in lines {
        page.centred_text(WIDTH / 2.0, y, size, line);
    }
    pdf::document(&[page])
}

/// Writes the PDF ticket into `folder` and returns its path.
pub fn save_pdf(folder: &Path, text: &TicketText, file_stem: &str) -> Result<PathBuf, Problem> {
    pdf::save(folder, &format!("{file_stem}.pdf"), &pdf_bytes(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TicketText {
        TicketText {
            facility: "Puskesmas Pamulang".into(),
            heading: "Nomor antrian".into(),
            ticket: "U-007".into(),
            unit: "Poli Umum".into(),
            when: "Sabtu, 28 November 2026 08.15".into(),
            waiting: "3 orang menunggu sebelum Anda".into(),
            patient_number: "No. RM P36740600000011".into(),
        }
    }

    #[test]
    fn the_receipt_is_exactly_these_bytes() {
        // Each line ends with ESC d 1 (print and feed one line), as the escpos crate
        // writes it.
        let line = |text: &[u8]| [text, &[0x1B, b'd', 1][..]].concat();
        let mut expected = vec![0x1B, b'@']; // initialise
        expected.extend([0x1B, b'a', 1]); // centre
        expected.extend([0x1B, b'E', 1]); // bold
        expected.extend(line(b"Puskesmas Pamulang"));
        expected.extend([0x1B, b'E', 0]);
        expected.extend(line(b"Nomor antrian"));
        expected.extend([0x1D, b'!', 0x33]); // quadruple width and height
        expected.extend(line(b"U-007"));
        expected.extend([0x1D, b'!', 0x00]);
        expected.extend([0x1D, b'!', 0x11]); // double
        expected.extend(line(b"Poli Umum"));
        expected.extend([0x1D, b'!', 0x00]);
        expected.extend(line(b"Sabtu, 28 November 2026 08.15"));
        expected.extend(line(b"3 orang menunggu sebelum Anda"));
        expected.extend(line(b"No. RM P36740600000011"));
        expected.extend([0x1B, b'd', 3]); // feed three lines
        expected.extend([0x1D, b'V', 0x41, 0x00]); // feed and cut
        assert_eq!(escpos_bytes(&sample()).unwrap(), expected);
    }

    #[test]
    fn non_ascii_never_reaches_the_printer_as_utf8() {
        let mut text = sample();
        text.facility = "Puskesmas Tebet • Jakarta".into();
        let bytes = escpos_bytes(&text).unwrap();
        assert!(bytes.windows(25).any(|w| w == b"Puskesmas Tebet ? Jakarta"));
    }

    #[test]
    fn the_pdf_ticket_is_a_pdf_with_the_number_on_it() {
        let pdf = pdf_bytes(&sample());
        assert!(pdf.starts_with(b"%PDF-1.4"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        assert!(pdf.windows(7).any(|w| w == b"(U-007)"));
        let text = String::from_utf8_lossy(&pdf);
        let startxref: usize = text
            .rsplit("startxref\n")
            .next()
            .and_then(|rest| rest.lines().next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!(
            pdf[startxref..].starts_with(b"xref"),
            "startxref points at the table"
        );
    }

    #[test]
    fn a_printer_on_the_network_receives_the_bytes() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let bytes = escpos_bytes(&sample()).unwrap();
        let expected = bytes.clone();
        let printer = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut received = Vec::new();
            std::io::Read::read_to_end(&mut stream, &mut received).unwrap();
            received
        });
        send_to_printer(&bytes, &PrinterTarget::Network(address)).unwrap();
        assert_eq!(printer.join().unwrap(), expected);
    }

    #[test]
    fn an_absent_printer_is_said_plainly() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        drop(listener);
        assert!(matches!(
            send_to_printer(b"x", &PrinterTarget::Network(address)),
            Err(Problem::PrinterUnreachable(_))
        ));
    }
}
