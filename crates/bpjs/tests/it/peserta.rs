use std::time::Duration;

use kartika_bpjs::fake::{Consumer, FakeBpjs};
use kartika_bpjs::{
    BpjsError, BpjsLink, BpjsSecrets, Client, Kind, Member, Peserta, Provider, Secret,
};

const SECRET: &str = "rahasia-konsumen-bpjs";
const PASSWORD: &str = "sandi-pcare-7";
const USER_KEY: &str = "kunci-pengguna-pcare";

fn consumer() -> Consumer {
    Consumer {
        cons_id: "12345".into(),
        secret: SECRET.into(),
        pcare_user_key: USER_KEY.into(),
        pcare_user: "pkm-pamulang".into(),
        pcare_password: PASSWORD.into(),
        antrean_user_key: "kunci-pengguna-antrean".into(),
    }
}

fn member(no_kartu: &str, nik: &str, aktif: bool, provider: &str) -> Peserta {
    Peserta {
        no_kartu: no_kartu.into(),
        nama: "SITI RAHAYU".into(),
        aktif,
        ket_aktif: if aktif {
            "AKTIF"
        } else {
            "TIDAK AKTIF KARENA PREMI"
        }
        .into(),
        kd_provider_pst: Some(Provider {
            kd_provider: provider.into(),
            nm_provider: format!("PUSKESMAS {provider}"),
        }),
        jns_peserta: Some(Kind {
            kode: "1".into(),
            nama: "PBI (APBN)".into(),
        }),
        tunggakan: Some(if aktif { 0.0 } else { 350000.0 }),
        no_ktp: Some(nik.into()),
    }
}

fn fake() -> FakeBpjs {
    FakeBpjs::start(
        consumer(),
        vec![
            member("0001234567890", "3674065001900001", true, "0114A026"),
            member("0009876543210", "3674061506850002", false, "0114A026"),
            member("0001111111111", "3674060101700003", true, "0114B099"),
        ],
    )
}

fn link(fake: &FakeBpjs) -> BpjsLink {
    BpjsLink {
        pcare_url: fake.pcare_url.clone(),
        antrean_url: fake.antrean_url.clone(),
        cons_id: "12345".into(),
        pcare_user: "pkm-pamulang".into(),
        provider_code: "0114A026".into(),
    }
}

fn secrets(secret: &str) -> BpjsSecrets {
    BpjsSecrets {
        secret: Secret::new(secret),
        pcare_user_key: Secret::new(USER_KEY),
        antrean_user_key: Secret::new("kunci-antrean"),
        pcare_password: Secret::new(PASSWORD),
    }
}

fn client(fake: &FakeBpjs, secret: &str, timeout: Duration) -> Client {
    Client::new(
        link(fake),
        secrets(secret),
        Some(fake.ca_pem.as_bytes()),
        timeout,
    )
    .unwrap()
}

#[test]
fn a_member_is_found_by_card_or_nik_active_inactive_or_at_another_fktp() {
    let fake = fake();
    let client = client(&fake, SECRET, Duration::from_secs(10));
    let active = client
        .peserta(&Member::Card("0001234567890".into()))
        .unwrap()
        .expect("known");
    assert!(active.aktif);
    assert_eq!(active.ket_aktif, "AKTIF");
    let by_nik = client
        .peserta(&Member::Nik("3674065001900001".into()))
        .unwrap()
        .expect("known by NIK");
    assert_eq!(by_nik, active);
    let inactive = client
        .peserta(&Member::Card("0009876543210".into()))
        .unwrap()
        .expect("known");
    assert!(!inactive.aktif);
    assert_eq!(inactive.ket_aktif, "TIDAK AKTIF KARENA PREMI");
    assert_eq!(inactive.tunggakan, Some(350000.0));
    let elsewhere = client
        .peserta(&Member::Card("0001111111111".into()))
        .unwrap()
        .expect("known");
    assert_eq!(
        elsewhere.kd_provider_pst.unwrap().nm_provider,
        "PUSKESMAS 0114B099"
    );
    assert_eq!(
        client
            .peserta(&Member::Card("0002222222222".into()))
            .unwrap(),
        None,
        "not a member"
    );
    assert_eq!(
        fake.refused_logins(),
        0,
        "every request was signed as BPJS checks"
    );
}

#[test]
fn a_wrong_secret_is_refused_and_said_without_the_secret() {
    let fake = fake();
    let client = client(&fake, "bukan-rahasianya", Duration::from_secs(10));
    let refused = client
        .peserta(&Member::Card("0001234567890".into()))
        .unwrap_err();
    assert!(matches!(refused, BpjsError::LoginRefused(_)), "{refused}");
    let words = format!("{refused} {refused:?}");
    for secret in [SECRET, "bukan-rahasianya", PASSWORD, USER_KEY] {
        assert!(!words.contains(secret), "{words}");
    }
    assert_eq!(fake.refused_logins(), 1);
    assert!(!format!("{:?}", secrets(SECRET)).contains(SECRET));
}

#[test]
fn bpjs_busy_or_too_slow_is_said_as_such() {
    let fake = fake();
    let client = client(&fake, SECRET, Duration::from_millis(500));
    fake.fail_next(1);
    let busy = client
        .peserta(&Member::Card("0001234567890".into()))
        .unwrap_err();
    assert!(
        matches!(busy, BpjsError::Busy { status: 503, .. }),
        "{busy}"
    );
    fake.answer_after(Duration::from_secs(3));
    let slow = client
        .peserta(&Member::Card("0001234567890".into()))
        .unwrap_err();
    assert!(matches!(slow, BpjsError::Unreachable(_)), "{slow}");
}

#[test]
fn only_digits_reach_the_path() {
    let fake = fake();
    let client = client(&fake, SECRET, Duration::from_secs(10));
    for typed in ["../../x", "000123456789", "0001234567890/../"] {
        let refused = client.peserta(&Member::Card(typed.into())).unwrap_err();
        assert!(
            matches!(refused, BpjsError::Invalid(_)),
            "{typed}: {refused}"
        );
    }
    assert_eq!(fake.requests(), 0);
}

#[test]
fn the_set_up_is_kept_beside_the_store_and_its_secrets_for_the_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("clinic.sqlite");
    assert!(kartika_bpjs::settings::load(&store).unwrap().is_none());
    let fake = fake();
    kartika_bpjs::settings::save(&store, &link(&fake), &secrets(SECRET), Some(b"PEM")).unwrap();
    let kept = kartika_bpjs::settings::load(&store).unwrap().expect("kept");
    assert_eq!(kept.link, link(&fake));
    assert_eq!(kept.ca_pem.as_deref(), Some(&b"PEM"[..]));
    let client = Client::new(
        kept.link,
        kept.secrets,
        Some(fake.ca_pem.as_bytes()),
        Duration::from_secs(10),
    )
    .unwrap();
    assert!(client
        .peserta(&Member::Card("0001234567890".into()))
        .unwrap()
        .is_some());
    let link_text = std::fs::read_to_string(dir.path().join("bpjs.json")).unwrap();
    assert!(!link_text.contains(SECRET) && !link_text.contains(PASSWORD));
    for file in ["bpjs.json", "bpjs-secrets"] {
        #[cfg(unix)]
        assert!(
            kartika_durable::is_owner_only(&dir.path().join(file)).unwrap(),
            "{file}"
        );
    }
}
