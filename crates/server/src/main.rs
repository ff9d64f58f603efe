//! `sansuo`: the server binary.
//!
//! - `sansuo serve [--demo]`: migrate, then serve the API (and, with
//!   `--demo`, seed the demo district and allow demo resident logins);
//! - `sansuo migrate`: apply migrations and reference data, then exit (needs
//!   only `DATABASE_URL`);
//! - `sansuo admin create`: the district's first administrator on an empty
//!   database (needs only `DATABASE_URL`);
//! - `sansuo calendar import FILE`: import a year's public-holiday notice
//!   (the JSON of `data/calendar/2026.json`; needs only `DATABASE_URL`);
//! - `sansuo backup DIR` / `sansuo restore [--force] DIR`: the embedded
//!   default's database, photos and key files (deploy/BACKUP.md);
//! - `sansuo verify [--case ID]`: recompute the case events' hash chains and
//!   name the first broken link (exit 1), or report them whole (exit 0);
//! - `sansuo purge [--dry-run]`: enforce the retention periods
//!   (`SANSUO_RETENTION_*_DAYS`, docs/retention.md) now, or say what would go;
//! - `sansuo openapi`: print the OpenAPI document;
//! - `sansuo seed-demo`: seed the demo district into the configured database.

use clap::{Args, Parser, Subcommand};
use sansuo_server::backup::{self, EmbeddedData};
use sansuo_server::bootstrap::{NewAdministrator, create_administrator};
use sansuo_server::config::{DatabaseSettings, PhotoStoreSetting};
use sansuo_server::seed::{DEMO_PASSWORD, DemoDistrict, seed_demo};
use sansuo_server::{Application, Config, app, telemetry, verify};
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "sansuo",
    version,
    about = "三所联动 community legal-service backend"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (migrates first).
    Serve {
        /// Seed a demo district, allow demo logins, and accept missing secrets.
        #[arg(long)]
        demo: bool,
        /// With --demo: business time runs round the clock (nights and
        /// weekends count; a holiday entered stays one), so SLA targets and
        /// ladder steps pass at any hour of a demo or an end-to-end run.
        #[arg(long, requires = "demo")]
        round_the_clock: bool,
    },
    /// Apply migrations and reference data, then exit. Needs only DATABASE_URL.
    Migrate,
    /// Staff accounts from the command line (needs only DATABASE_URL).
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The business calendar (needs only DATABASE_URL).
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// Back up the embedded default (SQLite) while it runs: an online copy
    /// of the database, the photo directory and the key files, with a
    /// manifest of SHA-256 sums, into a new or empty DIR. PostgreSQL: see
    /// deploy/BACKUP.md.
    Backup { dir: std::path::PathBuf },
    /// Restore a backup made by `sansuo backup` (server stopped): the
    /// manifest is verified first; an existing database is only replaced
    /// with --force.
    Restore {
        /// Replace an existing database, photo directory and key files.
        #[arg(long)]
        force: bool,
        dir: std::path::PathBuf,
    },
    /// Recompute every case's event hash chain (or one case's) and name the
    /// first broken link: exit 0 when whole, 1 when broken or on error.
    /// Needs only DATABASE_URL (migrates first).
    Verify {
        /// Check only this case.
        #[arg(long)]
        case: Option<uuid::Uuid>,
    },
    /// Enforce the retention periods (`SANSUO_RETENTION_*_DAYS`,
    /// docs/retention.md) now, as the worker does hourly; prints what went
    /// as JSON. Needs only DATABASE_URL (migrates first).
    Purge {
        /// Change nothing; print what would go.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the OpenAPI document (`sansuo openapi > openapi/openapi.json`).
    Openapi,
    /// Seed the demo district into the configured database (a demo or an
    /// empty one; `--force` for any other).
    SeedDemo {
        /// Seed even into a database with accounts or units that are not
        /// the demo's (they get the demo's published passwords beside them).
        #[arg(long)]
        force: bool,
    },
}

/// Each staff login's Argon2 check allocates 19 MiB; glibc keeps such
/// blocks in its heaps after they are freed, so 140 logins grew the server
/// from 35 MB to 250 MB (BENCHMARKS.md). Serving allocations this large
/// from mmap returns them to the system at once.
#[allow(unsafe_code)]
fn return_large_allocations_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a district administrator (migrates first). With
    /// --password-stdin the password is read from the first line of standard
    /// input; otherwise one is generated and printed once.
    Create(CreateAdmin),
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Import a year's public-holiday notice from a JSON file in the format
    /// of data/calendar/2026.json. The file is checked whole (every bad entry
    /// named) before anything is written; importing the same notice again
    /// changes nothing; a corrected notice replaces the year's imported days.
    Import {
        /// The notice as JSON.
        file: std::path::PathBuf,
    },
}

#[derive(Args)]
struct CreateAdmin {
    /// Login name: 3 to 64 characters of a-z 0-9 . _ -
    #[arg(long)]
    username: String,
    /// The name colleagues see, e.g. 区管理员.
    #[arg(long = "display-name")]
    display_name: String,
    /// The district this administrator runs; made if no district has this name.
    #[arg(long)]
    district: String,
    /// Read the password (at least 10 characters) from standard input.
    #[arg(long = "password-stdin")]
    password_stdin: bool,
}

fn main() -> ExitCode {
    return_large_allocations_to_the_system();
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        // No configuration, no runtime: the spec is pure.
        println!(
            "{}",
            sansuo_api::openapi()
                .to_pretty_json()
                .expect("the spec serialises")
        );
        return ExitCode::SUCCESS;
    }
    telemetry::init();
    if let Command::Backup { .. } | Command::Restore { .. } = cli.command {
        let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
        return match runtime.block_on(run_backup_command(cli.command)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: {err:#}");
                ExitCode::FAILURE
            }
        };
    }
    if let Command::Migrate
    | Command::Admin(_)
    | Command::Calendar(_)
    | Command::Verify { .. }
    | Command::Purge { .. } = cli.command
    {
        // The database alone: a district migrates and makes its first
        // administrator before its secrets and WeChat credentials exist.
        let database = match DatabaseSettings::from_env() {
            Ok(database) => database,
            Err(errors) => {
                eprintln!("{errors}");
                return ExitCode::from(2);
            }
        };
        let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
        return match runtime.block_on(run_database_command(cli.command, database)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: {err:#}");
                ExitCode::FAILURE
            }
        };
    }
    let demo = matches!(
        cli.command,
        Command::Serve { demo: true, .. } | Command::SeedDemo { .. }
    );
    let config = match Config::from_env(demo) {
        Ok(config) => config,
        Err(errors) => {
            eprintln!("{errors}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve {
            demo,
            round_the_clock,
        } => {
            tracing::info!(?config, "starting");
            let application = Application::build(config.clone()).await?;
            if round_the_clock {
                tracing::warn!(
                    "demo: business time runs round the clock (--round-the-clock); SLA targets and ladder steps ignore office hours"
                );
                application.store.use_round_the_clock_calendar();
            }
            if demo {
                let district = seed_demo(&application.store, false).await?;
                print_demo(&district, application.port(), config.redis_url.is_some());
            }
            tracing::info!(port = application.port(), "listening");
            application.run_until_stopped().await?;
        }
        Command::SeedDemo { force } => {
            let store = app::open_store(&config.database()).await?;
            let district = seed_demo(&store, force).await?;
            print_accounts(&district);
        }
        Command::Openapi
        | Command::Migrate
        | Command::Admin(_)
        | Command::Calendar(_)
        | Command::Verify { .. }
        | Command::Purge { .. }
        | Command::Backup { .. }
        | Command::Restore { .. } => {
            unreachable!("handled before the configuration is read")
        }
    }
    Ok(())
}

async fn run_database_command(command: Command, database: DatabaseSettings) -> anyhow::Result<()> {
    // A notice is checked before the database is touched.
    let notice = match &command {
        Command::Calendar(CalendarCommand::Import { file }) => Some(read_notice(file)?),
        _ => None,
    };
    let store = app::open_store(&database).await?;
    match command {
        Command::Purge { dry_run } => {
            let vars = std::env::vars().collect();
            let mut problems = Vec::new();
            let policy = sansuo_server::config::read_retention(&vars, &mut problems);
            if !problems.is_empty() {
                anyhow::bail!("{}", problems.join("\n"));
            }
            let now = chrono::Utc::now();
            let report = store
                .retention()
                .purge(now, &policy.cutoffs(now), dry_run)
                .await?;
            // Photos in a directory: their files go too (in the database,
            // the purge took them).
            if !dry_run
                && let Ok(PhotoStoreSetting::Directory(dir)) = PhotoStoreSetting::read(
                    std::env::var("SANSUO_PHOTO_STORE").ok().as_deref(),
                    &database.url,
                )
            {
                use sansuo_media::PhotoStore as _;
                let photos = sansuo_media::LocalDirStore::open(&dir).await?;
                for key in &report.photo_keys {
                    photos.delete(key).await?;
                }
            }
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Command::Calendar(CalendarCommand::Import { .. }) => {
            let year = notice.expect("read above");
            let done = store.catalog().import_calendar_year(&year, "cli").await?;
            println!(
                "calendar {} {}{}: {} holiday dates, {} make-up working days",
                year.year,
                done.outcome.as_str(),
                if year.provisional {
                    " (provisional)"
                } else {
                    ""
                },
                year.holidays
                    .iter()
                    .map(|(a, b)| (*b - *a).num_days() + 1)
                    .sum::<i64>(),
                year.workdays.len(),
            );
            for day in &done.kept_by_hand {
                println!("  {day}: entered by hand before, left as it is");
            }
            let today = sansuo_domain::calendar::china_date(chrono::Utc::now());
            if let Some(warning) = store.catalog().calendar_coverage(today).await?.warning {
                println!("warning: {warning}");
            }
        }
        Command::Migrate => println!("migrations and reference data are up to date"),
        Command::Verify { case } => println!("{}", verify::verify(&store, case).await?),
        Command::Admin(AdminCommand::Create(args)) => {
            let password = if args.password_stdin {
                Some(read_password_line()?)
            } else {
                None
            };
            let created = create_administrator(
                &store,
                NewAdministrator {
                    username: args.username,
                    display_name: args.display_name,
                    district: args.district,
                    password,
                },
            )
            .await?;
            println!(
                "administrator `{}` created (staff id {}) for district {} ({})",
                created.username,
                created.staff_id,
                created.district_id,
                if created.district_created {
                    "new"
                } else {
                    "existing"
                }
            );
            if let Some(password) = created.generated_password {
                // Shown once; only its hash is kept.
                println!("password (shown once, change it after the first login): {password}");
            }
        }
        _ => unreachable!("only database commands come here"),
    }
    Ok(())
}

/// `backup` and `restore`: the database URL and the photo store only.
async fn run_backup_command(command: Command) -> anyhow::Result<()> {
    let database = DatabaseSettings::from_env().map_err(|e| anyhow::anyhow!("{e}"))?;
    let photos = PhotoStoreSetting::read(
        std::env::var("SANSUO_PHOTO_STORE").ok().as_deref(),
        &database.url,
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    let data = EmbeddedData::from_settings(&database.url, &photos)?;
    match command {
        Command::Backup { dir } => {
            let manifest = backup::backup(&data, &dir).await?;
            println!(
                "backed up {} files ({} bytes) into {}; keep it as private as the keys it holds",
                manifest.files.len(),
                manifest.bytes(),
                dir.display()
            );
        }
        Command::Restore { force, dir } => {
            let manifest = backup::restore(&data, &dir, force)?;
            println!(
                "restored {} files from the backup of {} into {}",
                manifest.files.len(),
                manifest.created_at,
                data.database.display()
            );
        }
        _ => unreachable!("only backup and restore come here"),
    }
    Ok(())
}

/// A notice file, parsed and checked whole: every problem is listed.
fn read_notice(file: &std::path::Path) -> anyhow::Result<sansuo_domain::calendar::PublishedYear> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let raw: sansuo_domain::calendar::PublishedYearText = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{} is not a calendar notice: {e}", file.display()))?;
    raw.check().map_err(|problems| {
        anyhow::anyhow!(
            "{} was not imported (nothing written):\n  {}",
            file.display(),
            problems.join("\n  ")
        )
    })
}

/// The first line of standard input, without its line ending.
fn read_password_line() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password for the new administrator (at least 10 characters): ");
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn print_demo(district: &DemoDistrict, port: u16, redis: bool) {
    let base = format!("http://127.0.0.1:{port}");
    println!();
    println!(
        "sansuo is running in DEMO mode ({}).",
        if redis {
            "Redis queue"
        } else {
            "SQLite + in-process queue"
        }
    );
    println!("  Console:    {base}/console/");
    println!("  API docs:   {base}/docs/");
    println!("  OpenAPI:    {base}/api/v1/openapi.json");
    println!("  Community QR scenes: hk-jjq (蒋家桥居委), hk-sq (商丘居委)");
    println!("  Resident login:  POST {base}/api/v1/auth/demo {{\"name\": \"xiaoming\"}}");
    print_accounts(district);
}

fn print_accounts(district: &DemoDistrict) {
    println!(
        "  Staff login:     POST /api/v1/auth/staff {{\"username\", \"password\"}}; every demo password is `{DEMO_PASSWORD}`"
    );
    for account in &district.accounts {
        println!(
            "    {:<16} {:<12} {:<8} {}",
            account.username, account.role, account.display_name, account.note
        );
    }
    println!();
}
