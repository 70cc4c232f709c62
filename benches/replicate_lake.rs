//! `replicate-lake FROM TO (--copies N | --streams N) [--tables a,b] [--days N] [--threads N]`: a large
//! lake for query benchmarks, made of shifted copies of a converted one (see
//! [`cqlake_benches::replicate`]).

use std::process::ExitCode;

use cqlake_benches::replicate::{Replication, replicate};
use cqlake_schema::TableId;

fn usage() -> ExitCode {
    eprintln!(
        "usage: replicate-lake FROM TO (--copies N | --streams N) [--tables calls,sessions,streams] [--days N] [--threads N]\n\
         --streams N: as many copies as it takes to reach N rows of streams\n\
         --days N: spread the copies over about N days (default: each copy after the last)"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut positional = Vec::new();
    let mut settings = Replication::default();
    let mut streams: Option<u64> = None;
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--copies" => match value.parse() {
                Ok(n) => settings.copies = n,
                Err(_) => return usage(),
            },
            "--streams" => match value.parse() {
                Ok(n) => streams = Some(n),
                Err(_) => return usage(),
            },
            "--days" => match value.parse() {
                Ok(n) => settings.days = Some(n),
                Err(_) => return usage(),
            },
            "--threads" => match value.parse() {
                Ok(n) => settings.threads = n,
                Err(_) => return usage(),
            },
            "--tables" => {
                let mut tables = Vec::new();
                for name in value.split(',') {
                    match TableId::ALL.into_iter().find(|t| t.name() == name) {
                        Some(t) => tables.push(t),
                        None => {
                            eprintln!("{name:?}: no such table");
                            return usage();
                        }
                    }
                }
                settings.tables = tables;
            }
            a if a.starts_with('-') => return usage(),
            a => {
                positional.push(a.to_string());
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    let [from, to] = positional.as_slice() else {
        return usage();
    };
    if let Some(target) = streams {
        let have = match cqlake_benches::replicate::rows(from.as_ref(), TableId::Streams) {
            Ok(n) => n,
            Err(e) => {
                eprintln!("replicate-lake: {e}");
                return ExitCode::FAILURE;
            }
        };
        settings.copies = target.div_ceil(have.max(1)) as u32;
    }
    let start = std::time::Instant::now();
    match replicate(from.as_ref(), to.as_ref(), &settings) {
        Ok(stats) => {
            eprintln!(
                "replicate-lake: {} copies of {from} into {to} in {:.1} s; rows {:?} (calls, participants, sessions, segments, media, streams)",
                settings.copies,
                start.elapsed().as_secs_f64(),
                stats.rows
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("replicate-lake: {e}");
            ExitCode::FAILURE
        }
    }
}
