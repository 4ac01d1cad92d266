//! The Kerberos package as a plugin library (work in progress).
