//! The Example package as a plugin library: `libsspi_example.so` (`sspi_example.dll`).
//! Select it in the registry with `"Providers"="sspi_example.dll"`.

sspi_core::export_library!(sspi_package_example::EXAMPLE_LIBRARY);
