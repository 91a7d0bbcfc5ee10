//! Clinics and a registry; the proxies that break connections are the testkit's.

use std::sync::Arc;

use kartika_card::model::Sex;
use kartika_registry::sqlite::SqliteBackend;
use kartika_store::{
    Care, FacilityProfile, ManualClock, NewPatient, NewStaff, NewVisit, Payer, Role, Session,
    Store, TimeZone,
};
use kartika_sync::{SyncConfig, Syncer};
pub use kartika_testkit::proxy::{ClosesWhenReused, CuttingProxy, DeadThenAlive};
use kartika_testkit::registry::{enroll, RunningRegistry};
use time::macros::datetime;

pub struct Clinic {
    pub store: Store,
    pub clock: ManualClock,
    pub admin: Session,
    pub code: String,
    /// The store's file.
    pub path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Clinic {
    pub fn new(code: &str, name: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(datetime!(2026-10-01 02:00 UTC));
        let profile = FacilityProfile {
            code: code.into(),
            name: name.into(),
            region_code: Some("36.74".into()),
            zone: TimeZone::Wib,
        };
        let mut store = Store::create_with_clock(
            &dir.path().join("clinic.sqlite"),
            &profile,
            Arc::new(clock.clone()),
        )
        .unwrap();
        store
            .add_first_admin(&NewStaff {
                username: "admin".into(),
                display_name: "Admin".into(),
                role: Role::Admin,
                password: "sandi-admin-1".into(),
            })
            .unwrap();
        let admin = store.login("admin", "sandi-admin-1").unwrap();
        Self {
            store,
            clock,
            admin,
            code: code.into(),
            path: dir.path().join("clinic.sqlite"),
            _dir: dir,
        }
    }

    pub fn patient(&mut self, name: &str) -> String {
        self.store
            .create_patient(
                &self.admin,
                &NewPatient {
                    name: name.into(),
                    birth_date: "1980-02-03".into(),
                    sex: Some(Sex::Female),
                    region_code: Some("36.74.06.1001".into()),
                    ..NewPatient::default()
                },
            )
            .unwrap()
            .patient
            .patient_number
    }

    pub fn visit(&mut self, patient_number: &str, unit: &str) -> String {
        self.store
            .register_visit(
                &self.admin,
                &NewVisit {
                    patient_number: patient_number.into(),
                    unit_code: unit.into(),
                    payer: Payer::General,
                    care: Care::Sick,
                    complaint: None,
                },
            )
            .unwrap()
            .visit_id
    }
}

/// A registry on SQLite with the given nodes enrolled; returns it and their tokens.
pub fn registry(nodes: &[&str]) -> (RunningRegistry, Vec<String>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut backend = SqliteBackend::open(&dir.path().join("registry.sqlite")).unwrap();
    let tokens = nodes.iter().map(|n| enroll(&mut backend, n)).collect();
    (RunningRegistry::start(Box::new(backend)), tokens, dir)
}

/// The registry on a PostgreSQL database of `server`, with a pool of three connections as
/// `registry serve --postgres` opens; its tokens; and the database's address, to count
/// what it stored.
pub fn registry_on_postgres(
    server: &kartika_testkit::postgres::TestPostgres,
    name: &str,
    nodes: &[&str],
) -> (RunningRegistry, Vec<String>, String) {
    use kartika_registry::postgres_backend::PostgresBackend;
    let url = server.new_database(name);
    let connect = || Box::new(PostgresBackend::connect(&url).unwrap());
    let mut first = connect();
    let tokens = nodes.iter().map(|n| enroll(first.as_mut(), n)).collect();
    let more: Vec<Box<dyn kartika_registry::Backend>> = vec![connect(), connect()];
    (RunningRegistry::start_pool(first, more), tokens, url)
}

pub fn syncer(url: &str, token: &str) -> Syncer {
    syncer_with_batch(url, token, 500)
}

/// A syncer that pulls `page` changes at a time: a few changes make several pages.
pub fn syncer_paging(url: &str, token: &str, page: usize) -> Syncer {
    let mut config = SyncConfig::new(url, token);
    config.page = page;
    Syncer::new(config).unwrap()
}

pub fn syncer_with_batch(url: &str, token: &str, max_rows: usize) -> Syncer {
    let mut config = SyncConfig::new(url, token);
    config.max_rows = max_rows;
    Syncer::new(config).unwrap()
}

/// The card Pamulang issued to Dewi (card 6037990000000030), as another Puskesmas's
/// reader reads it.
pub fn card_of(patient_number: &str) -> kartika_card::model::Identity {
    use kartika_card::model::{CardNumber, FacilityCode, Identity, IdentityFields, PatientNumber};
    use time::macros::date;
    Identity::new(IdentityFields {
        card_number: CardNumber::new("6037990000000030").unwrap(),
        patient_number: PatientNumber::new(patient_number).unwrap(),
        nik: None,
        bpjs_number: None,
        name: "Dewi Lestari".into(),
        birth_date: date!(1980 - 02 - 03),
        sex: Sex::Female,
        blood_group: None,
        address: None,
        region_code: None,
        facility_code: FacilityCode::new("P3674060").unwrap(),
        issue_date: date!(2026 - 09 - 01),
        expiry_date: date!(2031 - 08 - 31),
    })
    .unwrap()
}

/// A patient card's key, as a test stands in for the chip.
pub struct CardKey(p256::ecdsa::SigningKey);

impl CardKey {
    pub fn new() -> Self {
        Self(p256::ecdsa::SigningKey::random(&mut rand_core::OsRng))
    }

    /// DF10, as the issuer records it.
    pub fn public(&self) -> [u8; 65] {
        kartika_card::crypto::PublicKey::of(&self.0).to_bytes()
    }

    /// The card's answer to node `node`'s presence challenge now.
    pub fn proof(
        &self,
        card_number: &str,
        patient_number: &str,
        node: &str,
    ) -> kartika_protocol::PresenceProof {
        let nonce = [7u8; 16];
        let at_ms = kartika_testkit::fixtures::now_ms();
        let challenge = kartika_card::presence::presence_challenge(node, at_ms, &nonce);
        let message =
            kartika_card::crypto::internal_auth_message(&challenge, card_number.as_bytes());
        kartika_protocol::PresenceProof {
            card_number: card_number.into(),
            patient_number: patient_number.into(),
            at_ms,
            nonce: hex::encode(nonce),
            signature: hex::encode(kartika_card::crypto::sign(&self.0, &message)),
        }
    }
}
