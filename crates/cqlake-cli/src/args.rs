//! Command-line arguments (clap). Only this binary sees them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Call-quality analytics over Microsoft Graph call records.
#[derive(Debug, Parser)]
#[command(name = "cqlake", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Convert Graph call-record exports into the lake.
    Convert(ConvertArgs),
    /// Print the lake's tables: columns, types and the Graph property each comes from.
    Schema(SchemaArgs),
}

/// Output storage of `convert`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Delta Lake tables under `--lake` (upserts by call version; re-runs never duplicate).
    Delta,
    /// Plain Parquet files under `--out` (a one-shot export, no log).
    Parquet,
}

/// `cqlake convert`.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Files, directories (recursive), glob patterns, or `-` for standard input. Gzip and zstd
    /// are recognised by content.
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// The lake directory (Delta format).
    #[arg(long, required_if_eq("format", "delta"))]
    pub lake: Option<PathBuf>,
    /// Output storage.
    #[arg(long, value_enum, default_value_t = Format::Delta)]
    pub format: Format,
    /// Output directory for `--format parquet`.
    #[arg(long, required_if_eq("format", "parquet"))]
    pub out: Option<PathBuf>,
    /// Parse/flatten threads (default: all CPUs; env CQLAKE_THREADS).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Stop at the first bad record (exit 2) instead of quarantining it.
    #[arg(long)]
    pub strict: bool,
    /// No progress bar and no summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `cqlake schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Only this table.
    pub table: Option<String>,
    /// As the Markdown reference the README embeds.
    #[arg(long)]
    pub markdown: bool,
}
