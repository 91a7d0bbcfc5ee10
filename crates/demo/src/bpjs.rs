//! The demo's BPJS: the fake one, in this process, set up beside the demo store so the
//! desk's check answers. Siti is an active member here, Budi an active member registered
//! at another FKTP, Rina's membership is inactive (arrears); Dewi is no member BPJS knows.

use kartika_bpjs::fake::{Consumer, FakeBpjs};
use kartika_bpjs::{BpjsLink, BpjsSecrets, Kind, Peserta, Provider, Secret};

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
