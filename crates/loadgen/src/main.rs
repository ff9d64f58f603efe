//! `sansuo-loadgen [all|references|intake|board|route|mixed|size] [--smoke] ...`
//! Prints a summary table and writes `bench-results/<UTC timestamp>.json`.

use clap::Parser;
use sansuo_loadgen::Cli;
use std::process::ExitCode;

fn main() -> ExitCode {
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
