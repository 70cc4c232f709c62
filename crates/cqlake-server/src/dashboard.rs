//! The dashboard's views: each a SQL file of `sql/dashboard/` (compiled in) whose header names
//! it, titles it and describes it, with `{grain}` and `{streams}` standing for the request's
//! trend unit and stream predicate ([`crate::filters`]).

use crate::filters::Filters;

/// A view of the dashboard.
#[derive(Debug, Clone, Copy)]
pub struct View {
    /// Its name in URLs (`quality`, `reliability`, …).
    pub name: &'static str,
    /// Its query, with `{grain}` and `{streams}` to fill in.
    pub sql: &'static str,
}

/// Every view.
pub const VIEWS: [View; 4] = [
    View {
        name: "quality",
        sql: include_str!("../../../sql/dashboard/quality.sql"),
    },
    View {
        name: "reliability",
        sql: include_str!("../../../sql/dashboard/reliability.sql"),
    },
    View {
        name: "networks",
        sql: include_str!("../../../sql/dashboard/networks.sql"),
    },
    View {
        name: "feedback",
        sql: include_str!("../../../sql/dashboard/feedback.sql"),
    },
];

impl View {
    /// The view called `name`.
    pub fn named(name: &str) -> Option<View> {
        VIEWS.iter().copied().find(|v| v.name == name)
    }

    /// Its title (the header's `-- title:`).
    pub fn title(&self) -> String {
        header(self.sql, "title")
    }

    /// What it shows (the header's `-- description:` and its continuation lines), by `grain`
    /// ("day or month" without one).
    pub fn description(&self, grain: Option<crate::filters::Grain>) -> String {
        header(self.sql, "description")
            .replace("{grain}", grain.map_or("day or month", |g| g.unit()))
    }

    /// Its query for `filters`: the template filled in, the header left out.
    pub fn render(&self, filters: &Filters) -> String {
        let body: String = self
            .sql
            .lines()
            .skip_while(|l| l.starts_with("--"))
            .map(|l| format!("{l}\n"))
            .collect();
        body.replace("{grain}", filters.grain.unit())
            .replace("{streams}", &filters.streams_predicate())
    }
}

/// The header field `key` of a SQL file: its `-- key:` line and the indented `--   ` lines that
/// follow it, joined.
fn header(sql: &str, key: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in sql.lines().take_while(|l| l.starts_with("--")) {
        let text = line.trim_start_matches("--");
        if let Some(v) = text.trim_start().strip_prefix(&format!("{key}:")) {
            out.push_str(v.trim());
            inside = true;
        } else if inside && text.starts_with("   ") {
            out.push(' ');
            out.push_str(text.trim());
        } else {
            inside = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_view_has_a_title_a_description_and_no_placeholder_left() {
        let f = Filters::parse(&Default::default(), cqlake_query::RuleSet::ALL[0]).unwrap();
        for v in VIEWS {
            assert!(!v.title().is_empty(), "{}", v.name);
            assert!(v.description(None).len() > 40, "{}", v.name);
            assert!(!v.description(Some(f.grain)).contains('{'));
            let sql = v.render(&f);
            assert!(!sql.contains('{'), "{}: {sql}", v.name);
            assert!(sql.trim_start().starts_with("SELECT") || sql.trim_start().starts_with("WITH"));
            assert_eq!(View::named(v.name).map(|x| x.name), Some(v.name));
        }
        assert!(View::named("nope").is_none());
        assert!(VIEWS[0].description(None).contains("2 % inside"));
    }
}
