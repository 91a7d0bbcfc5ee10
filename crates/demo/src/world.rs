//! Making the demo folder once, and opening it again.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kartika_card::checks::{luhn_check_digit, mod30_check_char};
use kartika_card::crypto::{NodeCertificate, NodeCredentials, PublicKey, Roles};
use kartika_card::model::{
    parse_iso_date, BloodGroup, BpjsNumber, CardNumber, FacilityCode, Identity, IdentityFields,
    Nik, PatientNumber, RegionCode, Sex,
};
use kartika_registry::Backend;
use kartika_store::generate::GenerateOptions;
use kartika_store::{
    Care, Clock, FacilityProfile, NewPatient, NewStaff, NewVisit, Patient, PatientQuery, Payer,
    Role, Session, Store, SystemClock, TimeZone,
};
use p256::ecdsa::SigningKey;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rand_core::OsRng;
use serde::{Deserialize, Serialize};
use time::{Date, Duration};

use crate::{cards, DemoError};

/// The demo Puskesmas.
pub const FACILITY_CODE: &str = "P3674060";
/// Another Puskesmas of the same city, whose patient walks in with their card.
pub const OTHER_FACILITY_CODE: &str = "P3674020";
const MANIFEST: &str = "demo.json";

/// A staff account of the demo, shown on its login screen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoAccount {
    /// Login name.
    pub username: String,
    /// Its password: this is a demo.
    pub password: String,
    /// Its role.
    pub role: Role,
}

/// What a demo card shows when tapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrayCardKind {
    /// A genuine card of a patient of this Puskesmas.
    Genuine,
    /// A genuine card issued by another Puskesmas, of a patient new here.
    OtherPuskesmas,
    /// A card reported lost: on the revocation list.
    Blocked,
    /// Another chip carrying a genuine card's data.
    Copy,
    /// A genuine card past its expiry date.
    Expired,
    /// Not issued yet.
    Blank,
}

/// A software card in the demo's tray.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrayCard {
    /// What it is.
    pub kind: TrayCardKind,
    /// Whose name it carries, if any.
    pub holder: Option<String>,
    /// The card's file.
    pub path: PathBuf,
}

/// How much history to seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedSize {
    /// Patients.
    pub patients: u32,
    /// Visits over the days.
    pub visits: u32,
    /// Days of history before today.
    pub days: u32,
}

impl SeedSize {
    /// What `kartika demo` seeds: a Puskesmas after a few months.
    pub const DEMO: Self = Self {
        patients: 3_000,
        visits: 20_000,
        days: 180,
    };
    /// Enough for tests to find history, quick to make.
    pub const SMALL: Self = Self {
        patients: 200,
        visits: 800,
        days: 30,
    };
}

#[derive(Serialize, Deserialize)]
struct Manifest {
    root_key_pem: String,
    node_key_pem: String,
    node_certificate: String,
    /// The other Puskesmas's node, enrolled on request (older demo folders lack it).
    #[serde(default)]
    other_node_certificate: Option<String>,
    token: String,
    accounts: Vec<DemoAccount>,
    tray: Vec<TrayCard>,
}

/// The demo folder, made and ready.
pub struct DemoWorld {
    /// The folder.
    pub dir: PathBuf,
    /// The clinic store.
    pub store_path: PathBuf,
    /// The registry's database.
    pub registry_path: PathBuf,
    /// The registry root every card and node chains to.
    pub root: PublicKey,
    /// This Puskesmas's node key and certificate.
    pub node: NodeCredentials,
    /// The key the demo registry signs audit receipts with, certified by the root (made
    /// afresh each time the folder is opened).
    pub receipts: NodeCredentials,
    /// The other Puskesmas's node certificate, as the registry enrols it.
    other_node_certificate: Option<Vec<u8>>,
    /// The node's registry token.
    pub token: String,
    /// One account per role.
    pub accounts: Vec<DemoAccount>,
    /// The cards to tap.
    pub tray: Vec<TrayCard>,
}

impl std::fmt::Debug for DemoWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoWorld")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl DemoWorld {
    /// Opens the demo folder at `dir`, making it first when it is new, incomplete or
    /// `fresh` is asked for. The card files are remade each time, so every demo starts
    /// with the tray as described (a blank card issued last time is blank again).
    pub fn open_or_create(dir: &Path, fresh: bool, size: SeedSize) -> Result<Self, DemoError> {
        Self::open_or_create_with_clock(dir, fresh, size, Arc::new(SystemClock))
    }

    /// [`Self::open_or_create`] on `clock`: its today is the last day of the history and
    /// the day of the morning's queue (tests pass a fixed one, so no run crosses midnight).
    pub fn open_or_create_with_clock(
        dir: &Path,
        fresh: bool,
        size: SeedSize,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, DemoError> {
        let manifest_path = dir.join(MANIFEST);
        if fresh || !manifest_path.exists() {
            clear_all_but_logs(dir)?;
            create(dir, size, clock)?;
        }
        let text = fs::read_to_string(&manifest_path).map_err(DemoError::folder(&manifest_path))?;
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|e| DemoError::Manifest(e.to_string()))?;
        let root_key = SigningKey::from_pkcs8_pem(&manifest.root_key_pem)
            .map_err(|e| DemoError::Manifest(e.to_string()))?;
        let node_key = SigningKey::from_pkcs8_pem(&manifest.node_key_pem)
            .map_err(|e| DemoError::Manifest(e.to_string()))?;
        let certificate = hex::decode(&manifest.node_certificate)
            .map_err(|e| DemoError::Manifest(e.to_string()))
            .and_then(|bytes| {
                NodeCertificate::from_tlv(&bytes).map_err(|e| DemoError::Manifest(e.to_string()))
            })?;
        let node = NodeCredentials::new(node_key, certificate)
            .map_err(|e| DemoError::Manifest(e.to_string()))?;
        let receipt_key = SigningKey::random(&mut OsRng);
        let receipt_certificate = NodeCertificate::issue(
            &root_key,
            kartika_store::RECEIPT_SIGNER,
            PublicKey::of(&receipt_key),
            node.certificate().valid_until(),
            Roles(0),
        )
        .and_then(|c| NodeCredentials::new(receipt_key, c))
        .map_err(|e| DemoError::Card(e.to_string()))?;
        Ok(Self {
            receipts: receipt_certificate,
            dir: dir.to_owned(),
            store_path: dir.join("clinic.sqlite"),
            registry_path: dir.join("registry.sqlite"),
            root: PublicKey::of(&root_key),
            node,
            other_node_certificate: manifest
                .other_node_certificate
                .and_then(|text| hex::decode(text).ok()),
            token: manifest.token,
            accounts: manifest.accounts,
            tray: manifest
                .tray
                .into_iter()
                .map(|card| TrayCard {
                    path: dir.join("cards").join(&card.path),
                    ..card
                })
                .collect(),
        })
    }

    /// The account of a role.
    pub fn account(&self, role: Role) -> Option<&DemoAccount> {
        self.accounts.iter().find(|a| a.role == role)
    }

    /// Enrols the other Puskesmas ([`OTHER_FACILITY_CODE`]) with the demo's registry and
    /// returns its token: lets a test or a second demo push what the patients of this one
    /// did there.
    pub fn enroll_other_puskesmas(&self) -> Result<String, DemoError> {
        let certificate = self.other_node_certificate.as_deref().ok_or_else(|| {
            DemoError::Manifest("this demo folder predates the other Puskesmas; use --fresh".into())
        })?;
        enroll_node(&self.registry_path, OTHER_FACILITY_CODE, certificate)
    }
}

/// Empties the demo's folder for a fresh start, but keeps `logs/`: the running app is
/// already writing today's log there, and Windows will not remove a folder holding an
/// open file ("Directory is not empty", os error 145).
fn clear_all_but_logs(dir: &Path) -> Result<(), DemoError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(DemoError::folder(dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(DemoError::folder(dir))?;
        if entry.file_name() == "logs" {
            continue;
        }
        let path = entry.path();
        let removed = if entry
            .file_type()
            .map_err(DemoError::folder(&path))?
            .is_dir()
        {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        removed.map_err(DemoError::folder(&path))?;
    }
    Ok(())
}

fn create(dir: &Path, size: SeedSize, clock: Arc<dyn Clock>) -> Result<(), DemoError> {
    let cards_dir = dir.join("cards");
    fs::create_dir_all(&cards_dir).map_err(DemoError::folder(&cards_dir))?;
    let mut store = Store::create_with_clock(
        &dir.join("clinic.sqlite"),
        &FacilityProfile {
            code: FACILITY_CODE.into(),
            name: "Puskesmas Pamulang".into(),
            region_code: Some("36.74.06".into()),
            zone: TimeZone::Wib,
        },
        Arc::clone(&clock),
    )?;
    let today = store.today();
    let root_key = SigningKey::random(&mut OsRng);
    let root = PublicKey::of(&root_key);
    let certify = |id: &str, roles: u8| -> Result<(String, NodeCredentials), DemoError> {
        let key = SigningKey::random(&mut OsRng);
        let valid_until = today + Duration::days(5 * 365);
        let certificate = NodeCertificate::issue(
            &root_key,
            id,
            PublicKey::of(&key),
            valid_until,
            Roles(roles),
        )
        .map_err(|e| DemoError::Card(e.to_string()))?;
        let key_pem = pem(&key)?;
        NodeCredentials::new(key, certificate)
            .map(|node| (key_pem, node))
            .map_err(|e| DemoError::Card(e.to_string()))
    };
    let (node_key_pem, node) = certify(FACILITY_CODE, Roles::TERMINAL | Roles::ISSUER)?;
    let (_, other) = certify(OTHER_FACILITY_CODE, Roles::TERMINAL | Roles::ISSUER)?;
    let token = enroll(&dir.join("registry.sqlite"), &node)?;

    let accounts = vec![
        account("admin", Role::Admin),
        account("loket", Role::Registration),
        account("perawat", Role::Nurse),
    ];
    let admin = add_accounts(&mut store, &accounts)?;
    store.generate(&GenerateOptions {
        patients: size.patients,
        visits: size.visits,
        days: size.days,
        seed: 1,
        until: None,
    })?;

    let mut tray = Vec::new();
    let issue_local = |store: &mut Store,
                       person: &Person,
                       serial: u32,
                       issued: Date,
                       expires: Date|
     -> Result<(Patient, TrayCard), DemoError> {
        let patient = store.create_patient(&admin, &person.new_patient())?.patient;
        let card_number = card_number(serial);
        let identity = person.identity(
            &card_number,
            &patient.patient_number,
            FACILITY_CODE,
            issued,
            expires,
        )?;
        let file = format!("{serial:02}.json");
        let key = cards::issue(&cards_dir.join(&file), &identity, &node, &root)?;
        store.issue_card(&admin, &patient.patient_number, &card_number)?;
        store.set_card_key(&admin, &card_number, &key)?;
        let card = TrayCard {
            kind: TrayCardKind::Genuine,
            holder: Some(person.name.into()),
            path: file.into(),
        };
        Ok((patient, card))
    };
    let in_five_years = today + Duration::days(5 * 365);
    let issued = today - Duration::days(200);
    let (_, siti) = issue_local(&mut store, &SITI, 1, issued, in_five_years)?;
    let (_, budi) = issue_local(&mut store, &BUDI, 2, issued, in_five_years)?;
    let (_, agus) = issue_local(&mut store, &AGUS, 3, issued, in_five_years)?;
    store.block_card(&admin, &card_number(3), "dilaporkan hilang")?;
    let long_ago = today - Duration::days(6 * 365);
    let (_, rina) = issue_local(&mut store, &RINA, 4, long_ago, today - Duration::days(30))?;
    tray.push(siti.clone());
    tray.push(budi);

    let dewi_number = patient_number(OTHER_FACILITY_CODE, 1)?;
    let dewi = DEWI.identity(
        &card_number(5),
        &dewi_number,
        OTHER_FACILITY_CODE,
        issued,
        in_five_years,
    )?;
    let dewi_key = cards::issue(&cards_dir.join("05.json"), &dewi, &other, &root)?;
    told_the_registry_of_dewi(
        dir,
        &dir.join("registry.sqlite"),
        &dewi,
        &dewi_key,
        Arc::clone(&clock),
    )?;
    tray.push(TrayCard {
        kind: TrayCardKind::OtherPuskesmas,
        holder: Some(DEWI.name.into()),
        path: "05.json".into(),
    });
    tray.push(TrayCard {
        kind: TrayCardKind::Blocked,
        ..agus
    });
    cards::copy(&cards_dir.join(&siti.path), &cards_dir.join("06.json"))?;
    tray.push(TrayCard {
        kind: TrayCardKind::Copy,
        holder: siti.holder.clone(),
        path: "06.json".into(),
    });
    tray.push(TrayCard {
        kind: TrayCardKind::Expired,
        ..rina
    });
    for file in ["07.json", "08.json"] {
        cards::blank(&cards_dir.join(file))?;
        tray.push(TrayCard {
            kind: TrayCardKind::Blank,
            holder: None,
            path: file.into(),
        });
    }
    open_todays_queue(&mut store, &accounts)?;

    let manifest = Manifest {
        root_key_pem: pem(&root_key)?,
        node_key_pem,
        node_certificate: hex::encode(node.certificate().to_tlv()),
        other_node_certificate: Some(hex::encode(other.certificate().to_tlv())),
        token,
        accounts,
        tray,
    };
    let text =
        serde_json::to_string_pretty(&manifest).map_err(|e| DemoError::Manifest(e.to_string()))?;
    let path = dir.join(MANIFEST);
    fs::write(&path, text).map_err(DemoError::folder(&path))
}

fn pem(key: &SigningKey) -> Result<String, DemoError> {
    key.to_pkcs8_pem(LineEnding::LF)
        .map(|pem| pem.to_string())
        .map_err(|e| DemoError::Card(e.to_string()))
}

fn account(username: &str, role: Role) -> DemoAccount {
    DemoAccount {
        username: username.into(),
        password: format!("{username}-demo"),
        role,
    }
}

/// Creates the accounts, the admin first, and returns the admin's session.
fn add_accounts(store: &mut Store, accounts: &[DemoAccount]) -> Result<Session, DemoError> {
    let display_name = |a: &DemoAccount| match a.role {
        Role::Admin => "Admin Puskesmas",
        Role::Registration => "Petugas Loket",
        Role::Nurse => "Perawat Poli",
    };
    let new = |a: &DemoAccount| NewStaff {
        username: a.username.clone(),
        display_name: display_name(a).into(),
        role: a.role,
        password: a.password.clone(),
    };
    let mut admin = None;
    for a in accounts.iter().filter(|a| a.role == Role::Admin) {
        store.add_first_admin(&new(a))?;
        admin = Some(store.login(&a.username, &a.password)?);
    }
    let admin = admin.ok_or_else(|| DemoError::Manifest("the demo has no admin".into()))?;
    for a in accounts.iter().filter(|a| a.role != Role::Admin) {
        store.add_staff(&admin, &new(a))?;
    }
    Ok(admin)
}

/// What Puskesmas Pondok Aren told the registry when it registered Dewi and issued her
/// card (her record, the card and its key), made the way it would: through a store of
/// its own and the registry's own checks. A desk here that taps her card can then prove
/// she is present, see her record, and have her visit accepted. Agus, who moved, was
/// registered there too (his NIK): the admin's "Pasien ganda" shows the pair to link.
fn told_the_registry_of_dewi(
    dir: &Path,
    registry: &Path,
    identity: &Identity,
    card_key: &[u8; 65],
    clock: Arc<dyn Clock>,
) -> Result<(), DemoError> {
    let path = dir.join("pondok-aren.sqlite");
    let mut store = Store::create_with_clock(
        &path,
        &FacilityProfile {
            code: OTHER_FACILITY_CODE.into(),
            name: "Puskesmas Pondok Aren".into(),
            region_code: Some("36.74.02".into()),
            zone: TimeZone::Wib,
        },
        clock,
    )?;
    let admin = account("admin-pondok-aren", Role::Admin);
    let session = add_accounts(&mut store, std::slice::from_ref(&admin))?;
    let patient = store.create_patient(&session, &DEWI.new_patient())?.patient;
    if patient.patient_number != identity.patient_number.as_str() {
        return Err(DemoError::Manifest(format!(
            "Dewi was numbered {} at Pondok Aren, her card says {}",
            patient.patient_number, identity.patient_number
        )));
    }
    let card_number = identity.card_number.to_string();
    store.issue_card(&session, &patient.patient_number, &card_number)?;
    store.set_card_key(&session, &card_number, card_key)?;
    store.create_patient(&session, &AGUS.new_patient())?;
    let node = kartika_registry::node(OTHER_FACILITY_CODE, "terminal,issuer")
        .map_err(|e| DemoError::Registry(e.to_string()))?;
    let records: Vec<_> = store
        .outbox_pending(usize::MAX)?
        .into_iter()
        .map(|row| kartika_registry::validate::validate(&node, &row.into()))
        .collect();
    let mut backend = kartika_registry::sqlite::SqliteBackend::open(registry)
        .map_err(|e| DemoError::Registry(e.to_string()))?;
    let outcomes = backend
        .push(&node, &records)
        .map_err(|e| DemoError::Registry(e.to_string()))?;
    if let Some(refused) = outcomes
        .iter()
        .find(|o| matches!(o, kartika_protocol::PushOutcome::Rejected { .. }))
    {
        return Err(DemoError::Registry(format!("Dewi's records: {refused:?}")));
    }
    drop(store);
    fs::remove_file(&path).map_err(DemoError::folder(&path))?;
    for suffix in ["-wal", "-shm"] {
        let _ = fs::remove_file(dir.join(format!("pondok-aren.sqlite{suffix}")));
    }
    Ok(())
}

/// Enrols the node with the registry and returns its token.
fn enroll(path: &Path, node: &NodeCredentials) -> Result<String, DemoError> {
    enroll_node(path, FACILITY_CODE, &node.certificate().to_tlv())
}

fn enroll_node(path: &Path, facility: &str, certificate: &[u8]) -> Result<String, DemoError> {
    let mut backend = kartika_registry::sqlite::SqliteBackend::open(path)
        .map_err(|e| DemoError::Registry(e.to_string()))?;
    let registered = kartika_registry::node(facility, "terminal,issuer")
        .map_err(|e| DemoError::Registry(e.to_string()))?;
    let (token, hash) = kartika_registry::new_token();
    backend
        .enroll(&registered, &hash, certificate)
        .map_err(|e| DemoError::Registry(e.to_string()))?;
    Ok(token)
}

/// A morning's queue: a few generated patients already waiting at the units.
fn open_todays_queue(store: &mut Store, accounts: &[DemoAccount]) -> Result<(), DemoError> {
    let Some(desk) = accounts.iter().find(|a| a.role == Role::Registration) else {
        return Ok(());
    };
    let session = store.login(&desk.username, &desk.password)?;
    let units = [
        "general",
        "general",
        "dental",
        "general",
        "maternal_child",
        "general",
    ];
    let mut queued = 0;
    for name in ["sri", "ahmad", "dewi", "budi", "nur", "agus", "siti", "eko"] {
        let query = PatientQuery::Name {
            name: name.into(),
            birth_date: None,
        };
        let Some(hit) = store.search_patients(&session, &query)?.into_iter().next() else {
            continue;
        };
        // The generated history never went through the outbox; a patient in today's queue
        // is saved again so the registry learns of them before their visit arrives.
        let patient = store.patient(&session, &hit.patient_number)?;
        store.update_patient(&session, &hit.patient_number, &NewPatient::from(&patient))?;
        let visit = NewVisit {
            patient_number: hit.patient_number,
            unit_code: units[queued % units.len()].into(),
            payer: if queued % 3 == 0 {
                Payer::General
            } else {
                Payer::BpjsPbi
            },
            care: Care::Sick,
            complaint: None,
        };
        // A patient found twice by two names is queued once; the second is refused.
        if store.register_visit(&session, &visit).is_ok() {
            queued += 1;
        }
    }
    Ok(())
}

/// A card number of the demo series: 15 digits and their Luhn check digit.
fn card_number(serial: u32) -> String {
    let payload = format!("603799{serial:09}");
    let check = luhn_check_digit(&payload).unwrap_or('0');
    format!("{payload}{check}")
}

fn patient_number(facility: &str, serial: u32) -> Result<String, DemoError> {
    let payload = format!("{facility}{serial:07}");
    let check = mod30_check_char(&payload)
        .ok_or_else(|| DemoError::Card(format!("{payload} is not a patient number")))?;
    Ok(format!("{payload}{check}"))
}

/// A demo person, whose NIK agrees with their birth date and sex.
struct Person {
    name: &'static str,
    nik: &'static str,
    bpjs: Option<&'static str>,
    birth_date: &'static str,
    sex: Sex,
    blood_group: Option<&'static str>,
    address: &'static str,
    village: &'static str,
}

const SITI: Person = Person {
    name: "Siti Rahayu",
    nik: "3674065001909001",
    bpjs: Some("0001234567890"),
    birth_date: "1990-01-10",
    sex: Sex::Female,
    blood_group: Some("O+"),
    address: "Jl. Siliwangi No. 12, Pamulang Barat",
    village: "36.74.06.1001",
};
const BUDI: Person = Person {
    name: "Budi Santoso",
    nik: "3674061708659002",
    bpjs: Some("0002345678901"),
    birth_date: "1965-08-17",
    sex: Sex::Male,
    blood_group: Some("A+"),
    address: "Jl. Benda Raya No. 4, Benda Baru",
    village: "36.74.06.1002",
};
const AGUS: Person = Person {
    name: "Agus Salim",
    nik: "3674060203889003",
    bpjs: None,
    birth_date: "1988-03-02",
    sex: Sex::Male,
    blood_group: None,
    address: "Gg. Mawar No. 7, Pondok Benda",
    village: "36.74.06.1003",
};
const RINA: Person = Person {
    name: "Rina Wulandari",
    nik: "3674066512019004",
    bpjs: Some("0003456789012"),
    birth_date: "2001-12-25",
    sex: Sex::Female,
    blood_group: Some("B+"),
    address: "Jl. Kedaung No. 21, Kedaung",
    village: "36.74.06.1006",
};
const DEWI: Person = Person {
    name: "Dewi Lestari",
    nik: "3674024404959005",
    bpjs: Some("0004567890123"),
    birth_date: "1995-04-04",
    sex: Sex::Female,
    blood_group: Some("AB+"),
    address: "Jl. Pakualam No. 3, Serpong Utara",
    village: "36.74.02.1002",
};

impl Person {
    fn new_patient(&self) -> NewPatient {
        NewPatient {
            nik: Some(self.nik.into()),
            bpjs_number: self.bpjs.map(Into::into),
            family_card_number: None,
            name: self.name.into(),
            birth_date: self.birth_date.into(),
            sex: Some(self.sex),
            blood_group: self.blood_group.map(Into::into),
            address: Some(self.address.into()),
            region_code: Some(self.village.into()),
            phone: None,
        }
    }

    fn identity(
        &self,
        card_number: &str,
        patient_number: &str,
        facility: &str,
        issued: Date,
        expires: Date,
    ) -> Result<Identity, DemoError> {
        let bad = |e: kartika_card::DataError| DemoError::Card(e.to_string());
        Identity::new(IdentityFields {
            card_number: CardNumber::new(card_number).map_err(bad)?,
            patient_number: PatientNumber::new(patient_number).map_err(bad)?,
            nik: Some(Nik::new(self.nik).map_err(bad)?),
            bpjs_number: self.bpjs.map(BpjsNumber::new).transpose().map_err(bad)?,
            name: self.name.into(),
            birth_date: parse_iso_date(self.birth_date, "birth date").map_err(bad)?,
            sex: self.sex,
            blood_group: self
                .blood_group
                .map(BloodGroup::new)
                .transpose()
                .map_err(bad)?,
            address: Some(self.address.into()),
            region_code: Some(RegionCode::new(self.village).map_err(bad)?),
            facility_code: FacilityCode::new(facility).map_err(bad)?,
            issue_date: issued,
            expiry_date: expires,
        })
        .map_err(bad)
    }
}
