//! The second process of `tests/context_export.rs`: `sspi-export-peer`
//! imports a packed security context and then signs, verifies, seals and
//! opens messages with it on command, so a context exported by the test
//! process continues in another process while its peer stays in the first.
//!
//! The protocol is one line per command on the child's stdin and one line
//! per reply on its stdout, every byte string in hex:
//!
//! ```text
//! import REGISTRY-PATH PACKAGE BLOB   -> ok NAMES          (SECPKG_ATTR_NAMES of the import)
//! sign DATA                           -> ok TOKEN
//! verify DATA TOKEN                   -> ok
//! seal DATA                           -> ok TOKEN SEALED
//! unseal TOKEN SEALED                 -> ok PLAIN
//! quit
//! ```
//!
//! A failure replies `err STATUS MESSAGE` (STATUS as 8 hex digits). The blob
//! is secret: it travels only over the pipe, and nothing here prints it.

use sspi_core::{Qop, SecBuffer, SecurityStatus};
use sspi_plugin_host::{SecurityContextHandle, SecurityHost};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of `text` in hex.
pub fn unhex(text: &str) -> Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) {
        return Err(format!("odd-length hex ({} digits)", text.len()));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).map_err(|e| format!("hex: {e}")))
        .collect()
}

/// A failed command: the status and the message.
pub type Failure = (SecurityStatus, String);

fn failure(status: SecurityStatus, message: &str) -> String {
    format!("err {:08x} {message}", status.0 as u32)
}

/// [`SecurityContextHandle::make_signature`] of `data`: the signature.
pub fn sign(context: &mut SecurityContextHandle, data: &[u8]) -> Result<Vec<u8>, Failure> {
    let sizes = context
        .sizes()
        .map_err(|e| (e.status(), e.message().to_owned()))?;
    let mut data = data.to_vec();
    let mut token = vec![0u8; sizes.max_signature as usize];
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut token)];
    context
        .make_signature(Qop::DEFAULT, &mut message, 0)
        .map_err(|e| (e.status(), e.reason().to_owned()))?;
    let len = message[1].len();
    token.truncate(len);
    Ok(token)
}

/// [`SecurityContextHandle::verify_signature`] of `data` and `token`.
pub fn verify(
    context: &mut SecurityContextHandle,
    data: &[u8],
    token: &[u8],
) -> Result<(), Failure> {
    let mut data = data.to_vec();
    let mut token = token.to_vec();
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut token)];
    context
        .verify_signature(&mut message, 0)
        .map(|_| ())
        .map_err(|e| (e.status(), e.reason().to_owned()))
}

/// [`SecurityContextHandle::encrypt_message`] of `data` as `[TOKEN, DATA]`:
/// the trailer and the sealed data.
pub fn seal(
    context: &mut SecurityContextHandle,
    data: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), Failure> {
    let sizes = context
        .sizes()
        .map_err(|e| (e.status(), e.message().to_owned()))?;
    let mut data = data.to_vec();
    let mut token = vec![0u8; sizes.security_trailer as usize];
    let mut message = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
    context
        .encrypt_message(Qop::DEFAULT, &mut message, 0)
        .map_err(|e| (e.status(), e.reason().to_owned()))?;
    let len = message[0].len();
    token.truncate(len);
    Ok((token, data))
}

/// [`SecurityContextHandle::decrypt_message`] of `[TOKEN, DATA]`: the plaintext.
pub fn unseal(
    context: &mut SecurityContextHandle,
    token: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, Failure> {
    let mut data = sealed.to_vec();
    let mut token = token.to_vec();
    let mut message = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
    context
        .decrypt_message(&mut message, 0)
        .map_err(|e| (e.status(), e.reason().to_owned()))?;
    let len = message[1].len();
    data.truncate(len);
    Ok(data)
}

/// `import`: the host of the registry at hex `registry`, the context of
/// `package` in hex `blob`, and its names; or the `err` reply.
fn import(
    registry: &str,
    package: &str,
    blob: &str,
) -> Result<(SecurityHost, SecurityContextHandle, String), String> {
    let internal = |e: String| failure(SecurityStatus::SEC_E_INTERNAL_ERROR, &e);
    let registry = String::from_utf8(unhex(registry).map_err(internal)?)
        .map_err(|e| internal(e.to_string()))?;
    let host =
        SecurityHost::from_registry_files(&[registry]).map_err(|e| internal(e.to_string()))?;
    let blob = unhex(blob).map_err(internal)?;
    let imported = host
        .import_security_context(package, &blob)
        .map_err(|e| failure(e.status(), e.message()))?;
    let names = imported
        .names()
        .map_err(|e| failure(e.status(), e.message()))?;
    Ok((host, imported, names))
}

/// The child's loop: reads commands from stdin until `quit` or the end.
pub fn serve() {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    let mut host: Option<SecurityHost> = None;
    let mut context: Option<SecurityContextHandle> = None;
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let words: Vec<&str> = line.split(' ').collect();
        let reply = match (words.as_slice(), context.as_mut()) {
            (["quit"], _) => break,
            (["import", registry, package, blob], _) => match import(registry, package, blob) {
                Ok((loaded, imported, names)) => {
                    host = Some(loaded);
                    context = Some(imported);
                    format!("ok {}", hex(names.as_bytes()))
                }
                Err(reply) => reply,
            },
            (_, None) => failure(SecurityStatus::SEC_E_INVALID_HANDLE, "nothing imported yet"),
            (["sign", data], Some(ctx)) => match unhex(data) {
                Ok(data) => match sign(ctx, &data) {
                    Ok(token) => format!("ok {}", hex(&token)),
                    Err((status, why)) => failure(status, &why),
                },
                Err(e) => failure(SecurityStatus::SEC_E_INVALID_PARAMETER, &e),
            },
            (["verify", data, token], Some(ctx)) => match (unhex(data), unhex(token)) {
                (Ok(data), Ok(token)) => match verify(ctx, &data, &token) {
                    Ok(()) => "ok".to_owned(),
                    Err((status, why)) => failure(status, &why),
                },
                _ => failure(SecurityStatus::SEC_E_INVALID_PARAMETER, "bad hex"),
            },
            (["seal", data], Some(ctx)) => match unhex(data) {
                Ok(data) => match seal(ctx, &data) {
                    Ok((token, sealed)) => format!("ok {} {}", hex(&token), hex(&sealed)),
                    Err((status, why)) => failure(status, &why),
                },
                Err(e) => failure(SecurityStatus::SEC_E_INVALID_PARAMETER, &e),
            },
            (["unseal", token, sealed], Some(ctx)) => match (unhex(token), unhex(sealed)) {
                (Ok(token), Ok(sealed)) => match unseal(ctx, &token, &sealed) {
                    Ok(plain) => format!("ok {}", hex(&plain)),
                    Err((status, why)) => failure(status, &why),
                },
                _ => failure(SecurityStatus::SEC_E_INVALID_PARAMETER, "bad hex"),
            },
            _ => failure(SecurityStatus::SEC_E_INVALID_PARAMETER, "unknown command"),
        };
        if writeln!(stdout, "{reply}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            break;
        }
    }
    drop(context);
    drop(host);
}

/// The test's end of the pipe to a running `sspi-export-peer`.
pub struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Peer {
    /// Starts the peer program `program` (the test's `CARGO_BIN_EXE_sspi-export-peer`).
    pub fn spawn(program: &str) -> Peer {
        let mut child = Command::new(program)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {program}: {e}"));
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("child stdout"));
        Peer {
            child,
            stdin,
            stdout,
        }
    }

    /// The process id of the peer (another process than the test's).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    fn call(&mut self, command: &str) -> Result<Vec<String>, Failure> {
        let stdin = self.stdin.as_mut().expect("peer stdin open");
        writeln!(stdin, "{command}").expect("write to the peer");
        stdin.flush().expect("flush to the peer");
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .expect("read from the peer");
        let words: Vec<String> = line.trim_end().split(' ').map(str::to_owned).collect();
        match words.first().map(String::as_str) {
            Some("ok") => Ok(words[1..].to_vec()),
            Some("err") if words.len() >= 2 => {
                let status = u32::from_str_radix(&words[1], 16).expect("status") as i32;
                Err((SecurityStatus(status), words[2..].join(" ")))
            }
            _ => panic!(
                "the peer answered {line:?} to {}",
                command.split(' ').next().unwrap_or("")
            ),
        }
    }

    fn bytes(word: &str) -> Vec<u8> {
        unhex(word).expect("the peer's hex")
    }

    /// Imports `blob` of `package` with the host of `registry`; the context's names.
    pub fn import(
        &mut self,
        registry: &std::path::Path,
        package: &str,
        blob: &[u8],
    ) -> Result<String, Failure> {
        let path = hex(registry.to_string_lossy().as_bytes());
        let words = self.call(&format!("import {path} {package} {}", hex(blob)))?;
        Ok(String::from_utf8(Self::bytes(&words[0])).expect("names are UTF-8"))
    }

    /// MakeSignature in the peer.
    pub fn sign(&mut self, data: &[u8]) -> Result<Vec<u8>, Failure> {
        Ok(Self::bytes(&self.call(&format!("sign {}", hex(data)))?[0]))
    }

    /// VerifySignature in the peer.
    pub fn verify(&mut self, data: &[u8], token: &[u8]) -> Result<(), Failure> {
        self.call(&format!("verify {} {}", hex(data), hex(token)))
            .map(|_| ())
    }

    /// EncryptMessage in the peer: trailer and sealed data.
    pub fn seal(&mut self, data: &[u8]) -> Result<(Vec<u8>, Vec<u8>), Failure> {
        let words = self.call(&format!("seal {}", hex(data)))?;
        Ok((Self::bytes(&words[0]), Self::bytes(&words[1])))
    }

    /// DecryptMessage in the peer: the plaintext.
    pub fn unseal(&mut self, token: &[u8], sealed: &[u8]) -> Result<Vec<u8>, Failure> {
        Ok(Self::bytes(
            &self.call(&format!("unseal {} {}", hex(token), hex(sealed)))?[0],
        ))
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = writeln!(stdin, "quit");
        }
        let _ = self.child.wait();
    }
}
