//! The logical plan codec of a cqlake cluster: Ballista's, plus the table providers an
//! [`Engine`](cqlake_query::Engine) registers that no stock codec carries.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use ballista_core::serde::BallistaLogicalExtensionCodec;
use cqlake_lake::FileTable;
use datafusion::catalog::TableProvider;
use datafusion::common::{DataFusionError, TableReference};
use datafusion::datasource::MemTable;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan};
use datafusion_proto::logical_plan::LogicalExtensionCodec;

/// The first bytes of a [`MemTable`] encoded here (its batches follow as an Arrow IPC stream).
const MEMORY_TABLE: &[u8] = b"cqlake-memory-table/1\n";

/// Ballista's logical codec plus two table providers: the lake's tables as
/// [`FileTable`]s (their file lists), and in-memory tables ([`MemTable`]: the building file,
/// the empty side tables of a lake without them), as their rows in Arrow IPC. Everything else
/// goes to Ballista's codec, as it would without this one.
#[derive(Debug, Default)]
pub struct LakeCodec {
    ballista: BallistaLogicalExtensionCodec,
}

impl LogicalExtensionCodec for LakeCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> datafusion::error::Result<Extension> {
        self.ballista.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> datafusion::error::Result<()> {
        self.ballista.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> datafusion::error::Result<Arc<dyn TableProvider>> {
        if FileTable::is_encoded(buf) {
            return Ok(Arc::new(FileTable::from_bytes(buf, schema)?));
        }
        if let Some(ipc) = buf.strip_prefix(MEMORY_TABLE) {
            let reader = StreamReader::try_new(ipc, None)?;
            let batches = reader.collect::<Result<Vec<_>, _>>()?;
            return Ok(Arc::new(MemTable::try_new(schema, vec![batches])?));
        }
        self.ballista
            .try_decode_table_provider(buf, table_ref, schema, ctx)
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> datafusion::error::Result<()> {
        if let Some(t) = node.downcast_ref::<FileTable>() {
            buf.extend_from_slice(&t.to_bytes());
            return Ok(());
        }
        if let Some(t) = node.downcast_ref::<MemTable>() {
            buf.extend_from_slice(MEMORY_TABLE);
            let mut w = StreamWriter::try_new(&mut *buf, &t.schema())?;
            for partition in &t.batches {
                let batches = partition.try_read().map_err(|_| {
                    DataFusionError::Internal(format!(
                        "{table_ref}: an in-memory table being written"
                    ))
                })?;
                for b in batches.iter() {
                    w.write(b)?;
                }
            }
            w.finish()?;
            return Ok(());
        }
        self.ballista
            .try_encode_table_provider(table_ref, node, buf)
    }
}
