//! The sender: drains the store's BPJS queue in the order visits arrived, each visit's
//! calls in their order (pendaftaran, antrean, panggil, kunjungan; batal and the
//! pendaftaran's withdrawal for a cancelled one). What passes (the network, BPJS busy or
//! failing, a refused login) pauses the round and is tried again; what BPJS refused is kept
//! with its words and field messages for a person. A call whose answer was lost is looked
//! for at BPJS before it is sent again, so nothing is registered twice.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use kartika_store::{BpjsDue, BpjsStep, DeliveryState, StepOutcome, Store, VisitStatus};

use crate::client::AntreanAction;
use crate::settings::{self, Kept};
use crate::{BpjsError, Client};

/// Steps read from the store at once.
const BATCH: usize = 20;
/// How long a sender's turn lasts without being renewed: a sender that died gives way.
const TURN_MS: i64 = 2 * 60 * 1000;
/// A step that waits for an admin (a unit's kdPoli, a doctor's kdDokter) is looked at
/// again this often; "Kirim ulang" makes it due at once.
const MAPPING_WAIT_MS: i64 = 10 * 60 * 1000;
/// After BPJS refused the Puskesmas's credentials: not every few seconds.
const LOGIN_WAIT: Duration = Duration::from_secs(60);
/// Each request's time: the sender is never on a person's path.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The Puskesmas's hours as Antrean shows them (jampraktek).
const JAM_PRAKTEK: &str = "08:00-14:00";

pub use kartika_sync::outside::{Drained, Served, IDLE_LOOK};

/// Why a sender cannot run.
#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    /// BPJS is not set up beside this store.
    #[error("BPJS is not set up here; an admin sets it up with `kartika bpjs setup`")]
    NotSetUp,
    /// Another PC holds the sender's turn.
    #[error("{0} sends this store's BPJS calls now; one sender per store")]
    AnotherSender(String),
    /// The set-up could not be read or used.
    #[error(transparent)]
    Bpjs(#[from] BpjsError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] kartika_store::StoreError),
}

/// One store's BPJS sender.
pub struct Sender {
    client: Client,
    provider_code: String,
    holder: String,
    made_from: Kept,
}

impl Sender {
    /// The sender of the store at `store_path`, as set up beside it, named `holder` while
    /// it holds the sender's turn.
    pub fn open(store_path: &Path, holder: &str) -> Result<Self, SenderError> {
        let kept = settings::load(store_path)?.ok_or(SenderError::NotSetUp)?;
        Self::from_kept(kept, holder)
    }

    fn from_kept(kept: Kept, holder: &str) -> Result<Self, SenderError> {
        let client = Client::new(
            kept.link.clone(),
            kept.secrets.clone(),
            kept.ca_pem.as_deref(),
            REQUEST_TIMEOUT,
        )?;
        Ok(Self {
            client,
            provider_code: kept.link.provider_code.clone(),
            holder: holder.to_owned(),
            made_from: kept,
        })
    }

    /// Reads the set-up again: an admin may have mended it since.
    pub fn reload(&mut self, store_path: &Path) -> Result<(), SenderError> {
        let kept = settings::load(store_path)?.ok_or(SenderError::NotSetUp)?;
        if !kept.same_as(&self.made_from) {
            *self = Self::from_kept(kept, &self.holder.clone())?;
        }
        Ok(())
    }

    /// Sends what is due now until nothing is, or until the link fails (then
    /// [`Drained::paused`] says for how long). `progress` hears after each call.
    pub fn drain(
        &mut self,
        store: &mut Store,
        mut progress: impl FnMut(&Drained),
    ) -> Result<Drained, SenderError> {
        let mut drained = Drained::default();
        // Idempotent: harmless while another PC holds the turn.
        store.prune_bpjs_todo()?;
        loop {
            self.keep_turn(store)?;
            let due = store.bpjs_due(BATCH)?;
            if due.is_empty() {
                return Ok(drained);
            }
            for step in &due {
                let outcome = self.deliver(step);
                store.record_bpjs_step(
                    &step.visit.visit_id,
                    step.step,
                    step.visit.version,
                    &outcome,
                )?;
                match &outcome {
                    StepOutcome::Sent { .. } => drained.sent += 1,
                    StepOutcome::Refused { .. } => drained.refused += 1,
                    StepOutcome::Again {
                        state: DeliveryState::Retrying,
                        reason,
                        after_ms,
                    } => {
                        let pause = Duration::from_millis(u64::try_from(*after_ms).unwrap_or(0));
                        drained.paused = Some((pause, reason.clone()));
                    }
                    StepOutcome::Again { .. } => drained.waiting += 1,
                }
                progress(&drained);
                if drained.paused.is_some() {
                    return Ok(drained);
                }
            }
        }
    }

    /// Gives the sender's turn back, so another PC may send at once.
    pub fn finish(&mut self, store: &mut Store) -> Result<(), SenderError> {
        Ok(store.end_bpjs_turn(&self.holder)?)
    }

    fn keep_turn(&mut self, store: &mut Store) -> Result<(), SenderError> {
        if store.take_bpjs_turn(&self.holder, TURN_MS)? {
            Ok(())
        } else {
            Err(SenderError::AnotherSender(
                store.bpjs_sender()?.unwrap_or_default(),
            ))
        }
    }

    /// One step's try.
    fn deliver(&self, due: &BpjsDue) -> StepOutcome {
        let Some(no_kartu) = due.patient.bpjs_number.clone() else {
            return refused("the patient has no BPJS number");
        };
        let Some(kd_poli) = due.kd_poli.clone() else {
            return waiting(&format!(
                "unit {} has no P-Care kdPoli: an admin maps it (`kartika bpjs map --unit {}`), then Kirim ulang",
                due.visit.unit_code, due.visit.unit_code
            ));
        };
        let call = Call {
            due,
            no_kartu,
            kd_poli,
            tgl: pcare_day(&due.visit.queue_date),
        };
        let result = match due.step {
            BpjsStep::Pendaftaran => self.pendaftaran(&call),
            BpjsStep::Antrean => self.antrean_add(&call),
            BpjsStep::Panggil => self
                .client
                .antrean(AntreanAction::Panggil, &call.panggil())
                .map(|()| StepOutcome::Sent { answer: None }),
            BpjsStep::Kunjungan => self.kunjungan(&call),
            BpjsStep::Batal => self.batal(&call),
            BpjsStep::Hapus => self.hapus(&call),
        };
        result.unwrap_or_else(|e| failed(e, due.attempts + 1))
    }

    fn pendaftaran(&self, call: &Call<'_>) -> Result<StepOutcome, BpjsError> {
        let due = call.due;
        // A try before may have arrived with its answer lost: look before sending again.
        if due.attempts > 0 || due.visit.status == VisitStatus::Cancelled {
            if let Some(found) = self.registered(call)? {
                return Ok(StepOutcome::Sent {
                    answer: Some(found),
                });
            }
        }
        if due.visit.status == VisitStatus::Cancelled {
            // Cancelled before BPJS held it: nothing to register or withdraw.
            return Ok(StepOutcome::Sent { answer: None });
        }
        let no_urut = self
            .client
            .pendaftaran(&call.pendaftaran(&self.provider_code))?;
        Ok(StepOutcome::Sent {
            answer: Some(no_urut),
        })
    }

    fn registered(&self, call: &Call<'_>) -> Result<Option<String>, BpjsError> {
        let found = self.client.pendaftaran_on(&call.tgl)?;
        Ok(found
            .into_iter()
            .find(|r| {
                r.peserta
                    .as_ref()
                    .is_some_and(|p| p.no_kartu == call.no_kartu)
                    && r.poli.as_ref().is_some_and(|p| p.kd_poli == call.kd_poli)
            })
            .map(|r| r.no_urut))
    }

    fn antrean_add(&self, call: &Call<'_>) -> Result<StepOutcome, BpjsError> {
        let due = call.due;
        let Some(dokter) = &due.dokter else {
            return Ok(no_doctor());
        };
        match self
            .client
            .antrean(AntreanAction::Add, &call.antrean_add(dokter))
        {
            Ok(()) => Ok(StepOutcome::Sent {
                answer: Some(due.visit.ticket.clone()),
            }),
            // The try before arrived, its answer lost: Antrean holds the ticket.
            Err(BpjsError::Refused { message, .. })
                if due.attempts > 0 && message.contains("sudah terdaftar") =>
            {
                Ok(StepOutcome::Sent {
                    answer: Some(due.visit.ticket.clone()),
                })
            }
            Err(e) => Err(e),
        }
    }

    fn kunjungan(&self, call: &Call<'_>) -> Result<StepOutcome, BpjsError> {
        let due = call.due;
        let Some(dokter) = &due.dokter else {
            return Ok(no_doctor());
        };
        let mut known = due.no_kunjungan.clone();
        if known.is_none() && due.attempts > 0 {
            known = self
                .client
                .kunjungan_of(&call.no_kartu)?
                .into_iter()
                .find(|k| {
                    k.tgl_kunjungan == call.tgl
                        && k.poli.as_ref().is_some_and(|p| p.kd_poli == call.kd_poli)
                })
                .map(|k| k.no_kunjungan);
        }
        let body = call.kunjungan(known.as_deref(), &dokter.0);
        match known {
            Some(number) => {
                self.client.kunjungan(&body, true)?;
                Ok(StepOutcome::Sent {
                    answer: Some(number),
                })
            }
            None => Ok(StepOutcome::Sent {
                answer: self.client.kunjungan(&body, false)?,
            }),
        }
    }

    fn batal(&self, call: &Call<'_>) -> Result<StepOutcome, BpjsError> {
        match self.client.antrean(AntreanAction::Batal, &call.batal()) {
            Ok(()) => Ok(StepOutcome::Sent { answer: None }),
            Err(BpjsError::Refused { message, .. })
                if call.due.attempts > 0 && message.contains("sudah dibatalkan") =>
            {
                Ok(StepOutcome::Sent { answer: None })
            }
            Err(e) => Err(e),
        }
    }

    fn hapus(&self, call: &Call<'_>) -> Result<StepOutcome, BpjsError> {
        let Some(no_urut) = &call.due.no_urut else {
            return Ok(StepOutcome::Sent { answer: None });
        };
        match self
            .client
            .hapus_pendaftaran(&call.no_kartu, &call.tgl, no_urut, &call.kd_poli)
        {
            Ok(()) => Ok(StepOutcome::Sent { answer: None }),
            // The try before arrived, its answer lost: nothing left to withdraw.
            Err(BpjsError::Refused { code: 412, .. }) if call.due.attempts > 0 => {
                match self.registered(call)? {
                    None => Ok(StepOutcome::Sent { answer: None }),
                    Some(_) => Err(BpjsError::Busy {
                        status: 412,
                        message: "the registration is still there".into(),
                    }),
                }
            }
            Err(e) => Err(e),
        }
    }
}

/// What one step's requests are made from.
struct Call<'a> {
    due: &'a BpjsDue,
    no_kartu: String,
    kd_poli: String,
    /// The visit's own day as P-Care writes it, dd-MM-yyyy.
    tgl: String,
}

impl Call<'_> {
    fn pendaftaran(&self, provider_code: &str) -> Value {
        let visit = &self.due.visit;
        let vitals = &visit.vitals;
        json!({
            "kdProviderPeserta": provider_code,
            "tglDaftar": self.tgl,
            "noKartu": self.no_kartu,
            "kdPoli": self.kd_poli,
            "keluhan": visit.complaint,
            "kunjSakit": visit.care == kartika_store::Care::Sick,
            "sistole": vitals.systolic.unwrap_or(0),
            "diastole": vitals.diastolic.unwrap_or(0),
            "beratBadan": vitals.weight.unwrap_or(0.0),
            "tinggiBadan": vitals.height.unwrap_or(0.0),
            "respRate": vitals.respiratory_rate.unwrap_or(0),
            "lingkarPerut": 0,
            "heartRate": vitals.pulse.unwrap_or(0),
            "rujukBalik": 0,
            "kdTkp": "10",
        })
    }

    fn antrean_add(&self, dokter: &(String, String)) -> Value {
        let visit = &self.due.visit;
        let patient = &self.due.patient;
        json!({
            "nomorkartu": self.no_kartu,
            "nik": patient.nik,
            "nohp": patient.phone,
            "kodepoli": self.kd_poli,
            "namapoli": self.due.unit_name,
            "norm": patient.patient_number,
            "tanggalperiksa": visit.queue_date,
            "kodedokter": number_or_text(&dokter.0),
            "namadokter": dokter.1,
            "jampraktek": JAM_PRAKTEK,
            "nomorantrean": visit.ticket,
            "angkaantrean": visit.ticket.rsplit('-').next().and_then(|n| n.parse::<i64>().ok()),
            "keterangan": "",
        })
    }

    fn panggil(&self) -> Value {
        let visit = &self.due.visit;
        let called = visit.started.as_ref().map_or(0, |s| {
            i64::try_from(s.at.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
        });
        json!({
            "tanggalperiksa": visit.queue_date,
            "kodepoli": self.kd_poli,
            "nomorkartu": self.no_kartu,
            "status": 1,
            "waktu": called,
        })
    }

    fn batal(&self) -> Value {
        json!({
            "tanggalperiksa": self.due.visit.queue_date,
            "kodepoli": self.kd_poli,
            "nomorkartu": self.no_kartu,
            "alasan": "Pasien batal berobat",
        })
    }

    fn kunjungan(&self, no_kunjungan: Option<&str>, kd_dokter: &str) -> Value {
        let visit = &self.due.visit;
        let vitals = &visit.vitals;
        let diagnosis = |i: usize| visit.diagnoses.get(i).map(|d| d.code.clone());
        let referred = visit.status == VisitStatus::Referred;
        json!({
            "noKunjungan": no_kunjungan,
            "noKartu": self.no_kartu,
            "tglDaftar": self.tgl,
            "kdPoli": self.kd_poli,
            "keluhan": visit.complaint.clone().unwrap_or_default(),
            "kdSadar": "01",
            "sistole": vitals.systolic.unwrap_or(0),
            "diastole": vitals.diastolic.unwrap_or(0),
            "beratBadan": vitals.weight.unwrap_or(0.0),
            "tinggiBadan": vitals.height.unwrap_or(0.0),
            "respRate": vitals.respiratory_rate.unwrap_or(0),
            "heartRate": vitals.pulse.unwrap_or(0),
            "lingkarPerut": 0,
            "suhu": vitals.temperature.map(|t| format!("{t:.1}")),
            "kdStatusPulang": if referred { "4" } else { "3" },
            "tglPulang": self.tgl,
            "kdDokter": kd_dokter,
            "kdDiag1": diagnosis(0),
            "kdDiag2": diagnosis(1),
            "kdDiag3": diagnosis(2),
            "kdPoliRujukInternal": null,
            "rujukLanjut": if referred {
                json!({
                    "tglEstRujuk": self.tgl,
                    "kdppk": null,
                    "subSpesialis": null,
                    "khusus": null,
                    "catatan": visit.referred_to,
                })
            } else {
                Value::Null
            },
            "kdTacc": -1,
            "alasanTacc": null,
            "anamnesa": visit.notes.clone().unwrap_or_default(),
            "terapiObat": "",
            "terapiNonObat": "",
        })
    }
}

/// `2026-12-06` as P-Care writes it: `06-12-2026`.
fn pcare_day(iso: &str) -> String {
    let mut parts = iso.splitn(3, '-');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(y), Some(m), Some(d)) => format!("{d}-{m}-{y}"),
        _ => iso.to_owned(),
    }
}

/// BPJS's codes for doctors are numbers; send one as a number when it is one.
fn number_or_text(code: &str) -> Value {
    code.parse::<i64>()
        .map_or_else(|_| json!(code), |n| json!(n))
}

fn waiting(reason: &str) -> StepOutcome {
    StepOutcome::Again {
        state: DeliveryState::Waiting,
        reason: reason.to_owned(),
        after_ms: MAPPING_WAIT_MS,
    }
}

fn no_doctor() -> StepOutcome {
    waiting("no doctor or nurse has a P-Care kdDokter: an admin maps one (`kartika bpjs map --staff USER --kd-dokter KD`), then Kirim ulang")
}

fn refused(reason: &str) -> StepOutcome {
    StepOutcome::Refused {
        reason: reason.to_owned(),
    }
}

/// A failed try sorted: refused (kept for a person) or tried again after a pause.
fn failed(error: BpjsError, attempt: i64) -> StepOutcome {
    let pause = match &error {
        BpjsError::Refused { .. } | BpjsError::Invalid(_) => {
            return refused(&error.to_string());
        }
        BpjsError::LoginRefused(_) => LOGIN_WAIT,
        _ => kartika_sync::outside::retry_delay(attempt),
    };
    StepOutcome::Again {
        state: DeliveryState::Retrying,
        reason: error.to_string(),
        after_ms: i64::try_from(pause.as_millis()).unwrap_or(i64::MAX),
    }
}

impl kartika_sync::outside::OutsideSender for Sender {
    type Error = SenderError;
    const SYSTEM: &'static str = "BPJS";

    fn open(_: &mut Store, store_path: &Path, holder: &str) -> Result<Self, SenderError> {
        Sender::open(store_path, holder)
    }

    fn reload(&mut self, _: &mut Store, store_path: &Path) -> Result<(), SenderError> {
        Sender::reload(self, store_path)
    }

    fn drain(
        &mut self,
        store: &mut Store,
        progress: &mut dyn FnMut(&Drained),
    ) -> Result<Drained, SenderError> {
        Sender::drain(self, store, progress)
    }

    fn finish(&mut self, store: &mut Store) -> Result<(), SenderError> {
        Sender::finish(self, store)
    }

    fn is_not_set_up(error: &SenderError) -> bool {
        matches!(error, SenderError::NotSetUp)
    }

    fn is_another_sender(error: &SenderError) -> bool {
        matches!(error, SenderError::AnotherSender(_))
    }
}

/// The sender of the store at `store_path` as a service
/// ([`kartika_sync::outside::serve`]): serve-clinic's, a standalone app's, `kartika bpjs
/// send`'s.
pub fn serve(
    store_path: &Path,
    holder: &str,
    stop: &std::sync::mpsc::Receiver<()>,
    until_idle: bool,
    report: impl FnMut(Served<'_>),
) -> Result<(), SenderError> {
    kartika_sync::outside::serve::<Sender>(store_path, holder, stop, until_idle, report)
}
