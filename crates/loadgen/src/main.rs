//! `sansuo-loadgen [all|references|intake|board|route|mixed|size] [--smoke] ...`
//! Prints a summary table and writes `bench-results/<UTC timestamp>.json`.
//!
//! `sansuo-loadgen drill [--short] ...` runs the cluster drill instead
//! (`scripts/cluster.sh`): prints its table, exits 1 when a must-be-zero
//! count is not zero.

use clap::Parser;
use sansuo_loadgen::Cli;
use sansuo_loadgen::drill::DrillCli;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("drill") {
        args.remove(1);
        return drill(DrillCli::parse_from(args));
    }
    let options = Cli::parse().options();
    // A small client: by default one thread, so the server under test keeps
    // most of a two-core machine (pgbench gets the same number of threads).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.client_threads)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let out_dir = options.out_dir.clone();
    match runtime.block_on(sansuo_loadgen::run(options)) {
        Ok(report) => {
            println!("{}", report.table());
            match report.write_json(&out_dir) {
                Ok(path) => println!("results: {}", path.display()),
                Err(e) => eprintln!("could not write the results: {e:#}"),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("benchmark failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn drill(cli: DrillCli) -> ExitCode {
    // Two threads: a fault being injected (pg_ctl waits) never stalls the
    // clients.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(sansuo_loadgen::drill::run(cli.options())) {
        Ok(report) => {
            println!("{}", report.table);
            if report.passed {
                println!("drill passed");
                ExitCode::SUCCESS
            } else {
                println!("drill FAILED: a must-be-zero count is not zero (see above)");
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("drill failed to run: {e:#}");
            ExitCode::from(2)
        }
    }
}
