//! The national clouds: where Graph and the sign-in endpoint are.

use crate::{Error, Result};

/// A Microsoft cloud that serves call records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    /// The global service (`graph.microsoft.com`, `login.microsoftonline.com`).
    Global,
    /// US Government L4 (`graph.microsoft.us`, `login.microsoftonline.us`).
    UsGov,
    /// US Government L5, DoD (`dod-graph.microsoft.us`, `login.microsoftonline.us`).
    UsGovDod,
}

impl Cloud {
    /// The cloud named `name` (`global`, `usgov`, `usgovdod`). The China cloud (21Vianet) does
    /// not offer call records and is refused with that reason.
    pub fn named(name: &str) -> Result<Cloud> {
        match name.to_ascii_lowercase().as_str() {
            "global" => Ok(Cloud::Global),
            "usgov" | "usgovl4" => Ok(Cloud::UsGov),
            "usgovdod" | "usgovl5" | "dod" => Ok(Cloud::UsGovDod),
            "china" | "21vianet" => Err(Error::Config(
                "the China cloud (21Vianet) does not offer Microsoft Graph call records".into(),
            )),
            other => Err(Error::Config(format!(
                "no cloud {other:?}: global, usgov or usgovdod"
            ))),
        }
    }

    /// The root of Graph, without a version (`https://graph.microsoft.com`).
    pub fn graph_url(self) -> &'static str {
        match self {
            Cloud::Global => "https://graph.microsoft.com",
            Cloud::UsGov => "https://graph.microsoft.us",
            Cloud::UsGovDod => "https://dod-graph.microsoft.us",
        }
    }

    /// The root of the sign-in service (`https://login.microsoftonline.com`).
    pub fn login_url(self) -> &'static str {
        match self {
            Cloud::Global => "https://login.microsoftonline.com",
            Cloud::UsGov | Cloud::UsGovDod => "https://login.microsoftonline.us",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cloud;

    #[test]
    fn clouds_and_china() {
        assert_eq!(
            Cloud::named("usgovdod").unwrap().graph_url(),
            "https://dod-graph.microsoft.us"
        );
        assert_eq!(
            Cloud::named("UsGov").unwrap().login_url(),
            "https://login.microsoftonline.us"
        );
        let e = Cloud::named("china").unwrap_err().to_string();
        assert!(e.contains("does not offer"), "{e}");
    }
}
