//! The macros a package crate uses to declare and export its library.

/// Declares a package library: a `static` of type [`crate::ffi::LibraryExports`]
/// listing the packages, registered as a built-in (selected in the registry as
/// `builtin:NAME`) for any host that links the crate.
///
/// ```text
/// sspi_core::declare_library!(pub TEST_LIBRARY = "test" => [TestPackageFactory]);
/// ```
#[macro_export]
macro_rules! declare_library {
    ($vis:vis $static_name:ident = $name:literal => [$($factory:ty),+ $(,)?]) => {
        #[doc = concat!("The `", $name, "` package library (also built in as `builtin:", $name, "`).")]
        $vis static $static_name: $crate::ffi::LibraryExports = $crate::ffi::LibraryExports {
            name: $name,
            packages: {
                extern "C" fn packages() -> $crate::abi_stable::std_types::RResult<
                    $crate::abi_stable::std_types::RVec<$crate::ffi::PackageDescriptor>,
                    $crate::SecurityError,
                > {
                    $crate::adapter::list_packages(|| {
                        ::std::vec![$($crate::adapter::descriptor::<$factory>()),+]
                    })
                }
                packages
            },
        };

        $crate::inventory::submit! {
            $crate::ffi::BuiltinLibrary(&$static_name)
        }
    };
}

/// Exports a declared library as this dynamic library's root module, so that
/// a host can load it as a plugin. Use it once, in a `cdylib` crate (the crate
/// needs `abi_stable` as a dependency for the generated code).
///
/// ```text
/// sspi_core::export_library!(sspi_package_test::TEST_LIBRARY);
/// ```
#[macro_export]
macro_rules! export_library {
    ($library:path) => {
        /// The root module the host loads.
        #[::abi_stable::export_root_module]
        pub fn sspi_library_root_module() -> $crate::ffi::SspiLibraryRef {
            use $crate::abi_stable::prefix_type::PrefixTypeTrait;
            $crate::ffi::SspiLibrary {
                packages: $library.packages,
            }
            .leak_into_prefix()
        }
    };
}
