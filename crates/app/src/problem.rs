//! What went wrong, as the person at the screen needs to hear it: each failure of a card,
//! the store or a printer becomes one `Problem`, said in the desk's words with what to do
//! next. Errors are turned into problems once, where they arrive from a worker.

use kartika_card::verify::Rejection;
use kartika_card::{CardError, StatusError, TransportError};
use kartika_lan::{LanError, Refusal};
use kartika_store::StoreError;

use crate::text::Lang;

/// A failure the screen shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The card left the reader during the read.
    PulledTooEarly,
    /// The card stopped answering in the middle of the read.
    CardSilent,
    /// The card has no Kartika application.
    NotKartika,
    /// The card was never issued (or its issuance did not finish).
    BlankCard,
    /// The card was terminated for good.
    TerminatedCard,
    /// The card answered something the contract does not allow.
    CardUnreadable(String),
    /// pcscd is not running.
    CardServiceDown,
    /// The reader was unplugged.
    ReaderGone,
    /// The card's data differs from what its issuer signed.
    Forged,
    /// Issued under a root this Puskesmas does not trust, or by a node without the right.
    UntrustedIssuer,
    /// The issuer's certificate had ended before the card was issued.
    IssuerExpired(String),
    /// The chip is not the one that was issued: a copy.
    Copied,
    /// The card's expiry date has passed.
    ExpiredCard(String),
    /// The card is blocked or on the revocation list.
    Revoked(String),
    /// The card was replaced by a newer one.
    Replaced(String),
    /// A card of this Puskesmas that its store has no record of: only the admin records one.
    UnrecordedCard,
    /// The Puskesmas's server judged the tap itself and refused it.
    RefusedByServer(String),
    /// Wrong username or password.
    WrongLogin,
    /// Too many wrong passwords: the account waits this many minutes.
    LoginWait(i64),
    /// The role does not allow it.
    NotAllowed,
    /// Another window holds the database.
    Busy,
    /// A form field is wrong.
    InvalidField {
        /// The field, as the store names it.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The NIK is registered to another patient.
    DuplicateNik {
        /// The NIK.
        nik: String,
        /// The existing patient's name.
        name: String,
        /// The existing patient's number.
        patient_number: String,
    },
    /// One queue number per unit per day.
    AlreadyQueued {
        /// The ticket held.
        ticket: String,
        /// The unit.
        unit: String,
    },
    /// The record does not exist.
    NotFound,
    /// The operation does not fit the record's state.
    Conflict(String),
    /// The database file needs a newer Kartika.
    NeedsNewerKartika,
    /// The database failed.
    StoreFailed(String),
    /// The ticket printer could not be reached.
    PrinterUnreachable(String),
    /// A PDF ticket or an exported report could not be written.
    FileNotSaved(String),
    /// The patient's PIN was wrong; this many tries are left.
    WrongPin(u8),
    /// The PIN is blocked after too many wrong tries.
    PinBlocked,
    /// The card now in the reader is not the one tapped for this patient.
    OtherCard,
    /// This workstation has no terminal certificate, so it cannot write to cards.
    NoTerminalCertificate,
    /// The card did not show what was written: it may be unchanged.
    CardWriteUnconfirmed,
    /// The card refused this terminal's certificate.
    TerminalRefused,
    /// A PIN is 4 to 8 digits.
    WrongPinFormat,
    /// The card in the reader was issued already; a new card must be blank.
    CardNotBlank,
    /// The two PINs typed differ.
    PinsDiffer,
    /// The card left the reader before it was issued.
    PulledWhileIssuing,
    /// A backup offered for restore is not one to trust; nothing was changed.
    BadBackup(String),
    /// The card left the reader while the finished visit was being written to it.
    VisitNotOnCard,
    /// The card's patient is not registered at this Puskesmas.
    NotRegisteredHere,
    /// The Puskesmas's server does not answer.
    ServerUnreachable(String),
    /// The session on the server ended (it restarted, or sat idle too long).
    SessionEnded,
    /// The server runs another version of Kartika.
    ServerNeedsUpdate,
    /// Done on the server PC, not on a workstation.
    OnlyOnServer,
    /// The server does not know this PC as an approved workstation.
    WorkstationNotApproved,
    /// The server's data is older than this workstation has seen: a standby took over.
    OldServer,
    /// The server is away: the record is kept on this PC and sent when it answers.
    KeptOffline,
    /// Records kept while the server was away that it refused when it came back.
    KeptRecordsRefused(String),
}

impl From<StoreError> for Problem {
    fn from(error: StoreError) -> Self {
        Refusal::from(error).into()
    }
}

/// The store's refusal, from this PC's store or the server's, in the desk's words.
impl From<Refusal> for Problem {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::LoginFailed => Self::WrongLogin,
            Refusal::LoginLocked { minutes } => Self::LoginWait(minutes),
            Refusal::NotAllowed { .. } => Self::NotAllowed,
            Refusal::Busy => Self::Busy,
            Refusal::Invalid { field, reason } => Self::InvalidField { field, reason },
            Refusal::DuplicateNik {
                nik,
                existing_patient_number,
                existing_name,
            } => Self::DuplicateNik {
                nik,
                name: existing_name,
                patient_number: existing_patient_number,
            },
            Refusal::AlreadyQueued { ticket, unit } => Self::AlreadyQueued { ticket, unit },
            Refusal::NotFound { .. } => Self::NotFound,
            Refusal::Conflict { message } => Self::Conflict(message),
            Refusal::NewerSchema => Self::NeedsNewerKartika,
            Refusal::BadBackup { reason } => Self::BadBackup(reason),
            Refusal::File { path, reason } => Self::FileNotSaved(format!("{path}: {reason}")),
            Refusal::Failed { message } => Self::StoreFailed(message),
        }
    }
}

/// A call to the Puskesmas's server that failed.
impl From<LanError> for Problem {
    fn from(error: LanError) -> Self {
        match error {
            LanError::Refused(refusal) => refusal.into(),
            LanError::Unreachable { server, .. } => Self::ServerUnreachable(server),
            LanError::SessionEnded => Self::SessionEnded,
            LanError::NeedsUpdate(_) => Self::ServerNeedsUpdate,
            LanError::NotApproved(_) => Self::WorkstationNotApproved,
            LanError::OldServer { .. } => Self::OldServer,
            other => Self::StoreFailed(other.to_string()),
        }
    }
}

impl From<CardError> for Problem {
    fn from(error: CardError) -> Self {
        match error {
            CardError::Transport(
                TransportError::CardRemoved
                | TransportError::CommunicationFailed
                | TransportError::CardReset
                | TransportError::NoCard,
            ) => Self::PulledTooEarly,
            CardError::Transport(TransportError::Unresponsive) => Self::CardSilent,
            CardError::Transport(TransportError::ServiceUnavailable) => Self::CardServiceDown,
            CardError::Transport(TransportError::ReaderNotFound(_)) => Self::ReaderGone,
            CardError::Status {
                status: StatusError::NotAKartikaCard,
                ..
            } => Self::NotKartika,
            CardError::Status {
                status: StatusError::WrongPin { tries_left },
                ..
            } => Self::WrongPin(tries_left),
            CardError::Status {
                status: StatusError::PinBlocked,
                ..
            } => Self::PinBlocked,
            CardError::Status {
                status: StatusError::SecurityNotSatisfied,
                operation,
            } if operation.contains("authenticating this terminal") => Self::TerminalRefused,
            CardError::NotActivated => Self::BlankCard,
            CardError::Terminated => Self::TerminatedCard,
            other => Self::CardUnreadable(other.to_string()),
        }
    }
}

impl From<Rejection> for Problem {
    fn from(rejection: Rejection) -> Self {
        match rejection {
            // A card naming one Puskesmas and signed by another was made to deceive.
            Rejection::MalformedSecurityObject(_)
            | Rejection::MalformedIdentity(_)
            | Rejection::AlteredData
            | Rejection::IssuerMismatch { .. } => Self::Forged,
            Rejection::UntrustedIssuer | Rejection::IssuerNotAllowed => Self::UntrustedIssuer,
            Rejection::IssuerCertificateExpired(date) => Self::IssuerExpired(date),
            Rejection::ChallengeFailed => Self::Copied,
            Rejection::Expired(date) => Self::ExpiredCard(date),
        }
    }
}

impl Problem {
    /// A card the store refused, from the revocation list's reason (`blocked: …`,
    /// `replaced: …`, `terminated: …`, or another Puskesmas's own words).
    pub fn refused_card(reason: &str) -> Self {
        let (status, detail) = reason.split_once(": ").unwrap_or(("", reason));
        let status = status.trim();
        let detail = detail.trim().to_owned();
        match status {
            "replaced" => Self::Replaced(detail),
            "terminated" => Self::TerminatedCard,
            "blocked" => Self::Revoked(detail),
            "unrecorded" => Self::UnrecordedCard,
            "not genuine" => Self::RefusedByServer(detail),
            _ if reason.ends_with("replaced") => Self::Replaced(String::new()),
            _ if reason.ends_with("terminated") => Self::TerminatedCard,
            _ => Self::Revoked(reason.trim().to_owned()),
        }
    }

    /// Whether it concerns the card in the reader (the desk shows it as the tap's verdict).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Self::Forged
                | Self::UntrustedIssuer
                | Self::IssuerExpired(_)
                | Self::Copied
                | Self::ExpiredCard(_)
                | Self::Revoked(_)
                | Self::UnrecordedCard
                | Self::RefusedByServer(_)
                | Self::Replaced(_)
                | Self::TerminatedCard
        )
    }

    /// What to say, in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        use Lang::{En, Id};
        match (lang, self) {
            (Id, Self::PulledTooEarly) => "Kartu dicabut terlalu cepat, tempelkan lagi dan tahan sampai selesai.".into(),
            (En, Self::PulledTooEarly) => "The card was removed too early; tap it again and hold it still.".into(),
            (Id, Self::CardSilent) => "Kartu tidak menjawab. Cabut kartu, lalu tempelkan lagi; bila tetap begitu, kartu perlu diganti.".into(),
            (En, Self::CardSilent) => "The card does not answer. Remove it and tap again; if it stays silent, the card needs replacing.".into(),
            (Id, Self::NotKartika) => "Ini bukan kartu Kartika. Cari pasien dengan NIK atau nama.".into(),
            (En, Self::NotKartika) => "This is not a Kartika card. Search for the patient by NIK or name.".into(),
            (Id, Self::BlankCard) => "Kartu ini kosong (belum diterbitkan). Minta admin menerbitkannya; layani pasien lewat pencarian.".into(),
            (En, Self::BlankCard) => "This card is blank (never issued). Ask the admin to issue it; serve the patient through search.".into(),
            (Id, Self::TerminatedCard) => "Kartu sudah dinonaktifkan permanen. Minta pasien ke admin untuk kartu baru; layani lewat pencarian NIK.".into(),
            (En, Self::TerminatedCard) => "This card was terminated for good. Send the patient to the admin for a new card; serve them through NIK search.".into(),
            (Id, Self::CardUnreadable(detail)) => format!("Kartu tidak terbaca dengan benar ({detail}). Tempelkan lagi; bila tetap gagal, cari pasien dengan NIK."),
            (En, Self::CardUnreadable(detail)) => format!("The card could not be read properly ({detail}). Tap it again; if it still fails, search by NIK."),
            (Id, Self::CardServiceDown) => "Layanan kartu (pcscd) tidak berjalan. Hubungi admin; sementara itu cari pasien dengan NIK.".into(),
            (En, Self::CardServiceDown) => "The smart-card service (pcscd) is not running. Call the admin; meanwhile search by NIK.".into(),
            (Id, Self::ReaderGone) => "Pembaca kartu terlepas. Periksa kabel USB-nya.".into(),
            (En, Self::ReaderGone) => "The card reader is disconnected. Check its USB cable.".into(),
            (Id, Self::Forged) => "Kartu ditolak: datanya telah diubah. Jangan gunakan kartu ini; cari pasien dengan NIK dan laporkan ke admin.".into(),
            (En, Self::Forged) => "Card refused: its data has been altered. Do not use it; search by NIK and tell the admin.".into(),
            (Id, Self::UntrustedIssuer) => "Kartu ditolak: diterbitkan oleh pihak yang tidak dikenal registry. Cari pasien dengan NIK.".into(),
            (En, Self::UntrustedIssuer) => "Card refused: issued by a party the registry does not know. Search by NIK.".into(),
            (Id, Self::IssuerExpired(date)) => format!("Kartu ditolak: diterbitkan setelah izin penerbitnya berakhir ({date}). Cari pasien dengan NIK."),
            (En, Self::IssuerExpired(date)) => format!("Card refused: issued after its issuer's certificate ended ({date}). Search by NIK."),
            (Id, Self::Copied) => "Kartu ditolak: ini salinan, bukan kartu asli. Tahan kartu, laporkan ke admin, dan cari pasien dengan NIK.".into(),
            (En, Self::Copied) => "Card refused: it is a copy, not the original card. Keep it, tell the admin, and search by NIK.".into(),
            (Id, Self::ExpiredCard(date)) => format!("Kartu kedaluwarsa sejak {date}. Minta pasien ke admin untuk kartu baru; layani lewat pencarian NIK."),
            (En, Self::ExpiredCard(date)) => format!("The card expired on {date}. Send the patient to the admin for a new card; serve them through NIK search."),
            (Id, Self::UnrecordedCard) => "Kartu ini diterbitkan Puskesmas ini tetapi tidak tercatat di sini. Minta admin memeriksanya dan mengetuknya di loket dengan akun admin untuk mencatatnya; sementara itu layani pasien lewat pencarian nama atau NIK.".into(),
            (En, Self::UnrecordedCard) => "This card was issued by this Puskesmas but is not recorded here. Ask the admin to check it and tap it at a desk under an admin account to record it; meanwhile serve the patient through name or NIK search.".into(),
            (Id, Self::RefusedByServer(reason)) => format!("Server Puskesmas menolak kartu ini ({reason}). Ketuk kartu sekali lagi; bila tetap ditolak, hubungi admin."),
            (En, Self::RefusedByServer(reason)) => format!("The Puskesmas's server refused this card ({reason}). Tap the card once more; if it is refused again, call the admin."),
            (Id, Self::Revoked(reason)) => format!("Kartu diblokir ({reason}). Minta pasien ke admin untuk kartu pengganti; layani lewat pencarian NIK."),
            (En, Self::Revoked(reason)) => format!("The card is blocked ({reason}). Send the patient to the admin for a replacement; serve them through NIK search."),
            (Id, Self::Replaced(detail)) => format!("Kartu ini sudah diganti dengan kartu baru{}. Minta pasien memakai kartu barunya; layani lewat pencarian NIK.", bracketed(detail)),
            (En, Self::Replaced(detail)) => format!("This card was replaced by a newer one{}. Ask for the new card; serve the patient through NIK search.", bracketed(detail)),
            (Id, Self::WrongLogin) => "Nama pengguna atau kata sandi salah, atau akun dinonaktifkan.".into(),
            (En, Self::WrongLogin) => "Wrong username or password, or the account is disabled.".into(),
            (Id, Self::LoginWait(minutes)) => format!("Terlalu banyak salah kata sandi. Coba lagi {minutes} menit lagi, atau minta admin mengganti kata sandi."),
            (En, Self::LoginWait(minutes)) => format!("Too many wrong passwords. Try again in {minutes} minute(s), or ask an admin to reset the password."),
            (Id, Self::NotAllowed) => "Akun Anda tidak berhak melakukan ini.".into(),
            (En, Self::NotAllowed) => "Your account may not do this.".into(),
            (Id, Self::Busy) => "Data sedang dipakai di jendela lain. Coba lagi.".into(),
            (En, Self::Busy) => "The data is busy in another window. Try again.".into(),
            (Id, Self::InvalidField { field, reason }) => invalid_field_id(field, reason),
            (En, Self::InvalidField { field, reason }) => format!("{field}: {reason}"),
            (Id, Self::DuplicateNik { nik, name, patient_number }) => format!("NIK {nik} sudah terdaftar atas nama {name} (No. RM {patient_number}). Buka data pasien tersebut."),
            (En, Self::DuplicateNik { nik, name, patient_number }) => format!("NIK {nik} is already registered to {name} (patient no. {patient_number}). Open that record."),
            (Id, Self::AlreadyQueued { ticket, unit }) => format!("Nomor antrian hanya dapat diambil satu kali pada tanggal dan poli yang sama: pasien sudah memegang {ticket} di {unit}."),
            (En, Self::AlreadyQueued { ticket, unit }) => format!("A queue number can be taken once per day and unit: the patient already holds {ticket} at {unit}."),
            (Id, Self::NotFound) => "Data tidak ditemukan.".into(),
            (En, Self::NotFound) => "Not found.".into(),
            (Id, Self::Conflict(detail)) => format!("Tidak dapat dilakukan: {detail}"),
            (En, Self::Conflict(detail)) => format!("Cannot be done: {detail}"),
            (Id, Self::NeedsNewerKartika) => "Data ini dibuat oleh Kartika yang lebih baru. Pasang versi terbaru.".into(),
            (En, Self::NeedsNewerKartika) => "This data was written by a newer Kartika. Install the newest version.".into(),
            (Id, Self::StoreFailed(detail)) => format!("Data Puskesmas bermasalah ({detail}). Hubungi admin."),
            (En, Self::StoreFailed(detail)) => format!("The Puskesmas data failed ({detail}). Call the admin."),
            (Id, Self::PrinterUnreachable(detail)) => format!("Printer tidak dapat dihubungi ({detail}). Periksa kabel dan alamatnya, atau simpan PDF; nomor antrian tetap tercatat."),
            (En, Self::PrinterUnreachable(detail)) => format!("The printer cannot be reached ({detail}). Check its cable and address, or save a PDF; the queue number is recorded."),
            (Id, Self::FileNotSaved(detail)) => format!("File tidak dapat disimpan ({detail}). Periksa ruang disk dan folder datanya."),
            (En, Self::FileNotSaved(detail)) => format!("The file could not be saved ({detail}). Check the disk space and the data folder."),
            (Id, Self::WrongPin(left)) => format!("PIN salah. Sisa percobaan: {left}. Setelah habis, kartu terblokir."),
            (En, Self::WrongPin(left)) => format!("Wrong PIN. Tries left: {left}. When none are left, the card is blocked."),
            (Id, Self::PinBlocked) => "PIN kartu terblokir. Minta pasien ke admin untuk membuka blokir PIN; kunjungan tetap dapat dilayani.".into(),
            (En, Self::PinBlocked) => "The card's PIN is blocked. Send the patient to the admin to unblock it; the visit can still be served.".into(),
            (Id, Self::OtherCard) => "Kartu di pembaca bukan kartu pasien ini. Tempelkan kartu pasien yang sedang diperiksa.".into(),
            (En, Self::OtherCard) => "The card in the reader is not this patient's. Tap the card of the patient being examined.".into(),
            (Id, Self::NoTerminalCertificate) => "Komputer ini belum punya sertifikat terminal (node.cert), jadi tidak dapat menulis ke kartu. Kunjungan tetap tercatat; hubungi admin.".into(),
            (En, Self::NoTerminalCertificate) => "This workstation has no terminal certificate (node.cert), so it cannot write to cards. The visit is recorded; call the admin.".into(),
            (Id, Self::CardWriteUnconfirmed) => "Kartu tidak menunjukkan data yang baru ditulis; mungkin belum berubah. Tempelkan lagi dan ulangi.".into(),
            (En, Self::CardWriteUnconfirmed) => "The card does not show what was just written; it may be unchanged. Tap it again and retry.".into(),
            (Id, Self::VisitNotOnCard) => "Kartu dicabut sebelum kunjungan tertulis di kartu. Kunjungan tetap tercatat di Puskesmas; kartu mungkin tidak memuatnya.".into(),
            (En, Self::VisitNotOnCard) => "The card was removed before the visit was written to it. The visit is recorded at the Puskesmas; the card may not hold it.".into(),
            (Id, Self::CardNotBlank) => "Kartu di pembaca sudah diterbitkan. Tempelkan kartu kosong.".into(),
            (En, Self::CardNotBlank) => "The card in the reader is already issued. Tap a blank card.".into(),
            (Id, Self::BadBackup(reason)) => format!("File cadangan tidak dapat dipulihkan ({reason}). Data sekarang tidak diubah; pilih cadangan lain."),
            (En, Self::BadBackup(reason)) => format!("The backup cannot be restored ({reason}). The current data was not changed; choose another backup."),
            (Id, Self::PulledWhileIssuing) => "Kartu dicabut sebelum selesai diterbitkan; kartu itu belum berlaku. Tempelkan lagi dan terbitkan ulang dari awal.".into(),
            (En, Self::PulledWhileIssuing) => "The card was removed before it was issued; it is not valid. Tap it again and issue it again from the start.".into(),
            (Id, Self::PinsDiffer) => "Kedua PIN tidak sama. Minta pasien mengetik PIN lagi.".into(),
            (En, Self::PinsDiffer) => "The two PINs differ. Ask the patient to type the PIN again.".into(),
            (Id, Self::WrongPinFormat) => "PIN terdiri dari 4 sampai 8 angka.".into(),
            (En, Self::WrongPinFormat) => "A PIN is 4 to 8 digits.".into(),
            (Id, Self::NotRegisteredHere) => "Pasien pemilik kartu ini belum terdaftar di Puskesmas ini. Minta pasien mendaftar di loket dulu.".into(),
            (En, Self::NotRegisteredHere) => "This card's patient is not registered at this Puskesmas. Send them to the registration desk first.".into(),
            (Id, Self::TerminalRefused) => "Kartu menolak sertifikat terminal komputer ini. Hubungi admin untuk sertifikat baru.".into(),
            (En, Self::TerminalRefused) => "The card refused this workstation's terminal certificate. Call the admin for a new certificate.".into(),
            (Id, Self::ServerUnreachable(server)) => format!("Server Puskesmas ({server}) tidak menjawab. Data di layar adalah yang terakhir diterima; periksa kabel jaringan dan PC server."),
            (En, Self::ServerUnreachable(server)) => format!("The Puskesmas server ({server}) does not answer. The data on screen is the last received; check the network cable and the server PC."),
            (Id, Self::SessionEnded) => "Sesi di server berakhir. Masuk lagi dengan nama pengguna dan kata sandi.".into(),
            (En, Self::SessionEnded) => "The session on the server has ended. Log in again with your username and password.".into(),
            (Id, Self::KeptOffline) => "Server tidak menjawab: catatan disimpan di komputer ini dan dikirim sendiri begitu server menjawab lagi.".into(),
            (En, Self::KeptOffline) => "The server does not answer: the record is kept on this PC and sent by itself once the server answers again.".into(),
            (Id, Self::KeptRecordsRefused(why)) => format!("Server menolak catatan yang disimpan selama server mati: {why}. Periksa pasien ini di loket."),
            (En, Self::KeptRecordsRefused(why)) => format!("The server refused records kept while it was away: {why}. Check these patients at the desk."),
            (Id, Self::OldServer) => "Server ini memegang data lama: server cadangan sudah menggantikannya. Jangan pakai server ini; hubungi admin.".into(),
            (En, Self::OldServer) => "This server holds old data: the standby has replaced it. Do not use this server; call the admin.".into(),
            (Id, Self::WorkstationNotApproved) => "Komputer ini belum disetujui sebagai komputer kerja Puskesmas ini. Minta admin menyetujuinya.".into(),
            (En, Self::WorkstationNotApproved) => "This PC is not an approved workstation of this Puskesmas. Ask an admin to approve it.".into(),
            (Id, Self::OnlyOnServer) => "Ini dilakukan di PC server Puskesmas, tempat data disimpan.".into(),
            (En, Self::OnlyOnServer) => "This is done on the Puskesmas's server PC, where the data is kept.".into(),
            (Id, Self::ServerNeedsUpdate) => "Versi Kartika di komputer ini berbeda dengan server. Minta admin memasang versi server di komputer ini.".into(),
            (En, Self::ServerNeedsUpdate) => "This workstation's Kartika differs from the server's version. Ask the admin to install the server's version here.".into(),
        }
    }
}

fn bracketed(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(" ({detail})")
    }
}

/// The store's field checks in the desk's words, for the fields a desk types.
fn invalid_field_id(field: &str, reason: &str) -> String {
    match field {
        "NIK" => "Format NIK tidak sesuai: 16 angka, dengan tanggal lahir dan jenis kelamin yang cocok dengan KTP.".into(),
        "birth date" => "Tanggal lahir tidak sesuai: tulis HH-BB-TTTT, tidak boleh di masa depan.".into(),
        "name" => "Nama wajib diisi, paling banyak 80 huruf.".into(),
        "BPJS number" => "No. BPJS harus 13 angka.".into(),
        "family card number" => "No. KK harus 16 angka.".into(),
        "sex" => "Pilih jenis kelamin.".into(),
        "region code" | "village code" => "Kode desa tidak sesuai, contoh 36.74.06.1001.".into(),
        "phone" => "No. telepon tidak sesuai.".into(),
        "password" => "Kata sandi minimal 8 karakter.".into(),
        "registry" => "Isi alamat registry dan token node, atau pilih jalankan mandiri.".into(),
        "facility code" => "Kode Puskesmas: huruf besar dan angka, mis. P3674060.".into(),
        "facility name" => "Nama Puskesmas wajib diisi.".into(),
        "SATUSEHAT pace" => "Permintaan per detik: angka bulat (0 untuk tanpa batas).".into(),
        "client secret" => "Isi client secret yang diberikan SATUSEHAT.".into(),
        "client id" => "Isi client ID yang diberikan SATUSEHAT.".into(),
        "auth URL" | "FHIR URL" => "Alamat SATUSEHAT harus dimulai dengan https://.".into(),
        "username" => "Nama pengguna: 2 sampai 32 huruf kecil, angka, titik, garis bawah atau strip.".into(),
        "display name" => "Nama wajib diisi.".into(),
        "systolic pressure" => vital("Sistole", reason),
        "diastolic pressure" => vital("Diastole", reason),
        "pulse" => vital("Nadi", reason),
        "respiratory rate" => vital("Napas", reason),
        "temperature" => vital("Suhu", reason),
        "weight" => vital("Berat badan", reason),
        "height" => vital("Tinggi badan", reason),
        "blood pressure" => "Tekanan darah: isi sistole dan diastole, diastole lebih rendah dari sistole.".into(),
        "referral" => "Tulis tujuan rujukan, mis. RSUD Tangerang Selatan.".into(),
        "ICD-10 code" => "Kode ICD-10 tidak ada di daftar; cari dengan kode atau kata.".into(),
        "chronic conditions" => "Penyakit kronis ditulis sebagai kode ICD-10, dipisah koma, mis. E11, I10.".into(),
        other => format!("Periksa isian {other}: {reason}"),
    }
}

/// A vital sign the store refused: its name, and the value and range the store gave.
fn vital(name: &str, reason: &str) -> String {
    if reason == "is not a number" {
        return format!("{name} harus berupa angka.");
    }
    // The store says "400 /min is outside what a human body shows (20 to 300)".
    let (value, range) = reason
        .split_once(" is outside what a human body shows ")
        .unwrap_or((reason, ""));
    let range = range.replace(" to ", " sampai ");
    format!("{name} {value} di luar batas tubuh manusia {range}. Periksa lagi.")
}
