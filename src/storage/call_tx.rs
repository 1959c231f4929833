//! The transaction an ingest batch or a settle sweep runs in, and the call key that both its
//! reads (`call_state.rs`) and its writes (`call_writes.rs`) speak of. Both depend on this
//! file and neither on the other.

use super::store::Tx;

/// A call key of one source: `call_keys`' primary key, `(source id, key)`.
pub type KeyId = (String, String);

/// An open transaction over calls; dropped without [`CallTx::commit`], nothing is kept.
pub struct CallTx<'a> {
    pub(super) tx: Tx<'a>,
}
