//! A small Kerberos V5 KDC (work in progress).
