//! SPNEGO mechanism OIDs.
