//! The Kerberos security package (work in progress).
