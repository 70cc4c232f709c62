//! The built-in reports, compiled in from `sql/reports/`.

/// A built-in report.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    /// Its name (`summary`, `daily`, …).
    pub name: &'static str,
    /// Its query.
    pub sql: &'static str,
}

impl Report {
    /// What it shows, from the file's header.
    pub fn description(&self) -> String {
        crate::rules::header(self.sql)
    }

    /// How its rows are shown to a person, from the `-- percent:` lines of its header (see
    /// [`Presentation`](crate::Presentation)).
    pub fn presentation(&self) -> crate::Result<crate::Presentation> {
        crate::Presentation::from_header(self.sql)
    }

    /// The built-in report called `name`.
    pub fn named(name: &str) -> Option<Report> {
        REPORTS.iter().copied().find(|r| r.name == name)
    }
}

/// Every built-in report.
pub const REPORTS: [Report; 14] = [
    Report {
        name: "summary",
        sql: include_str!("../../../sql/reports/summary.sql"),
    },
    Report {
        name: "daily",
        sql: include_str!("../../../sql/reports/daily.sql"),
    },
    Report {
        name: "networks",
        sql: include_str!("../../../sql/reports/networks.sql"),
    },
    Report {
        name: "buildings",
        sql: include_str!("../../../sql/reports/buildings.sql"),
    },
    Report {
        name: "clients",
        sql: include_str!("../../../sql/reports/clients.sql"),
    },
    Report {
        name: "devices",
        sql: include_str!("../../../sql/reports/devices.sql"),
    },
    Report {
        name: "users",
        sql: include_str!("../../../sql/reports/users.sql"),
    },
    Report {
        name: "feedback",
        sql: include_str!("../../../sql/reports/feedback.sql"),
    },
    Report {
        name: "failures",
        sql: include_str!("../../../sql/reports/failures.sql"),
    },
    Report {
        name: "queues",
        sql: include_str!("../../../sql/reports/queues.sql"),
    },
    Report {
        name: "recordings",
        sql: include_str!("../../../sql/reports/recordings.sql"),
    },
    Report {
        name: "pstn",
        sql: include_str!("../../../sql/reports/pstn.sql"),
    },
    Report {
        name: "direct-routing",
        sql: include_str!("../../../sql/reports/direct-routing.sql"),
    },
    Report {
        name: "unexported",
        sql: include_str!("../../../sql/reports/unexported.sql"),
    },
];
