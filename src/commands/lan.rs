//! `kartika serve-clinic`: the Puskesmas's store served to its workstations on the LAN.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use kartika_card::crypto::TrustAnchors;
use kartika_lan::authority::{new_workstation_key, verify_voucher, Authority};
use kartika_lan::discovery::{self, Found, DISCOVERY_PORT};
use kartika_lan::server::{self, ClinicServer, ServerConfig};
use kartika_lan::{Client, PuskesmasLink};

/// How the server speaks TLS.
pub enum ServerTls<'a> {
    /// Plain HTTP, on loopback only.
    None,
    /// A certificate and key of the operator's choosing; any PC with a password may call.
    Files(&'a Path, &'a Path),
    /// The Puskesmas's own authority, vouched for by the node in this folder: only
    /// approved workstations are served.
    Node(&'a Path),
}

pub fn serve_clinic(
    db: &Path,
    listen: SocketAddr,
    tls: ServerTls<'_>,
    card_trust: Option<TrustAnchors>,
    lifecycle: crate::serving::Lifecycle,
) -> Result<ExitCode> {
    let mut config = ServerConfig::new(db);
    if card_trust.is_none() {
        eprintln!(
            "no --trust: cards tapped at other PCs are refused; give the registry's root key so the server can check them"
        );
    }
    let acceptor = match tls {
        ServerTls::None => None,
        ServerTls::Files(cert, key) => {
            eprintln!(
                "serving with --tls-cert: any PC on the LAN that knows a password may call, and no PC can join as a workstation; use it only on a LAN you trust, and --node everywhere else"
            );
            Some(kartika_listener::acceptor(cert, key)?)
        }
        ServerTls::Node(node) => {
            let node = crate::keys::read_node_credentials(node)?;
            if let Some(trust) = &card_trust {
                if !trust.certifies(node.certificate()) {
                    bail!("the node's certificate is not signed by the root key given with --trust; give the registry root that certified this node");
                }
            }
            let authority = Authority::open_or_create(&authority_folder(db), &node)?;
            let acceptor = authority.server_tls()?;
            config.authority = Some(std::sync::Arc::new(authority));
            Some(acceptor)
        }
    };
    if acceptor.is_none() && !listen.ip().is_loopback() {
        bail!(
            "{listen} is not a loopback address: passwords would cross the LAN in the clear; give --node (the Puskesmas's own authority) or --tls-cert and --tls-key to serve the workstations"
        );
    }
    config.card_trust = card_trust.map(std::sync::Arc::new);
    let server = ClinicServer::open(&config)
        .with_context(|| format!("cannot serve the clinic store {}", db.display()))?;
    // With the Puskesmas's authority the server is for the LAN: it answers workstations
    // looking for it.
    let facility = config
        .authority
        .as_ref()
        .map(|_| server.facility_code().to_owned());
    let tls = acceptor.is_some();
    // The store's one SATUSEHAT sender and one BPJS sender live where the store does.
    let sending = outside_senders(db);
    crate::serving::until_stopped(
        "clinic server",
        listen,
        tls,
        lifecycle,
        |listener, stop| async move {
            let answering = match facility {
                Some(facility) => {
                    let found = Found {
                        facility,
                        port: listener.local_addr()?.port(),
                    };
                    match tokio::net::UdpSocket::bind((listen.ip(), DISCOVERY_PORT)).await {
                        Ok(socket) => Some(tokio::spawn(discovery::answer(socket, found))),
                        Err(e) => {
                            eprintln!(
                            "workstations cannot find this server by asking (UDP {DISCOVERY_PORT}: {e}); give them its address"
                        );
                            None
                        }
                    }
                }
                None => None,
            };
            let served = server::serve(listener, acceptor, server, &config, stop)
                .await
                .context("the clinic server failed");
            if let Some(answering) = answering {
                answering.abort();
            }
            served
        },
    )?;
    for sender in sending {
        sender.stop();
    }
    Ok(ExitCode::SUCCESS)
}

/// An outside system's sender on a thread of its own, until stopped.
struct SendingThread {
    stop: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl SendingThread {
    fn stop(self) {
        drop(self.stop);
        let _ = self.thread.join();
    }
}

fn outside_senders(db: &Path) -> Vec<SendingThread> {
    let start =
        |name: &'static str,
         serve: fn(&Path, &std::sync::mpsc::Receiver<()>) -> Result<(), String>| {
            let (stop, stopped) = std::sync::mpsc::channel();
            let db = db.to_owned();
            let thread = std::thread::spawn(move || {
                // Its rounds and pauses are in the log.
                if let Err(e) = serve(&db, &stopped) {
                    tracing::error!(target: "kartika::outside", error = %e, "the {name} sender stopped");
                }
            });
            SendingThread { stop, thread }
        };
    vec![
        start("SATUSEHAT", |db, stopped| {
            let holder = kartika_satusehat::this_pc();
            kartika_satusehat::serve(db, &holder, stopped, false, |_| {}).map_err(|e| e.to_string())
        }),
        start("BPJS", |db, stopped| {
            let holder = kartika_satusehat::this_pc();
            kartika_bpjs::serve(db, &holder, stopped, false, |_| {}).map_err(|e| e.to_string())
        }),
    ]
}

/// Files a joined workstation keeps in its data folder.
const PINNED_CA: &str = "puskesmas-ca.pem";
const WORKSTATION_KEY: &str = "workstation.key";
const WORKSTATION_CERT: &str = "workstation.crt";
const SERVER_ADDRESS: &str = "server-address";
const GENERATION_SEEN: &str = "server-generation";
const EMERGENCY_SERIES: &str = "emergency-series";

/// The server PC's authority folder, beside its store.
fn authority_folder(db: &Path) -> std::path::PathBuf {
    db.parent().unwrap_or(Path::new(".")).join("lan")
}

/// The link of a workstation joined with `kartika workstation join`, if this folder holds one.
pub fn joined_link(data: &Path) -> Result<Option<PuskesmasLink>> {
    let address_file = data.join(SERVER_ADDRESS);
    if !address_file.exists() {
        return Ok(None);
    }
    let read = |name: &str| {
        std::fs::read(data.join(name))
            .with_context(|| format!("cannot read {}", data.join(name).display()))
    };
    let address = String::from_utf8_lossy(&read(SERVER_ADDRESS)?)
        .trim()
        .to_owned();
    let identity = match data.join(WORKSTATION_CERT).exists() {
        true => Some((
            String::from_utf8_lossy(&read(WORKSTATION_KEY)?).into_owned(),
            read(WORKSTATION_CERT)?,
        )),
        false => None,
    };
    Ok(Some(PuskesmasLink {
        address,
        ca_pem: read(PINNED_CA)?,
        identity,
        generation_file: Some(data.join(GENERATION_SEEN)),
        emergency_series: std::fs::read_to_string(data.join(EMERGENCY_SERIES))
            .ok()
            .and_then(|text| text.trim().parse().ok()),
    }))
}

/// Sets this PC up as a workstation of the Puskesmas whose server is at `address`: checks
/// the server's authority under the registry root, pins it, asks to join and waits for an
/// admin's approval.
pub fn join(
    address: Option<&str>,
    facility: &str,
    trust: &Path,
    data: &Path,
    name: &str,
    wait: std::time::Duration,
) -> Result<ExitCode> {
    std::fs::create_dir_all(data).with_context(|| format!("cannot create {}", data.display()))?;
    let root = crate::keys::read_public_key(trust)?;
    let found;
    let address = match address {
        Some(address) => address,
        None => {
            let everyone = std::net::SocketAddr::from(([255, 255, 255, 255], DISCOVERY_PORT));
            found = discovery::find(facility, everyone, std::time::Duration::from_secs(5))?
                .with_context(|| {
                    format!("no server of {facility} answered on this LAN; give its address with --server")
                })?
                .to_string();
            println!("found the server of {facility} at {found}");
            &found
        }
    };
    let voucher = Client::voucher_at(address)?;
    let ca_pem = verify_voucher(&voucher, facility, &TrustAnchors::new(vec![root]))?;
    let key_path = data.join(WORKSTATION_KEY);
    // A join asked again (after a restart) keeps the key, so the admin's approval holds.
    let public_key = if key_path.exists() {
        let pem = std::fs::read_to_string(&key_path)
            .with_context(|| format!("cannot read {}", key_path.display()))?;
        workstation_public_key(&pem)?
    } else {
        let (pem, public_key) = new_workstation_key()?;
        write_private(&key_path, pem.as_bytes())?;
        public_key
    };
    let link = PuskesmasLink {
        address: address.to_owned(),
        ca_pem: ca_pem.clone().into_bytes(),
        identity: None,
        generation_file: Some(data.join(GENERATION_SEEN)),
        emergency_series: None,
    };
    let client = Client::puskesmas(&link)?;
    let asked = client.ask_to_join(name, &public_key)?;
    // Kept only now: the server has answered over TLS under the authority the node vouched
    // for. A stranger that answered the discovery first leaves nothing behind.
    std::fs::write(data.join(PINNED_CA), &ca_pem)?;
    std::fs::write(data.join(SERVER_ADDRESS), address)?;
    println!(
        "asked to join {facility} as \"{name}\" (request {}): an admin approves it on the server PC with\n    kartika workstation approve --db CLINIC.sqlite --as ADMIN --id {}",
        asked.id, asked.id
    );
    let until = std::time::Instant::now() + wait;
    loop {
        let answer = client.join_request(&asked.id)?;
        if answer.revoked {
            bail!("the request {} was revoked by an admin", asked.id);
        }
        if let Some(der) = answer.certificate_der()? {
            if let Some(series) = answer.emergency_series {
                std::fs::write(data.join(EMERGENCY_SERIES), series.to_string())?;
            }
            std::fs::write(data.join(WORKSTATION_CERT), der)?;
            println!("approved: this PC is a workstation of {facility}; run kartika app --data {} --trust …", data.display());
            return Ok(ExitCode::SUCCESS);
        }
        if std::time::Instant::now() >= until {
            println!("not approved yet; run the same command again to keep waiting");
            return Ok(ExitCode::from(2));
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

/// The public key of a workstation key kept in PEM.
fn workstation_public_key(pem: &str) -> Result<Vec<u8>> {
    use p256::pkcs8::DecodePrivateKey;
    let key = p256::ecdsa::SigningKey::from_pkcs8_pem(pem)
        .context("the workstation key is not a P-256 key")?;
    Ok(key
        .verifying_key()
        .to_encoded_point(false)
        .as_bytes()
        .to_vec())
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    kartika_durable::replace(path, bytes, kartika_durable::Readers::Owner)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// An admin approves a workstation on the server PC: the Puskesmas's CA issues its
/// certificate.
pub fn approve(db: &Path, user: &str, id: &str) -> Result<ExitCode> {
    let mut store = kartika_store::Store::open(db)?;
    let session = crate::commands::store::login(&mut store, user)?;
    let authority = Authority::open(&authority_folder(db), &store.facility().code)?;
    let approved = store.approve_workstation(&session, id, |name, public_key| {
        authority
            .workstation_certificate(name, public_key)
            .map_err(|e| e.to_string())
    })?;
    println!("approved {} \"{}\"", approved.id, approved.name);
    Ok(ExitCode::SUCCESS)
}

/// The workstations, as an admin reviews them.
pub fn list(db: &Path, user: &str) -> Result<ExitCode> {
    let mut store = kartika_store::Store::open(db)?;
    let session = crate::commands::store::login(&mut store, user)?;
    for ws in store.list_workstations(&session)? {
        let state = match (&ws.approved_by, ws.revoked) {
            (_, true) => "revoked".to_owned(),
            (Some(by), false) => format!("approved by {by}"),
            (None, false) => "waiting".to_owned(),
        };
        println!("{}\t{}\t{state}", ws.id, ws.name);
    }
    Ok(ExitCode::SUCCESS)
}

/// An admin revokes a workstation (stolen, replaced).
pub fn revoke(db: &Path, user: &str, id: &str) -> Result<ExitCode> {
    let mut store = kartika_store::Store::open(db)?;
    let session = crate::commands::store::login(&mut store, user)?;
    store.revoke_workstation(&session, id)?;
    println!("revoked {id}");
    Ok(ExitCode::SUCCESS)
}

/// The standby PC copies the server's store into `into` (keeping `keep` copies), once or
/// every `every`, as the admin `user`, through its own workstation link in `data`.
pub fn standby_copy(
    data: &Path,
    into: &Path,
    user: &str,
    keep: usize,
    every: Option<std::time::Duration>,
) -> Result<ExitCode> {
    let link = joined_link(data)?.with_context(|| {
        format!(
            "{} is not a workstation's folder; join this PC first (kartika workstation join)",
            data.display()
        )
    })?;
    let client = Client::puskesmas(&link)?;
    let password = crate::commands::store::password_from_env_or_stdin(user)?;
    let token = client.login(user, &password)?.token;
    let (facility, _) = client.facility()?;
    std::fs::create_dir_all(into).with_context(|| format!("cannot create {}", into.display()))?;
    loop {
        let copied = copy_once(&client, &token, &facility.code, into, keep);
        match (&copied, every) {
            (Ok(path), _) => println!("copied the server's store to {}", path.display()),
            (Err(e), Some(_)) => eprintln!("the copy failed, trying again later: {e:#}"),
            (Err(_), None) => {}
        }
        let Some(every) = every else {
            return copied.map(|_| ExitCode::SUCCESS);
        };
        std::thread::sleep(every);
    }
}

fn copy_once(
    client: &Client,
    token: &str,
    facility: &str,
    into: &Path,
    keep: usize,
) -> Result<std::path::PathBuf> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    // The code comes from the server: only the facility-code alphabet may name a file here.
    if facility.is_empty()
        || !facility
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        bail!("the server named its facility \"{facility}\", which is no facility code");
    }
    let path = into.join(format!("kartika-{facility}-standby-{stamp}.sqlite"));
    let staging = path.with_extension("partial");
    // Written as it arrives (a store of gigabytes never sits in memory); a copy that
    // fails halfway leaves nothing behind.
    let written = std::fs::File::create(&staging)
        .with_context(|| format!("cannot write {}", staging.display()))
        .and_then(|mut file| {
            client.standby_copy(token, &mut file)?;
            file.sync_all()
                .with_context(|| format!("cannot write {}", staging.display()))
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&staging);
        return Err(e);
    }
    // A copy is kept only when it opens as a store whose audit chain holds.
    let checked = kartika_store::Store::open(&staging)
        .map_err(anyhow::Error::from)
        .and_then(|store| Ok(store.verify_audit()?));
    match checked {
        Ok(report) if report.problem.is_none() => {}
        other => {
            let _ = std::fs::remove_file(&staging);
            bail!("the server's copy did not check out: {other:?}");
        }
    }
    kartika_durable::publish(&staging, &path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let mut copies = kartika_store::backups_in(into, facility)?;
    copies.sort();
    for old in copies.iter().take(copies.len().saturating_sub(keep.max(1))) {
        let _ = std::fs::remove_file(old);
    }
    Ok(path)
}

/// Makes a standby copy the server's store, as the admin `user`: restored into `db` after
/// its checks, then the next generation, which workstations will follow and never leave.
pub fn promote(copy: &Path, db: &Path, user: &str) -> Result<ExitCode> {
    kartika_store::Store::restore(copy, db)?;
    let mut store = kartika_store::Store::open(db)?;
    let session = crate::commands::store::login(&mut store, user)?;
    let generation = store.promote(&session)?;
    println!(
        "{} is the server's store now, generation {generation}",
        db.display()
    );
    if !authority_folder(db).exists() {
        println!(
            "copy the old server's lan/ folder to {} before serving it, so the workstations keep trusting it",
            authority_folder(db).display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct ServeClinicArgs {
    /// The clinic store, on this PC's own disk.
    #[arg(long, default_value_os_t = crate::places::machine_data().join("clinic.sqlite"))]
    pub db: PathBuf,
    /// For example 0.0.0.0:7443 (with TLS), or 127.0.0.1:7443.
    #[arg(long)]
    pub listen: std::net::SocketAddr,
    /// The server's certificate chain (PEM).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Its private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The node's folder (node.key, node.cert): the Puskesmas's own certificate
    /// authority, vouched for by the node, serves approved workstations only.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"], requires = "trust")]
    pub node: Option<PathBuf>,
    /// The registry's root public key (PEM): the server checks each card tapped at a
    /// workstation under it. Required with --node; without it, taps at other PCs are refused.
    #[arg(long)]
    pub trust: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum StandbyCommand {
    /// Copies the server's store to this PC (a joined workstation) every 15 minutes.
    Copy {
        /// This PC's workstation folder (kartika workstation join).
        #[arg(long)]
        data: PathBuf,
        /// Where the copies go.
        #[arg(long)]
        into: PathBuf,
        /// An admin of the Puskesmas.
        #[arg(long = "as")]
        as_user: String,
        /// How many copies to keep.
        #[arg(long, default_value_t = 96)]
        keep: usize,
        /// Seconds between copies.
        #[arg(long, default_value_t = 900)]
        every: u64,
        /// One copy, then exit.
        #[arg(long)]
        once: bool,
    },
    /// Makes a copy the server's store (the server PC is lost): restored, checked, and the
    /// next generation, so workstations refuse the old server if it comes back.
    Promote {
        /// The copy.
        #[arg(long)]
        copy: PathBuf,
        /// The store to serve from now on.
        #[arg(long)]
        db: PathBuf,
        #[arg(long = "as")]
        as_user: String,
    },
}

#[derive(Subcommand)]
pub enum WorkstationCommand {
    /// Joins this PC to the Puskesmas: checks the server's certificate authority under the
    /// registry root, asks to join, waits for an admin's approval.
    Join {
        /// The server PC's address and port, for example 192.168.1.10:7443 (without it,
        /// the server is asked for on the LAN).
        #[arg(long)]
        server: Option<String>,
        /// The Puskesmas's facility code, whose node must vouch for the server.
        #[arg(long)]
        facility: String,
        /// The registry's root public key (PEM).
        #[arg(long)]
        trust: PathBuf,
        /// This workstation's data folder (then `kartika app --data` on it).
        #[arg(long)]
        data: PathBuf,
        /// What the admin sees it as, for example "Loket 1".
        #[arg(long)]
        name: String,
        /// How long to wait for the approval, in seconds.
        #[arg(long, default_value_t = 600)]
        wait: u64,
    },
    /// Approves a workstation (on the server PC, as an admin).
    Approve {
        #[arg(long)]
        db: PathBuf,
        #[arg(long = "as")]
        as_user: String,
        /// The request's id, as the workstation printed it.
        #[arg(long)]
        id: String,
    },
    /// The workstations and their state.
    List {
        #[arg(long)]
        db: PathBuf,
        #[arg(long = "as")]
        as_user: String,
    },
    /// Revokes a workstation (stolen, replaced): the server refuses it from now on.
    Revoke {
        #[arg(long)]
        db: PathBuf,
        #[arg(long = "as")]
        as_user: String,
        #[arg(long)]
        id: String,
    },
}

pub fn run_serve_clinic(args: ServeClinicArgs) -> Result<ExitCode> {
    serve_clinic_until(&args, crate::serving::Lifecycle::console())
}

/// `serve-clinic` as `args` say, until stopped (Ctrl-C, or the Windows service manager).
pub fn serve_clinic_until(
    args: &ServeClinicArgs,
    lifecycle: crate::serving::Lifecycle,
) -> Result<ExitCode> {
    let tls = match (
        &args.node,
        args.tls_cert.as_deref().zip(args.tls_key.as_deref()),
    ) {
        (Some(node), _) => ServerTls::Node(node),
        (None, Some((cert, key))) => ServerTls::Files(cert, key),
        (None, None) => ServerTls::None,
    };
    let card_trust = args
        .trust
        .as_deref()
        .map(|path| crate::keys::read_public_key(path).map(|root| TrustAnchors::new(vec![root])))
        .transpose()?;
    serve_clinic(&args.db, args.listen, tls, card_trust, lifecycle)
}

pub fn run_standby(command: StandbyCommand) -> Result<ExitCode> {
    match command {
        StandbyCommand::Copy {
            data,
            into,
            as_user,
            keep,
            every,
            once,
        } => standby_copy(
            &data,
            &into,
            &as_user,
            keep,
            (!once).then(|| std::time::Duration::from_secs(every)),
        ),
        StandbyCommand::Promote { copy, db, as_user } => promote(&copy, &db, &as_user),
    }
}

pub fn run_workstation(command: WorkstationCommand) -> Result<ExitCode> {
    match command {
        WorkstationCommand::Join {
            server,
            facility,
            trust,
            data,
            name,
            wait,
        } => join(
            server.as_deref(),
            &facility,
            &trust,
            &data,
            &name,
            std::time::Duration::from_secs(wait),
        ),
        WorkstationCommand::Approve { db, as_user, id } => approve(&db, &as_user, &id),
        WorkstationCommand::List { db, as_user } => list(&db, &as_user),
        WorkstationCommand::Revoke { db, as_user, id } => revoke(&db, &as_user, &id),
    }
}
