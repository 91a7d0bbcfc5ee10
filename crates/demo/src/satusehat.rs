//! The demo's SATUSEHAT: the fake one, in this process, that knows every NIK, linked to
//! the demo store so finished visits are seen going there.

use kartika_satusehat::fake::FakeSatusehat;
use kartika_satusehat::{save_link_files, Secret};
use kartika_store::{Role, SatusehatLink, Store};

use crate::{DemoError, DemoWorld};

const CLIENT_ID: &str = "kartika-demo";
/// Only the fake in this process knows it.
const SECRET: &str = "rahasia-demo-satusehat";
/// The sandbox's Organization id of the demo Puskesmas.
const ORGANIZATION: &str = "10000004";

/// Starts the demo's SATUSEHAT and sets the demo store up to send to it, `pace` requests
/// a second at most (0: unpaced); its port is new each start. It answers until dropped.
pub fn start_satusehat(world: &DemoWorld, pace: u32) -> Result<FakeSatusehat, DemoError> {
    let fake =
        FakeSatusehat::try_start(CLIENT_ID, SECRET, ORGANIZATION).map_err(DemoError::Satusehat)?;
    fake.know_every_nik();
    let mut store = Store::open(&world.store_path)?;
    let admin = world
        .accounts
        .iter()
        .find(|a| a.role == Role::Admin)
        .ok_or_else(|| DemoError::Satusehat("the demo has no admin account".into()))?;
    let session = store.login(&admin.username, &admin.password)?;
    store.set_satusehat_link(
        &session,
        &SatusehatLink {
            auth_url: fake.auth_url.clone(),
            fhir_url: fake.fhir_url.clone(),
            client_id: CLIENT_ID.into(),
            organization_id: ORGANIZATION.into(),
            pace,
        },
    )?;
    save_link_files(
        &world.store_path,
        &Secret::new(SECRET),
        Some(fake.ca_pem.as_bytes()),
    )
    .map_err(|e| DemoError::Satusehat(e.to_string()))?;
    Ok(fake)
}
