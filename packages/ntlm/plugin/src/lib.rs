//! The NTLM security package as a plugin library: `libsspi_ntlm.so` (`sspi_ntlm.dll`).
//! Select it in the registry with `"Providers"="sspi_ntlm.dll"`.

sspi_core::export_library!(sspi_package_ntlm::NTLM_LIBRARY);
