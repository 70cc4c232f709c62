//! Reading the lake: every table registered for SQL at the versions of the latest finished group.

use std::path::Path;
use std::sync::Arc;

use cqlake_schema::TableId;
use datafusion::prelude::SessionContext;

use crate::Result;
use crate::group::recorded_versions;
use crate::table::{delta_err, query_err, table_url};

/// Registers every table of the lake at `root` in `ctx` under its name, each at the version the
/// latest finished group recorded, so a query sees whole groups only, even while a convert runs.
/// A plain Parquet export ([`is_parquet_export`](crate::is_parquet_export)) is registered as
/// listings of its files instead.
pub async fn register_lake(ctx: &SessionContext, root: &Path) -> Result<()> {
    if crate::parquet_in::is_parquet_export(root) {
        return crate::parquet_in::register_parquet_export(ctx, root).await;
    }
    let calls_url = table_url(root, TableId::Calls)?;
    let calls = deltalake::open_table(calls_url)
        .await
        .map_err(delta_err(TableId::Calls))?;
    let versions = recorded_versions(&calls).await?;
    for t in TableId::ALL {
        let table = if t == TableId::Calls && versions[0] == calls.version() {
            calls.clone()
        } else {
            let url = table_url(root, t)?;
            match versions[t.index()] {
                Some(v) => deltalake::open_table_with_version(url, v).await,
                None => deltalake::open_table(url).await,
            }
            .map_err(delta_err(t))?
        };
        table
            .update_datafusion_session(&ctx.state())
            .map_err(delta_err(t))?;
        // With the session, the scan takes its Parquet settings from it: filters are then
        // evaluated after decoding (DataFusion's default) and still prune files. Without it,
        // deltalake pushes every filter into the Parquet decoder, which for the views'
        // classification decodes most columns twice and evaluates the CASE chains twice.
        let provider = table
            .table_provider()
            .with_session(Arc::new(ctx.state()))
            .await
            .map_err(query_err(t))?;
        ctx.register_table(t.name(), provider)
            .map_err(query_err(t))?;
    }
    crate::side::register_side_tables(ctx, root).await
}
