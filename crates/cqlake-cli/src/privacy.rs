//! `--pseudonymise` and `cqlake pseudonym`: the pseudonym key, from the environment or a file.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use cqlake_lake::Personal;
use cqlake_privacy::{KEY_ENV, PseudonymKey, Pseudonymiser};

use crate::args::{PseudonymArgs, PseudonymValuesArgs};

/// The pseudonym key: the bytes of `file`, else of the environment variable
/// [`KEY_ENV`]. Neither the key nor a part of it is ever in an error.
fn key(file: Option<&Path>) -> anyhow::Result<PseudonymKey> {
    if let Some(file) = file {
        return PseudonymKey::from_file(file).context("--pseudonym-key-file");
    }
    match std::env::var_os(KEY_ENV) {
        Some(v) if !v.is_empty() => {
            use std::os::unix::ffi::OsStrExt;
            PseudonymKey::new(v.as_bytes().to_vec()).context(KEY_ENV)
        }
        _ => bail!("no pseudonym key: set {KEY_ENV} or give --pseudonym-key-file FILE"),
    }
}

/// A pseudonymiser under the key of `file`, else of [`KEY_ENV`].
pub fn pseudonymiser(file: Option<&Path>) -> anyhow::Result<Pseudonymiser> {
    Ok(Pseudonymiser::new(&key(file)?))
}

impl PseudonymArgs {
    /// The pseudonymiser of a run with `--pseudonymise`, `None` without it.
    pub fn resolve(&self) -> anyhow::Result<Option<Pseudonymiser>> {
        if !self.pseudonymise {
            if self.pseudonym_key_file.is_some() {
                bail!("--pseudonym-key-file is the key of --pseudonymise: give both");
            }
            return Ok(None);
        }
        Ok(Some(Pseudonymiser::new(&key(self
            .pseudonym_key_file
            .as_deref())?)))
    }
}

/// What a writer with `p` writes into the personal columns.
pub fn personal(p: Option<&Pseudonymiser>) -> Personal {
    match p {
        None => Personal::Raw,
        Some(p) => Personal::Pseudonymised {
            fingerprint: p.fingerprint().to_string(),
        },
    }
}

/// `cqlake pseudonym`: one token a line, in the order of the values.
pub fn run(a: PseudonymValuesArgs) -> anyhow::Result<ExitCode> {
    let p = Pseudonymiser::new(&key(a.pseudonym_key_file.as_deref())?);
    if let Some(lake) = &a.lake {
        let lake = a.storage.apply(lake)?;
        let rt = crate::convert::runtime(1)?;
        match rt.block_on(cqlake_lake::pseudonym_fingerprint(&lake))? {
            Some(f) if f == p.fingerprint() => {}
            Some(f) => bail!(
                "{lake} is pseudonymised under another key (key {f}, given {})",
                p.fingerprint()
            ),
            None => bail!("{lake} is not pseudonymised: it holds the values themselves"),
        }
    }
    let mut out = std::io::stdout().lock();
    for v in &a.values {
        writeln!(out, "{}", p.token(v))?;
    }
    Ok(ExitCode::SUCCESS)
}
