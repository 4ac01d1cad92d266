//! The Test security package as a plugin library: `libsspi_test.so` (`sspi_test.dll`).
//! Select it in the registry with `"Providers"="sspi_test.dll"`.

sspi_core::export_library!(sspi_package_test::TEST_LIBRARY);
