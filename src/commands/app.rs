//! `kartika demo` and `kartika app`: the desktop app, on the demo world or on a
//! Puskesmas's own data folder.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Args;
use kartika_app::workers::remote::ServerLink;
use kartika_app::{AppConfig, DemoConfig};
use kartika_card::crypto::TrustAnchors;
use kartika_demo::{DemoWorld, InProcessRegistry, SeedSize};
use kartika_store::SystemClock;
use kartika_sync::SyncConfig;

use crate::keys;

/// Where the demo lives unless told otherwise: the user's local data folder.
/// The demo's folder as `args` give it.
pub fn demo_dir(args: &DemoArgs) -> PathBuf {
    args.data.clone().unwrap_or_else(default_demo_dir)
}

fn default_demo_dir() -> PathBuf {
    crate::places::user_data().join("demo")
}

fn demo_bpjs(world: &DemoWorld) -> Option<kartika_bpjs::fake::FakeBpjs> {
    if std::env::var("KARTIKA_DEMO_BPJS").as_deref() == Ok("off") {
        if let Err(e) = kartika_bpjs::settings::forget(&world.store_path) {
            eprintln!("{e}");
        }
        return None;
    }
    let fake = kartika_demo::start_bpjs(world)
        .map_err(|e| eprintln!("{e}; the demo runs without BPJS"))
        .ok()?;
    if let Some(ms) = std::env::var("KARTIKA_DEMO_BPJS_DELAY_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
    {
        fake.answer_after(std::time::Duration::from_millis(ms));
    }
    Some(fake)
}

/// Whether this process can open a window (on Linux: an X11 or Wayland display).
fn has_display() -> bool {
    if cfg!(target_os = "linux") {
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
    } else {
        true
    }
}

fn require_display() -> Result<()> {
    if !has_display() {
        bail!(
            "there is no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set); \
             run this on the desktop, or under a virtual one: xvfb-run -a kartika demo"
        );
    }
    Ok(())
}

/// `KARTIKA_TIMINGS=1` makes the app report its first frame and each tap-to-screen time
/// on standard error, for docs/benchmarks.md.
fn timings_requested() -> Option<std::time::Instant> {
    std::env::var_os("KARTIKA_TIMINGS").and_then(|_| crate::STARTED.get().copied())
}

/// Whether pcscd answers: then readers (and vpcd's virtual ones) are watched.
fn pcsc_available() -> bool {
    kartika_reader::ReaderContext::establish().is_ok()
}

/// Requests a second the demo sends SATUSEHAT, as a Puskesmas's default.
const SATUSEHAT_PACE: u32 = 5;

pub fn demo(data: Option<PathBuf>, fresh: bool, size: SeedSize) -> Result<ExitCode> {
    require_display()?;
    let dir = data.unwrap_or_else(default_demo_dir);
    eprintln!("demo data: {} (--fresh starts over)", dir.display());
    let world = DemoWorld::open_or_create(&dir, fresh, size)?;
    let registry = InProcessRegistry::start(&world.registry_path, Some(world.receipts.clone()))?;
    // Finished visits go to a SATUSEHAT of the demo's own, at the pace a Puskesmas would
    // set (the backlog drains while one watches); without it the demo goes on.
    let satusehat = kartika_demo::start_satusehat(&world, SATUSEHAT_PACE)
        .map_err(|e| eprintln!("{e}; the demo runs without SATUSEHAT"))
        .ok();
    // The desk's BPJS check asks a BPJS of the demo's own. For docs/benchmarks.md,
    // KARTIKA_DEMO_BPJS=off runs the demo without BPJS and KARTIKA_DEMO_BPJS_DELAY_MS
    // makes its BPJS answer that late.
    let bpjs = demo_bpjs(&world);
    let config = AppConfig {
        store_path: world.store_path.clone(),
        output_dir: dir.clone(),
        trust: TrustAnchors::new(vec![world.root.clone()]),
        pcsc: pcsc_available(),
        sync: Some(SyncConfig::new(&registry.url(), &world.token)),
        server: None,
        demo: Some(DemoConfig {
            accounts: world.accounts.clone(),
            tray: world.tray.clone(),
        }),
        terminal: Some(world.node.clone()),
        clock: Arc::new(SystemClock),
        wake_hook: None,
        report_timings: timings_requested(),
    };
    kartika_app::run(config).map_err(|e| anyhow::anyhow!("the window could not open: {e}"))?;
    drop(registry);
    drop(satusehat);
    drop(bpjs);
    Ok(ExitCode::SUCCESS)
}

/// The registry's root public key, in the data folder when --trust is not given.
const ROOT_KEY: &str = "root.pub";

pub struct AppPaths<'a> {
    pub data: &'a Path,
    pub trust: &'a Path,
    pub registry: Option<&'a str>,
    pub token_file: Option<&'a Path>,
    pub ca_file: Option<&'a Path>,
    pub server: Option<&'a str>,
    pub server_ca: Option<&'a Path>,
}

pub fn app(args: &AppPaths<'_>) -> Result<ExitCode> {
    require_display()?;
    crate::places::private_folder(args.data)?;
    if !args.trust.exists() {
        bail!(
            "there is no registry root key at {}: copy the root key the registry gave this Puskesmas there, or give its place with --trust",
            args.trust.display()
        );
    }
    let root = keys::read_public_key(args.trust)?;
    let sync = match (args.registry, args.token_file) {
        (Some(url), Some(token_file)) => {
            let token = std::fs::read_to_string(token_file)
                .with_context(|| format!("cannot read {}", token_file.display()))?;
            let mut config = SyncConfig::new(url, &token);
            if let Some(ca) = args.ca_file {
                config.ca_pem = Some(
                    std::fs::read(ca).with_context(|| format!("cannot read {}", ca.display()))?,
                );
            }
            Some(config)
        }
        (None, None) => kartika_app::workstation::read_registry(args.data)
            .with_context(|| format!("cannot read the registry link in {}", args.data.display()))?
            .map(|link| SyncConfig::new(&link.url, &link.token)),
        _ => bail!("--registry and --token-file go together (or leave both out to run standalone)"),
    };
    let server = args
        .server
        .map(|url| -> Result<ServerLink> {
            let ca_pem = args
                .server_ca
                .map(|ca| {
                    std::fs::read(ca).with_context(|| format!("cannot read {}", ca.display()))
                })
                .transpose()?;
            Ok(ServerLink::Url {
                url: url.to_owned(),
                ca_pem,
            })
        })
        .transpose()?
        // A workstation joined with `kartika workstation join` keeps its link in its folder.
        .map_or_else(
            || {
                crate::commands::lan::joined_link(args.data).map(|link| {
                    link.map(|link| ServerLink::Puskesmas {
                        link,
                        folder: args.data.to_owned(),
                    })
                })
            },
            |link| Ok(Some(link)),
        )?;
    let config = AppConfig {
        store_path: args.data.join("clinic.sqlite"),
        output_dir: args.data.to_owned(),
        trust: TrustAnchors::new(vec![root]),
        pcsc: true,
        sync,
        server,
        demo: None,
        terminal: terminal_credentials(args.data)?,
        clock: Arc::new(SystemClock),
        wake_hook: None,
        report_timings: timings_requested(),
    };
    kartika_app::run(config).map_err(|e| anyhow::anyhow!("the window could not open: {e}"))?;
    Ok(ExitCode::SUCCESS)
}

/// The workstation's terminal key and certificate, when the registry has certified its
/// node key (`node.cert` beside `node.key`): then the poli writes visits to cards.
fn terminal_credentials(data: &Path) -> Result<Option<kartika_card::crypto::NodeCredentials>> {
    if !data.join("node.cert").exists() {
        eprintln!(
            "no node.cert in {}: the poli reads cards but does not write to them",
            data.display()
        );
        return Ok(None);
    }
    keys::read_node_credentials(data).map(Some)
}

/// `kartika display`: the waiting room's screen, on a joined workstation (`data`) or a
/// server by its URL.
pub fn display(
    data: Option<&Path>,
    server: Option<&str>,
    server_ca: Option<&Path>,
    english: bool,
) -> Result<ExitCode> {
    require_display()?;
    let link = match (server, data) {
        (Some(url), _) => ServerLink::Url {
            url: url.to_owned(),
            ca_pem: server_ca
                .map(|ca| std::fs::read(ca).with_context(|| format!("cannot read {}", ca.display())))
                .transpose()?,
        },
        (None, Some(data)) => ServerLink::Puskesmas {
            link: crate::commands::lan::joined_link(data)?.with_context(|| {
                format!(
                    "{} is not a workstation's folder; join this PC first (kartika workstation join)",
                    data.display()
                )
            })?,
            folder: data.to_owned(),
        },
        (None, None) => bail!("give --data (this PC's workstation folder) or --server URL"),
    };
    let lang = if english {
        kartika_app::text::Lang::En
    } else {
        kartika_app::text::Lang::Id
    };
    kartika_app::run_display(kartika_app::display::DisplayConfig {
        server: link,
        lang,
        announce: kartika_app::display::speaker(lang),
        wake_hook: None,
    })
    .map_err(|e| anyhow::anyhow!("the window could not open: {e}"))?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct DemoArgs {
    /// The demo's folder (default: the user's local data folder, kartika/demo).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Throw the demo's data away and start over.
    #[arg(long)]
    pub fresh: bool,
    /// Patients to seed a new demo with (the benchmarks use 200000).
    #[arg(long, default_value_t = 3_000)]
    pub patients: u32,
    /// Visits to seed a new demo with (the benchmarks use 1000000).
    #[arg(long, default_value_t = 20_000)]
    pub visits: u32,
}

#[derive(Args)]
pub struct AppArgs {
    /// The data folder: clinic.sqlite and printed tickets (made closed to other users).
    #[arg(long, default_value_os_t = crate::places::user_data())]
    pub data: PathBuf,
    /// The registry's root public key (PEM) that cards must chain to [default: root.pub in
    /// the data folder].
    #[arg(long)]
    pub trust: Option<PathBuf>,
    /// The registry to sync with, for example https://registry.example:8700.
    #[arg(long)]
    pub registry: Option<String>,
    /// A file holding the node's access token.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// PEM certificates to trust for an https registry.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// The Puskesmas's server (`kartika serve-clinic`), for a workstation whose store
    /// is there, for example https://192.168.1.10:7443.
    #[arg(long)]
    pub server: Option<String>,
    /// PEM certificates the server's certificate must chain to.
    #[arg(long, requires = "server")]
    pub server_ca: Option<PathBuf>,
}

#[derive(Args)]
pub struct DisplayArgs {
    /// This PC's workstation folder (kartika workstation join).
    #[arg(long, required_unless_present = "server")]
    pub data: Option<PathBuf>,
    /// Or the server's URL.
    #[arg(long)]
    pub server: Option<String>,
    /// PEM certificates the server's must chain to (with --server).
    #[arg(long, requires = "server")]
    pub server_ca: Option<PathBuf>,
    /// In English instead of Bahasa Indonesia.
    #[arg(long)]
    pub english: bool,
}

pub fn run_demo(args: DemoArgs) -> Result<ExitCode> {
    demo(
        args.data,
        args.fresh,
        SeedSize {
            patients: args.patients,
            visits: args.visits,
            days: SeedSize::DEMO.days,
        },
    )
}

pub fn run_app(args: AppArgs) -> Result<ExitCode> {
    // The Start menu's entry runs `kartika app` bare: the root key sits in the data folder.
    let trust = args.trust.unwrap_or_else(|| args.data.join(ROOT_KEY));
    app(&AppPaths {
        data: &args.data,
        trust: &trust,
        registry: args.registry.as_deref(),
        token_file: args.token_file.as_deref(),
        ca_file: args.ca_file.as_deref(),
        server: args.server.as_deref(),
        server_ca: args.server_ca.as_deref(),
    })
}

pub fn run_display(args: DisplayArgs) -> Result<ExitCode> {
    display(
        args.data.as_deref(),
        args.server.as_deref(),
        args.server_ca.as_deref(),
        args.english,
    )
}
