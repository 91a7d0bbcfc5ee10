//! A Puskesmas with a month of visits, and a fake SATUSEHAT that knows it.

use std::path::PathBuf;
use std::sync::Arc;

use kartika_satusehat::{save_link_files, Drained, Secret, Sender};
use kartika_store::generate::GenerateOptions;
use kartika_store::{ManualClock, SatusehatLink, Session, Store};
use kartika_testkit::clinic::store_with_desks;
use kartika_testkit::satusehat::FakeSatusehat;
use tempfile::TempDir;
use time::macros::{date, datetime};

pub const PASSWORD: &str = "kata-sandi-puskesmas-1";
pub const CLIENT_ID: &str = "kartika-pamulang";
pub const SECRET: &str = "rahasia-satusehat-9f8e7d6c5b4a";
pub const ORGANIZATION: &str = "10000004";

pub struct Puskesmas {
    pub store: Store,
    pub path: PathBuf,
    pub clock: ManualClock,
    pub admin: Session,
    pub fake: FakeSatusehat,
    _dir: TempDir,
}

impl Puskesmas {
    /// A month of visits (`visits` of them) made while SATUSEHAT was not set up, and a
    /// SATUSEHAT that knows every adult's NIK.
    pub fn with_month_of_visits(visits: u32) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clinic.sqlite");
        let clock = ManualClock::new(datetime!(2026-11-28 02:00 UTC));
        store_with_desks(&path, Arc::new(clock.clone()), 1, PASSWORD);
        let mut store = Store::open_with_clock(&path, Arc::new(clock.clone())).unwrap();
        store
            .generate(&GenerateOptions {
                patients: visits / 3 + 1,
                visits,
                days: 30,
                seed: 7,
                until: Some(date!(2026 - 11 - 27)),
            })
            .unwrap();
        let admin = store.login("admin", PASSWORD).unwrap();
        let fake = FakeSatusehat::start(CLIENT_ID, SECRET, ORGANIZATION);
        fake.know_every_nik();
        let mut puskesmas = Self {
            store,
            path,
            clock,
            admin,
            fake,
            _dir: dir,
        };
        puskesmas.set_up(ORGANIZATION, SECRET);
        puskesmas
    }

    /// What an admin's set-up does: the link in the store, the secret and CA beside it.
    pub fn set_up(&mut self, organization_id: &str, secret: &str) {
        let link = SatusehatLink {
            auth_url: self.fake.auth_url.clone(),
            fhir_url: self.fake.fhir_url.clone(),
            client_id: CLIENT_ID.into(),
            organization_id: organization_id.into(),
            pace: 0,
        };
        self.store.set_satusehat_link(&self.admin, &link).unwrap();
        save_link_files(
            &self.path,
            &Secret::new(&format!("{secret}\n")),
            Some(self.fake.ca_pem.as_bytes()),
        )
        .unwrap();
    }

    pub fn sender(&mut self) -> Sender {
        Sender::open(&mut self.store, &self.path, "test-pc").unwrap()
    }

    /// Drains until nothing is due, letting the store's clock run through each pause;
    /// returns every round's report.
    pub fn drain_through_pauses(&mut self, sender: &mut Sender) -> Vec<Drained> {
        let mut rounds = Vec::new();
        for _ in 0..200 {
            let drained = sender.drain(&mut self.store, |_| {}).unwrap();
            let paused = drained.paused.clone();
            rounds.push(drained);
            match paused {
                Some((pause, _)) => self
                    .clock
                    .advance(time::Duration::try_from(pause).unwrap() + time::Duration::seconds(1)),
                None => return rounds,
            }
        }
        panic!("the sender never ran out of due visits: {rounds:?}");
    }

    pub fn count(&mut self, state: &str) -> i64 {
        self.store.satusehat_status(usize::MAX).unwrap().counts[state]
    }
}
