//! The dashboard's views: each a SQL file of `sql/dashboard/` (compiled in) whose header names
//! it, titles it and describes it, with placeholders for the request's filters
//! ([`crate::filters`]):
//!
//! - `{grain}`: the trend unit (`day`, `month`);
//! - `{streams}`: the stream filters as a predicate on `stream_rollup` rows;
//! - `{sides}`: the same on `stream_sides` rows (and, for a user, their streams);
//! - `{dates}`: the dates on a side table's `start_date_time` (the engine's date window narrows
//!   the call tables only);
//! - `{by}`: a breakdown's dimension; `{find}`: the search text as a LIKE pattern;
//! - `{due_to}` and `{due_to_sides}`: the poor streams per reason as `due_to_<reason>`
//!   columns, summed from `stream_rollup` or counted from `stream_sides`.
//!
//! The user and call filters narrow every call table through the engine, so they apply to every
//! view but those of side tables.

use cqlake_query::sql_header_field as header;

use crate::filters::{DIMENSIONS, Filters, REASONS};

/// A view of the dashboard.
#[derive(Debug, Clone, Copy)]
pub struct View {
    /// Its name in URLs (`quality`, `reliability`, …).
    pub name: &'static str,
    /// Its query, with placeholders to fill in.
    pub sql: &'static str,
}

/// Every view.
pub const VIEWS: [View; 21] = [
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
    View {
        name: "scenarios",
        sql: include_str!("../../../sql/dashboard/scenarios.sql"),
    },
    View {
        name: "breakdown",
        sql: include_str!("../../../sql/dashboard/breakdown.sql"),
    },
    View {
        name: "poor-buildings",
        sql: include_str!("../../../sql/dashboard/poor-buildings.sql"),
    },
    View {
        name: "poor-subnets",
        sql: include_str!("../../../sql/dashboard/poor-subnets.sql"),
    },
    View {
        name: "poor-users",
        sql: include_str!("../../../sql/dashboard/poor-users.sql"),
    },
    View {
        name: "poor-calls",
        sql: include_str!("../../../sql/dashboard/poor-calls.sql"),
    },
    View {
        name: "call-streams",
        sql: include_str!("../../../sql/dashboard/call-streams.sql"),
    },
    View {
        name: "meeting",
        sql: include_str!("../../../sql/dashboard/meeting.sql"),
    },
    View {
        name: "user-calls",
        sql: include_str!("../../../sql/dashboard/user-calls.sql"),
    },
    View {
        name: "user-search",
        sql: include_str!("../../../sql/dashboard/user-search.sql"),
    },
    View {
        name: "usage",
        sql: include_str!("../../../sql/dashboard/usage.sql"),
    },
    View {
        name: "usage-hours",
        sql: include_str!("../../../sql/dashboard/usage-hours.sql"),
    },
    View {
        name: "pstn",
        sql: include_str!("../../../sql/dashboard/pstn.sql"),
    },
    View {
        name: "trunks",
        sql: include_str!("../../../sql/dashboard/trunks.sql"),
    },
    View {
        name: "sip-codes",
        sql: include_str!("../../../sql/dashboard/sip-codes.sql"),
    },
    View {
        name: "feedback-tokens",
        sql: include_str!("../../../sql/dashboard/feedback-tokens.sql"),
    },
    View {
        name: "feedback-measured",
        sql: include_str!("../../../sql/dashboard/feedback-measured.sql"),
    },
];

/// Views that read a rollup, as queries over `stream_sides` for a user's or a call's filters,
/// which the rollups kept in memory do not hold: computing the rollup for them would read every
/// column it groups by, these read only the ones they need.
const OVER_SIDES: [(&str, &str); 1] = [(
    "breakdown",
    include_str!("../../../sql/dashboard/breakdown-sides.sql"),
)];

impl View {
    /// The view called `name`.
    pub fn named(name: &str) -> Option<View> {
        VIEWS.iter().copied().find(|v| v.name == name)
    }

    /// Its title (the header's `-- title:`), for `filters` (a breakdown's names its dimension).
    pub fn title(&self, filters: &Filters) -> String {
        self.words(header(self.sql, "title"), filters)
    }

    /// What it shows (the header's `-- description:` and its continuation lines), for
    /// `filters`.
    pub fn description(&self, filters: &Filters) -> String {
        self.words(header(self.sql, "description"), filters)
    }

    fn words(&self, text: String, filters: &Filters) -> String {
        let by = DIMENSIONS
            .iter()
            .find(|(d, _)| *d == by(filters))
            .map_or("", |(_, words)| *words);
        text.replace(
            "{grain}",
            filters.grain.map_or("day or month", |g| g.unit()),
        )
        .replace("{by}", by)
    }

    /// The parameters of `filters` this view does not use (a PSTN view is not narrowed by a
    /// building, a trend of sessions not by a media kind, …).
    pub fn unused(&self, filters: &Filters) -> Vec<&'static str> {
        let has = |t: &str| self.sql.contains(t);
        let streams = has("{streams}") || has("{sides}");
        filters
            .set()
            .into_iter()
            .filter(|p| match *p {
                "from" | "to" => false,
                "rules" => !(streams || has("stream_quality") || has("rated_rollup")),
                "kind" | "building" | "subnet" | "network" | "client" => !streams,
                "user" | "call" => has("{dates}"),
                "grain" => !has("{grain}"),
                "by" => !has("{by}"),
                "find" => !has("{find}"),
                _ => true,
            })
            .collect()
    }

    /// Its query for `filters`: the template filled in, the header left out.
    pub fn render(&self, filters: &Filters) -> String {
        let template = match filters.user.is_some() || filters.call.is_some() {
            true => OVER_SIDES
                .iter()
                .find(|(name, _)| *name == self.name)
                .map_or(self.sql, |(_, sql)| *sql),
            false => self.sql,
        };
        let body: String = template
            .lines()
            .skip_while(|l| l.starts_with("--"))
            .map(|l| format!("{l}\n"))
            .collect();
        let due_to = |each: &dyn Fn(&str) -> String| {
            REASONS
                .iter()
                .map(|r| format!("{} AS due_to_{r}", each(r)))
                .collect::<Vec<_>>()
                .join(",\n    ")
        };
        body.replace("{grain}", filters.grain().unit())
            .replace("{streams}", &filters.streams_predicate())
            .replace("{sides}", &filters.sides_predicate())
            .replace("{dates}", &filters.dates_predicate())
            .replace("{days}", &filters.days_predicate())
            .replace("{find}", &filters.find_pattern())
            .replace("{by_sides}", &by_sides(filters))
            .replace("{by}", by(filters))
            .replace("{due_to}", &due_to(&|r| format!("sum(poor_{r})")))
            .replace(
                "{due_to_sides}",
                &due_to(&|r| {
                    format!("sum(CASE WHEN array_has(poor_reasons, '{r}') THEN 1 ELSE 0 END)")
                }),
            )
    }
}

/// The breakdown's dimension (default the connection type).
fn by(filters: &Filters) -> &'static str {
    filters.by.unwrap_or(DIMENSIONS[0].0)
}

/// The breakdown's dimension as a column of `stream_sides`: the sending side's for the capture
/// device and driver, the receiving side's for the rest (as `stream_rollup` takes them).
fn by_sides(filters: &Filters) -> String {
    match by(filters) {
        d if d.starts_with("capture_") => format!("tx_{d}"),
        d => format!("rx_{d}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn filters(pairs: &[(&str, &str)]) -> Filters {
        let params: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Filters::parse(&params).unwrap()
    }

    #[test]
    fn every_view_has_a_title_a_description_and_no_placeholder_left() {
        let f = filters(&[("grain", "day"), ("by", "wifi_band"), ("find", "jane")]);
        for v in VIEWS {
            assert!(!v.title(&f).is_empty(), "{}", v.name);
            assert!(v.description(&f).len() > 40, "{}", v.name);
            assert!(!v.description(&f).contains('{'), "{}", v.name);
            assert!(!v.title(&f).contains('{'), "{}", v.name);
            let sql = v.render(&f);
            assert!(!sql.contains('{'), "{}: {sql}", v.name);
            assert!(sql.trim_start().starts_with("SELECT") || sql.trim_start().starts_with("WITH"));
            assert_eq!(View::named(v.name).map(|x| x.name), Some(v.name));
            let header_name = header(v.sql, "name");
            assert_eq!(header_name, v.name, "the file names its view");
        }
        assert!(View::named("nope").is_none());
        let q = View::named("quality").unwrap();
        assert!(q.description(&Filters::default()).contains("2 % inside"));
        assert!(q.description(&Filters::default()).contains("day or month"));
        let b = View::named("breakdown").unwrap();
        assert_eq!(b.title(&f), "Poor streams by Wi-Fi band");
        assert!(
            b.render(&f)
                .contains("sum(poor_post_fec_packet_loss) AS due_to_post_fec_packet_loss")
        );
    }

    #[test]
    fn a_users_breakdown_reads_only_its_dimension_of_stream_sides() {
        let b = View::named("breakdown").unwrap();
        for (d, _) in DIMENSIONS {
            let column = if d.starts_with("capture_") {
                format!("tx_{d}")
            } else {
                format!("rx_{d}")
            };
            for key in ["user", "call"] {
                let f = filters(&[("by", d), (key, "x-1"), ("kind", "audio")]);
                let sql = b.render(&f);
                assert!(!sql.contains('{'), "{sql}");
                assert!(sql.contains("FROM stream_sides"), "{sql}");
                assert!(
                    sql.contains(&format!(
                        "coalesce(CAST({column} AS VARCHAR), '(unknown)') AS {d}"
                    )),
                    "{sql}"
                );
                assert!(!sql.contains("stream_rollup"), "{sql}");
                assert_eq!(b.title(&f), b.title(&filters(&[("by", d)])));
            }
            // Without them it reads the rollup.
            let sql = b.render(&filters(&[("by", d)]));
            assert!(sql.contains("FROM stream_rollup"), "{sql}");
        }
        // Every view renders whole for a user.
        let f = filters(&[("user", "x-1"), ("by", "wifi_band"), ("find", "a")]);
        for v in VIEWS {
            assert!(!v.render(&f).contains('{'), "{}", v.name);
        }
    }

    #[test]
    fn a_view_names_the_filters_it_does_not_use() {
        let f = filters(&[
            ("from", "2026-11-01"),
            ("building", "HQ"),
            ("user", "u"),
            ("grain", "day"),
        ]);
        let named = |n: &str| View::named(n).unwrap().unused(&f);
        assert!(named("quality").is_empty());
        assert_eq!(named("reliability"), ["building"]);
        assert_eq!(named("pstn"), ["building", "user"]);
        assert_eq!(named("scenarios"), ["grain"]);
    }
}
