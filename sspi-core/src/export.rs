//! The macros a package crate uses to declare and export its library.

/// Declares a package library: a `static` of type [`crate::ffi::LibraryExports`]
/// listing the packages' [`PackageFactory`](crate::PackageFactory) types,
/// registered as a built-in (selected in the registry as `builtin:NAME`) for
/// any program that links the crate. Use it once, in the package's library
/// crate; one library may export several packages (each needs its own name).
///
/// ```
/// # mod my_package {
/// #     use sspi_core::*;
/// #     pub struct MyFactory;
/// #     pub struct Pkg;
/// #     pub struct Creds;
/// #     pub struct Hs;
/// #     pub struct Est;
/// #     impl PackageFactory for MyFactory {
/// #         type Package = Pkg;
/// #         fn info() -> PackageInfo {
/// #             PackageInfo { capabilities: PackageCapabilities::CONNECTION, version: 1,
/// #                 rpc_id: PackageInfo::SECPKG_ID_NONE, max_token: 16, name: "Mine".into(),
/// #                 comment: "an example".into() }
/// #         }
/// #         fn open(_: &PackageParameters) -> SecurityResult<Pkg> { Ok(Pkg) }
/// #     }
/// #     impl SecurityPackage for Pkg {
/// #         type Credentials = Creds;
/// #         fn acquire_credentials_handle(&self, _: CredentialsRequest) -> SecurityResult<Creds> { Ok(Creds) }
/// #     }
/// #     impl Credentials for Creds {
/// #         type Client = Hs;
/// #         type Server = Hs;
/// #         fn credential_use(&self) -> CredentialUse { CredentialUse::BOTH }
/// #         fn names(&self) -> SecurityResult<String> { Ok(String::new()) }
/// #         fn new_client_context(&self, _: Option<&str>, _: IscReq) -> SecurityResult<Hs> { Ok(Hs) }
/// #         fn new_server_context(&self, _: AscReq) -> SecurityResult<Hs> { Ok(Hs) }
/// #     }
/// #     impl ClientHandshake for Hs {
/// #         type Established = Est;
/// #         fn initialize(self, _: LegInput<'_>) -> SecurityResult<Step<Hs, Est>> { Ok(Step::done(Est, vec![1])) }
/// #     }
/// #     impl ServerHandshake for Hs {
/// #         type Established = Est;
/// #         fn accept(self, _: LegInput<'_>) -> SecurityResult<Step<Hs, Est>> { Ok(Step::done(Est, vec![])) }
/// #     }
/// #     impl EstablishedContext for Est {
/// #         fn sizes(&self) -> ContextSizes { ContextSizes::default() }
/// #         fn names(&self) -> SecurityResult<String> { Ok(String::new()) }
/// #         fn lifespan(&self) -> Lifespan { Lifespan { start: TimeStamp(0), expiry: TimeStamp::NEVER } }
/// #         fn flags(&self) -> IscRet { IscRet::NONE }
/// #         fn make_signature(&mut self, _: Qop, _: &mut [SecBuffer<'_>], _: u32) -> MessageResult { Err(SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION.into()) }
/// #         fn verify_signature(&mut self, _: &mut [SecBuffer<'_>], _: u32) -> MessageResult { Err(SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION.into()) }
/// #         fn encrypt_message(&mut self, _: Qop, _: &mut [SecBuffer<'_>], _: u32) -> MessageResult { Err(SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION.into()) }
/// #         fn decrypt_message(&mut self, _: &mut [SecBuffer<'_>], _: u32) -> MessageResult { Err(SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION.into()) }
/// #     }
/// #     // In the package crate (`src/lib.rs`):
/// sspi_core::declare_library!(pub MY_LIBRARY = "mine" => [MyFactory]);
/// # }
///
/// // The packages it lists, as a host enumerates them:
/// let listed = (my_package::MY_LIBRARY.packages)().unwrap();
/// assert_eq!(listed[0].info.name.as_str(), "Mine");
/// // Linked into this program, it is the built-in `builtin:mine`.
/// assert!(sspi_core::ffi::builtin_libraries().any(|library| library.name == "mine"));
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
/// a host can load it as a plugin. Use it once, in a `cdylib` crate whose
/// whole source is this line (the crate needs `abi_stable`, at the
/// workspace's version, as a dependency for the generated code, and the
/// package crate as another):
///
/// ```
/// # mod my_package {
/// #     use sspi_core::*;
/// #     pub struct MyFactory;
/// #     pub struct Pkg;
/// #     pub struct Creds;
/// #     pub struct Hs;
/// #     pub struct Est;
/// #     impl PackageFactory for MyFactory {
/// #         type Package = Pkg;
/// #         fn info() -> PackageInfo {
/// #             PackageInfo { capabilities: PackageCapabilities::CONNECTION, version: 1,
/// #                 rpc_id: PackageInfo::SECPKG_ID_NONE, max_token: 16, name: "Mine".into(),
/// #                 comment: "an example".into() }
/// #         }
/// #         fn open(_: &PackageParameters) -> SecurityResult<Pkg> { Ok(Pkg) }
/// #     }
/// #     impl SecurityPackage for Pkg {
/// #         type Credentials = Creds;
/// #         fn acquire_credentials_handle(&self, _: CredentialsRequest) -> SecurityResult<Creds> { Ok(Creds) }
/// #     }
/// #     impl Credentials for Creds {
/// #         type Client = Hs;
/// #         type Server = Hs;
/// #         fn credential_use(&self) -> CredentialUse { CredentialUse::BOTH }
/// #         fn names(&self) -> SecurityResult<String> { Ok(String::new()) }
/// #         fn new_client_context(&self, _: Option<&str>, _: IscReq) -> SecurityResult<Hs> { Ok(Hs) }
/// #         fn new_server_context(&self, _: AscReq) -> SecurityResult<Hs> { Ok(Hs) }
/// #     }
/// #     impl ClientHandshake for Hs {
/// #         type Established = Est;
/// #         fn initialize(self, _: LegInput<'_>) -> SecurityResult<Step<Hs, Est>> { Ok(Step::done(Est, vec![1])) }
/// #     }
/// #     impl ServerHandshake for Hs {
/// #         type Established = Est;
/// #         fn accept(self, _: LegInput<'_>) -> SecurityResult<Step<Hs, Est>> { Ok(Step::done(Est, vec![])) }
/// #     }
/// #     impl EstablishedContext for Est {
/// #         fn sizes(&self) -> ContextSizes { ContextSizes::default() }
/// #         fn names(&self) -> SecurityResult<String> { Ok(String::new()) }
/// #         fn lifespan(&self) -> Lifespan { Lifespan { start: TimeStamp(0), expiry: TimeStamp::NEVER } }
/// #         fn flags(&self) -> IscRet { IscRet::NONE }
/// #         fn make_signature(&mut self, _: Qop, _: &mut [SecBuffer<'_>], _: u32) -> MessageResult { Err(SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION.into()) }
/// #         fn verify_signature(&mut self, _: &mut [SecBuffer<'_>], _: u32) -> MessageResult { Err(SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION.into()) }
/// #         fn encrypt_message(&mut self, _: Qop, _: &mut [SecBuffer<'_>], _: u32) -> MessageResult { Err(SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION.into()) }
/// #         fn decrypt_message(&mut self, _: &mut [SecBuffer<'_>], _: u32) -> MessageResult { Err(SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION.into()) }
/// #     }
/// #     sspi_core::declare_library!(pub MY_LIBRARY = "mine" => [MyFactory]);
/// # }
/// // The plugin crate's `src/lib.rs` (`crate-type = ["cdylib"]`):
/// sspi_core::export_library!(my_package::MY_LIBRARY);
/// # fn main() {
/// // What a host reaches through the root module it loads:
/// let root = sspi_library_root_module();
/// let listed = (root.packages())().unwrap();
/// assert_eq!(listed[0].info.name.as_str(), "Mine");
/// # }
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
