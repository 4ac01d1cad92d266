//! The Negotiate security package as a plugin library: `libsspi_negotiate.so` (`sspi_negotiate.dll`).
//! Select it in the registry with `"Providers"="sspi_negotiate.dll"`.

sspi_core::export_library!(sspi_package_negotiate::NEGOTIATE_LIBRARY);
