//! The SPNEGO tokens (RFC 4178 §4.2, MS-SPNG §2.2): DER codec.
