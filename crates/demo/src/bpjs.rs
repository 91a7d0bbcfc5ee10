//! The demo's BPJS: the fake one, in this process, set up beside the demo store so the
//! desk's check answers. Siti is an active member here, Budi an active member registered
//! at another FKTP, Rina's membership is inactive (arrears); Dewi is no member BPJS knows.

use kartika_bpjs::fake::{Consumer, FakeBpjs};
use kartika_bpjs::{BpjsLink, BpjsSecrets, Kind, Peserta, Provider, Secret};

use kartika_store::BpjsCode;

use crate::{DemoError, DemoWorld};

/// Only the fake in this process knows these.
const CONS_ID: &str = "1000";
const SECRET: &str = "rahasia-demo-bpjs";
const USER_KEY: &str = "kunci-demo-pcare";
const PCARE_USER: &str = "pkm-pamulang";
const PCARE_PASSWORD: &str = "sandi-demo-pcare";
/// The demo Puskesmas's provider code.
const PROVIDER: &str = "0114A026";

fn member(
    no_kartu: &str,
    nama: &str,
    nik: &str,
    arrears: Option<f64>,
    provider: (&str, &str),
) -> Peserta {
    let aktif = arrears.is_none();
    Peserta {
        no_kartu: no_kartu.into(),
        nama: nama.into(),
        aktif,
        ket_aktif: if aktif {
            "AKTIF"
        } else {
            "TIDAK AKTIF KARENA PREMI"
        }
        .into(),
        kd_provider_pst: Some(Provider {
            kd_provider: provider.0.into(),
            nm_provider: provider.1.into(),
        }),
        jns_peserta: Some(Kind {
            kode: "1".into(),
            nama: "PBI (APBN)".into(),
        }),
        tunggakan: arrears,
        no_ktp: Some(nik.into()),
    }
}

/// Starts the demo's BPJS and sets the demo store up to ask it; its port is new each
/// start. It answers until dropped.
pub fn start_bpjs(world: &DemoWorld) -> Result<FakeBpjs, DemoError> {
    let here = (PROVIDER, "PUSKESMAS PAMULANG");
    let members = vec![
        member(
            "0001234567890",
            "SITI RAHAYU",
            "3674065001909001",
            None,
            here,
        ),
        member(
            "0002345678901",
            "BUDI SANTOSO",
            "3674061708659002",
            None,
            ("0114B012", "KLINIK PRATAMA BENDA"),
        ),
        member(
            "0003456789012",
            "RINA WULANDARI",
            "3674066512019004",
            Some(350_000.0),
            here,
        ),
    ];
    let fake = FakeBpjs::try_start(
        Consumer {
            cons_id: CONS_ID.into(),
            secret: SECRET.into(),
            pcare_user_key: USER_KEY.into(),
            pcare_user: PCARE_USER.into(),
            pcare_password: PCARE_PASSWORD.into(),
            antrean_user_key: "kunci-demo-antrean".into(),
        },
        members,
    )
    .map_err(DemoError::Bpjs)?;
    // Before the set-up is saved: a sender may start as soon as it is.
    map_codes(world)?;
    fake.take_every_card();
    kartika_bpjs::settings::save(
        &world.store_path,
        &BpjsLink {
            pcare_url: fake.pcare_url.clone(),
            antrean_url: fake.antrean_url.clone(),
            cons_id: CONS_ID.into(),
            pcare_user: PCARE_USER.into(),
            provider_code: PROVIDER.into(),
        },
        &BpjsSecrets {
            secret: Secret::new(SECRET),
            pcare_user_key: Secret::new(USER_KEY),
            antrean_user_key: Secret::new("kunci-demo-antrean"),
            pcare_password: Secret::new(PCARE_PASSWORD),
        },
        Some(fake.ca_pem.as_bytes()),
    )
    .map_err(|e| DemoError::Bpjs(e.to_string()))?;
    Ok(fake)
}

/// The demo's units and nurse as P-Care knows them; its made-up past counts as bridged
/// already, so only today's BPJS visits go.
fn map_codes(world: &DemoWorld) -> Result<(), DemoError> {
    let mut store = kartika_store::Store::open(&world.store_path)?;
    let admin = world
        .accounts
        .iter()
        .find(|a| a.role == kartika_store::Role::Admin)
        .ok_or_else(|| DemoError::Bpjs("the demo has no admin account".into()))?;
    let session = store.login(&admin.username, &admin.password)?;
    let units = [
        ("general", "001"),
        ("dental", "002"),
        ("maternal_child", "003"),
        ("family_planning", "008"),
    ];
    for (unit, kd_poli) in units {
        let code = BpjsCode::Unit {
            unit: unit.into(),
            kd_poli: kd_poli.into(),
        };
        store.set_bpjs_code(&session, &code)?;
    }
    for account in world
        .accounts
        .iter()
        .filter(|a| a.role == kartika_store::Role::Nurse)
    {
        let code = BpjsCode::Staff {
            username: account.username.clone(),
            kd_dokter: "131491".into(),
        };
        store.set_bpjs_code(&session, &code)?;
    }
    store.settle_bpjs_before(&session, &store.today().to_string())?;
    Ok(())
}
