//! The real PC/SC stack for tests: pcscd must run with vsmartcard's vpcd driver. Tests
//! that use it hold [`exclusive`], because there is one pcscd and two virtual slots.

use std::fs::File;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kartika_reader::ReaderContext;
use kartika_vcard::vpcd::{CardPuller, Fault, VpcdLink};
use kartika_vcard::{LinkModel, VirtualCard};

pub const PCSCD_SOCKET: &str = "/run/pcscd/pcscd.comm";
pub const LOCK_FILE: &str = "/tmp/kartika-pcsc-tests.lock";
/// How long the tests give pcscd and vpcd to come up or notice a card.
pub const STARTUP_LIMIT: Duration = Duration::from_secs(20);

pub fn reader_name(slot: u8) -> String {
    format!("Virtual PCD 00 {slot:02}")
}

/// Exclusive use of pcscd and its virtual readers for as long as the guard lives.
pub struct PcscGuard {
    _lock: File,
}

/// Waits for the other PC/SC tests to finish, then makes sure pcscd runs.
pub fn exclusive() -> PcscGuard {
    let lock = File::create(LOCK_FILE).unwrap_or_else(|e| panic!("cannot create {LOCK_FILE}: {e}"));
    lock.lock()
        .unwrap_or_else(|e| panic!("cannot lock {LOCK_FILE}: {e}"));
    ensure_pcscd();
    PcscGuard { _lock: lock }
}

pub fn pcscd_answers() -> bool {
    UnixStream::connect(PCSCD_SOCKET).is_ok()
}

/// Starts pcscd if it is not running; fails the test with instructions if it cannot.
pub fn ensure_pcscd() {
    if pcscd_answers() && vpcd_listens() {
        return;
    }
    if !Path::new("/usr/lib/pcsc/drivers/serial/libifdvpcd.so").exists()
        || !Path::new("/usr/sbin/pcscd").exists()
    {
        panic!(
            "these tests need pcscd and the vpcd virtual reader: \
             sudo apt-get install -y pcscd vsmartcard-vpcd, then run scripts/test"
        );
    }
    if !pcscd_answers() {
        start_pcscd();
    }
    wait_until("vpcd to listen on 127.0.0.1:35963", vpcd_listens);
}

pub fn start_pcscd() {
    let status = Command::new("pcscd").status().unwrap_or_else(|e| {
        panic!("cannot start pcscd ({e}); install it with: sudo apt-get install -y pcscd vsmartcard-vpcd")
    });
    assert!(
        status.success(),
        "pcscd did not start (exit {status}); are you root? try: sudo pcscd"
    );
    wait_until("pcscd to answer on its socket", pcscd_answers);
}

/// Stops pcscd and waits until it is gone.
pub fn stop_pcscd() {
    let _ = Command::new("pkill").args(["-x", "pcscd"]).status();
    wait_until("pcscd to stop", || !pcscd_answers() && !vpcd_listens());
}

/// Whether vpcd listens on its first slot. Read from the kernel's socket table, because
/// connecting to vpcd to find out would insert a card.
fn vpcd_listens() -> bool {
    let port = format!(":{:04X}", kartika_vcard::vpcd::BASE_PORT);
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|table| {
        std::fs::read_to_string(table).is_ok_and(|text| {
            text.lines().any(|line| {
                let columns: Vec<&str> = line.split_whitespace().collect();
                columns.len() > 3 && columns[1].ends_with(&port) && columns[3] == "0A"
            })
        })
    })
}

/// Polls `ready` until it holds. Used only where no event exists to wait on (a daemon
/// starting or stopping).
pub fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < STARTUP_LIMIT,
            "gave up waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A virtual card in vpcd slot `slot`, served from a thread until pulled.
pub struct InsertedCard {
    slot: u8,
    puller: CardPuller,
    thread: Option<JoinHandle<VirtualCard>>,
}

#[derive(Clone, Copy, Default)]
pub struct InsertOptions {
    pub link: Option<LinkModel>,
    pub pull_after_apdus: Option<usize>,
    /// Pulls the card as the first APDU with this instruction byte arrives.
    pub pull_at_instruction: Option<u8>,
    /// Stops answering at the first APDU with this instruction byte, until pulled.
    pub stall_at_instruction: Option<u8>,
}

impl InsertedCard {
    /// Inserts the card at `path` and waits until PC/SC sees it.
    pub fn insert(path: &Path, slot: u8, options: InsertOptions) -> Self {
        let mut card = VirtualCard::open(path).expect("open virtual card");
        let mut link = VpcdLink::connect(slot).expect("connect to vpcd");
        let puller = link.puller().expect("clone vpcd socket");
        let thread = std::thread::spawn(move || {
            let fault = options
                .pull_at_instruction
                .map(Fault::PullAtInstruction)
                .or(options.pull_after_apdus.map(Fault::PullAtApdu))
                .or(options.stall_at_instruction.map(Fault::StallAtInstruction));
            link.serve(&mut card, options.link, fault)
                .expect("serve vpcd");
            card
        });
        ReaderContext::establish()
            .and_then(|ctx| ctx.wait_for_card(&reader_name(slot), Some(STARTUP_LIMIT)))
            .expect("PC/SC sees the inserted card");
        Self {
            slot,
            puller,
            thread: Some(thread),
        }
    }

    /// Waits until PC/SC has noticed the card is gone, so the next test starts clean.
    fn wait_until_reader_empty(&self) {
        ReaderContext::establish()
            .and_then(|ctx| ctx.wait_for_removal(&reader_name(self.slot), Some(STARTUP_LIMIT)))
            .expect("PC/SC sees the card removed");
    }

    /// Pulls the card and waits for its thread; returns the card as it is now.
    pub fn pull(mut self) -> VirtualCard {
        self.puller.pull();
        let card = self
            .thread
            .take()
            .expect("thread present until pulled")
            .join()
            .expect("card thread ended cleanly");
        self.wait_until_reader_empty();
        card
    }
}

impl Drop for InsertedCard {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.puller.pull();
            let _ = thread.join();
            if !std::thread::panicking() {
                self.wait_until_reader_empty();
            }
        }
    }
}
