//! The NTLM security package (work in progress).
