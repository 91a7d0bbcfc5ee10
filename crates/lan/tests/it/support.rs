//! A clinic server on loopback, on a store made for the test.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use kartika_card::crypto::Roles;
use kartika_card::model::Sex;
use kartika_lan::authority::Authority;
use kartika_lan::server::ServerConfig;
use kartika_lan::{Client, LoggedIn};
use kartika_store::{Care, ManualClock, NewPatient, NewVisit, Payer, Store};
use kartika_testkit::clinic::store_with_desks;
use kartika_testkit::fixtures::{date, Pki};
use kartika_testkit::lan::RunningServer;
use tempfile::TempDir;
use time::macros::datetime;

pub const PASSWORD: &str = "rahasia-puskesmas-1";
/// Registration accounts: `desk1` … `desk15`.
pub const DESKS: usize = 15;

/// A patient without NIK, one per `n`.
pub fn patient(n: usize) -> NewPatient {
    NewPatient {
        name: format!("Pasien Nomor {n}"),
        birth_date: "1985-06-15".into(),
        sex: Some(if n.is_multiple_of(2) {
            Sex::Male
        } else {
            Sex::Female
        }),
        region_code: Some("36.74.06.1001".into()),
        ..NewPatient::default()
    }
}

pub fn visit(patient_number: &str, unit: &str) -> NewVisit {
    NewVisit {
        patient_number: patient_number.into(),
        unit_code: unit.into(),
        payer: Payer::General,
        care: Care::Sick,
        complaint: Some("demam".into()),
    }
}

/// A clinic server on a fresh store, answering on a loopback port until dropped. The
/// clock stands at 09:00 WIB, so a run crossing midnight keeps one queue day.
pub struct Running {
    pub url: String,
    pub addr: SocketAddr,
    pub db: PathBuf,
    pub clock: ManualClock,
    _server: RunningServer,
    _dir: TempDir,
}

impl Running {
    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    /// A server with the Puskesmas's certificate authority, vouched for by a node of
    /// `pki` certified as this facility: only approved workstations are served.
    pub fn with_authority(pki: &Pki) -> (Self, Arc<Authority>) {
        let folder = tempfile::tempdir().expect("temp dir");
        let node = pki.node("P3674060", Roles::TERMINAL, date(2030, 12, 31));
        let authority =
            Arc::new(Authority::open_or_create(folder.path(), &node).expect("authority"));
        let tls = authority.server_tls().expect("server TLS");
        let shared = Arc::clone(&authority);
        let running = Self::start_tls(Some(tls), move |config| config.authority = Some(shared));
        (running, authority)
    }

    /// A server whose configuration `adjust` changes first.
    pub fn start_with(adjust: impl FnOnce(&mut ServerConfig)) -> Self {
        Self::start_tls(None, adjust)
    }

    fn start_tls(
        tls: Option<tokio_rustls::TlsAcceptor>,
        adjust: impl FnOnce(&mut ServerConfig),
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("clinic.sqlite");
        let clock = ManualClock::new(datetime!(2026-11-28 02:00 UTC));
        store_with_desks(&db, Arc::new(clock.clone()), DESKS, PASSWORD);
        let server = RunningServer::start_with(
            &db,
            Arc::new(clock.clone()),
            "127.0.0.1:0".parse().expect("address"),
            tls,
            adjust,
        );
        Self {
            url: server.url.clone(),
            addr: server.addr,
            db,
            clock,
            _server: server,
            _dir: dir,
        }
    }

    pub fn client(&self) -> Client {
        Client::new(&self.url, None).expect("client")
    }

    pub fn login(&self, username: &str) -> (Client, LoggedIn) {
        let client = self.client();
        let logged_in = client.login(username, PASSWORD).expect("login");
        (client, logged_in)
    }

    /// The store file, read directly, as an auditor would.
    pub fn sql(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.db).expect("open the store file")
    }

    pub fn store(&self) -> Store {
        Store::open_with_clock(&self.db, Arc::new(self.clock.clone())).expect("open the store")
    }
}
