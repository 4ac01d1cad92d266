//! The NTLM package as a plugin library (work in progress).
