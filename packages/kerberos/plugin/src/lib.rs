//! The Kerberos package as a plugin library: `libsspi_kerberos.so` (`sspi_kerberos.dll`).
//! Select it in the registry with `"Providers"="sspi_kerberos.dll"`.

sspi_core::export_library!(sspi_package_kerberos::KERBEROS_LIBRARY);
