//! Where the libraries' `tracing` events go: the servers and the command line write lines
//! to standard error (text, or JSON with `--log-format json`); the desktop app writes a
//! file a day in its data folder (`logs/`, fourteen kept), panics included. The level is
//! `KARTIKA_LOG` (`info` unless set; `warn`, `debug`, or per target as `tracing` reads it).

use std::path::Path;

use tracing_subscriber::EnvFilter;

/// The variable naming the level.
const LEVEL_ENV: &str = "KARTIKA_LOG";
/// The app's log files kept, one a day.
const DAYS_KEPT: usize = 14;

/// How a server's lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// A line of words per event.
    #[default]
    Text,
    /// A JSON object per line, for a log collector.
    Json,
}

fn filter() -> EnvFilter {
    EnvFilter::try_from_env(LEVEL_ENV).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Standard error, for the servers and the command line.
pub fn to_stderr(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(std::io::stderr)
        .with_ansi(false);
    // Set once per process; a second attempt (a test calling twice) keeps the first.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// A file a day in `folder/logs`, for the desktop app; panics are written there too. The
/// guard flushes the last lines when the app ends.
pub fn to_daily_files(folder: &Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    // The data folder is made closed to other users before the logs are made in it; the
    // appender looks for old files to prune before it makes its folder, and says so on
    // standard error when there is none yet.
    if let Err(e) = crate::places::private_folder(folder) {
        eprintln!("{e:#}");
    }
    let folder = folder.join("logs");
    let _ = std::fs::create_dir_all(&folder);
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("kartika")
        .filename_suffix("log")
        .max_log_files(DAYS_KEPT)
        .build(&folder);
    let appender = match appender {
        Ok(appender) => appender,
        Err(e) => {
            eprintln!(
                "cannot write logs in {}: {e}; logging to standard error",
                folder.display()
            );
            to_stderr(LogFormat::Text);
            return None;
        }
    };
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(writer)
        .with_ansi(false)
        .try_init();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |panic| {
        tracing::error!(target: "kartika::panic", "{panic}");
        previous(panic);
    }));
    Some(guard)
}
