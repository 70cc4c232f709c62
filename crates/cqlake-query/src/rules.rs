//! The classification rule sets and the views built on them, compiled in from `sql/`.

/// A published version of CQD's stream classification (see `sql/rules/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RuleSet {
    /// The long-standing rules (default).
    #[default]
    Classic,
    /// The 2020 revision (SATIN exceptions).
    Cqd2020,
    /// The 2021-08 revision (round trip, loss, jitter).
    Cqd2021,
    /// The current live page (those three, packet utilization > 500).
    Current,
}

impl RuleSet {
    /// Every rule set, oldest first.
    pub const ALL: [RuleSet; 4] = [
        RuleSet::Classic,
        RuleSet::Cqd2020,
        RuleSet::Cqd2021,
        RuleSet::Current,
    ];

    /// Its name (`cqd-classic`, `cqd-2020`, `cqd-2021`, `cqd-current`).
    pub fn name(self) -> &'static str {
        match self {
            RuleSet::Classic => "cqd-classic",
            RuleSet::Cqd2020 => "cqd-2020",
            RuleSet::Cqd2021 => "cqd-2021",
            RuleSet::Current => "cqd-current",
        }
    }

    /// The rule set called `name`.
    pub fn from_name(name: &str) -> Option<RuleSet> {
        RuleSet::ALL.into_iter().find(|r| r.name() == name)
    }

    /// Its SQL: a query over `stream_kind` adding `audio_reasons` (the thresholds crossed, comma
    /// separated), `audio_poor` and `audio_classified`.
    pub fn sql(self) -> &'static str {
        match self {
            RuleSet::Classic => include_str!("../../../sql/rules/cqd-classic.sql"),
            RuleSet::Cqd2020 => include_str!("../../../sql/rules/cqd-2020.sql"),
            RuleSet::Cqd2021 => include_str!("../../../sql/rules/cqd-2021.sql"),
            RuleSet::Current => include_str!("../../../sql/rules/cqd-current.sql"),
        }
    }

    /// Its description, from the file's header.
    pub fn description(self) -> String {
        header(self.sql())
    }
}

/// The views every engine registers, in order: name and query.
pub(crate) fn views(rules: RuleSet) -> [(&'static str, &'static str); 4] {
    [
        (
            "stream_kind",
            include_str!("../../../sql/views/stream_kind.sql"),
        ),
        ("stream_audio", rules.sql()),
        (
            "stream_quality",
            include_str!("../../../sql/views/stream_quality.sql"),
        ),
        (
            "stream_sides",
            include_str!("../../../sql/views/stream_sides.sql"),
        ),
    ]
}

/// The `-- description:` of a SQL file's header, with its continuation lines.
pub fn header(sql: &str) -> String {
    header_field(sql, "description")
}

/// The field `key` of a SQL file's header: its `-- key:` line and the indented `--   ` lines
/// that follow it, joined by spaces.
pub fn header_field(sql: &str, key: &str) -> String {
    let mut out = Vec::new();
    let mut on = false;
    for line in sql.lines() {
        let Some(text) = line.strip_prefix("--") else {
            break;
        };
        if let Some(d) = text
            .trim_start()
            .strip_prefix(key)
            .and_then(|r| r.strip_prefix(':'))
        {
            on = true;
            out.push(d.trim().to_string());
        } else if on && text.starts_with("   ") {
            out.push(text.trim().to_string());
        } else {
            on = false;
        }
    }
    out.join(" ")
}
