//! The release as users receive it: `.ci/release` packages this build (zip, SHA256SUMS, its
//! signature, manifest, and a Provider Network Mirror), the mirror is served over HTTPS on
//! loopback with a CA made here, and the real `terraform init` installs the provider from it
//! — then the complete example applies with the installed binary. A zip whose bytes were
//! changed is refused.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::harness::{PROVIDER_VERSION, REQUIRED_PROVIDERS, Workspace, provider_binary};
use crate::sandbox::Sandbox;
use crate::whole_guide::GuideRun;

const MIRROR_DIR: &str = "mirror/registry.terraform.io/kiro-entra/kiro";

fn release_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/release")
}

/// What one `.ci/release` run wrote.
struct Release {
    _root: tempfile::TempDir,
    out: PathBuf,
}

impl Release {
    /// Runs `.ci/release --binary <binary> [--adopt-binary <adopt>]` into a fresh directory,
    /// with a fixed `SOURCE_DATE_EPOCH` and no signing key in the environment (so a
    /// throwaway key).
    fn package(binary: &Path, adopt: Option<&Path>) -> Release {
        let root = tempfile::tempdir().expect("temp dir");
        let out = root.path().join("dist");
        let mut release = Command::new(release_script());
        release.arg("--binary").arg(binary);
        if let Some(adopt) = adopt {
            release.arg("--adopt-binary").arg(adopt);
        }
        let run = release
            .arg("--out")
            .arg(&out)
            .env("SOURCE_DATE_EPOCH", "1767225600")
            .env_remove("GPG_PRIVATE_KEY")
            .output()
            .expect("run .ci/release (python3 on PATH?)");
        assert!(
            run.status.success(),
            ".ci/release failed\n--- stdout ---\n{}\n--- stderr ---\n{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        Release { _root: root, out }
    }

    fn file(&self, suffix: &str) -> PathBuf {
        self.out.join(format!(
            "terraform-provider-kiro_{PROVIDER_VERSION}_{suffix}"
        ))
    }

    fn zip(&self) -> PathBuf {
        self.file("linux_amd64.zip")
    }

    fn mirror(&self) -> PathBuf {
        self.out.join("mirror")
    }

    /// The zip's `zh:` hash as SHA256SUMS lists it.
    fn listed_zip_hash(&self) -> String {
        let sums = std::fs::read_to_string(self.file("SHA256SUMS")).unwrap();
        let name = self
            .zip()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let line = sums
            .lines()
            .find(|l| l.ends_with(&format!("  {name}")))
            .unwrap_or_else(|| panic!("SHA256SUMS lists {name}:\n{sums}"));
        format!("zh:{}", &line[..64])
    }
}

/// The debug build the other tests install, packaged once for every test here.
fn packaged_build() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(|| Release::package(&provider_binary(), None))
}

/// Each entry of a zip as `(name, sha256 of its bytes)`, read by Python's zipfile (the
/// release script's own language, but not its code).
fn zip_entries(zip: &Path) -> Vec<(String, String)> {
    let listing = Command::new("python3")
        .arg("-c")
        .arg(
            "import hashlib, sys, zipfile\n\
             z = zipfile.ZipFile(sys.argv[1])\n\
             for n in z.namelist(): print(n, hashlib.sha256(z.read(n)).hexdigest())",
        )
        .arg(zip)
        .output()
        .expect("python3");
    assert!(listing.status.success(), "{listing:?}");
    String::from_utf8(listing.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(name, hash)| (name.to_string(), hash.to_string()))
        .collect()
}

fn sha256_hex(path: &Path) -> String {
    sha256_hex_of(&std::fs::read(path).unwrap())
}

/// SHA-256 by coreutils' `sha256sum`, independent of the release script's Python.
fn sha256_hex_of(bytes: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sha256sum");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)[..64].to_string()
}

/// Terraform's `h1:` hash of an unpacked provider package holding one file (Go's
/// `dirhash.Hash1`: SHA-256 over `"<sha256 hex>  <name>\n"` per file, base64).
fn h1_of_single_file_package(name: &str, content: &[u8]) -> String {
    use base64::Engine;
    let summary = format!("{}  {name}\n", sha256_hex_of(content));
    let hex = sha256_hex_of(summary.as_bytes());
    let digest: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// `gpg --verify` of the detached signature against the exported public key, in a keyring
/// of its own.
fn verify_signature(release: &Release) -> String {
    let home = tempfile::tempdir().unwrap();
    let gpg = |args: &[&std::ffi::OsStr]| {
        Command::new("gpg")
            .arg("--homedir")
            .arg(home.path())
            .arg("--batch")
            .args(args)
            .output()
            .expect("gpg")
    };
    let key = release.out.join("signing-key.asc");
    let imported = gpg(&["--import".as_ref(), key.as_os_str()]);
    assert!(imported.status.success(), "{imported:?}");
    let sig = release.file("SHA256SUMS.sig");
    let sums = release.file("SHA256SUMS");
    let verified = gpg(&["--verify".as_ref(), sig.as_os_str(), sums.as_os_str()]);
    let _ = Command::new("gpgconf")
        .arg("--homedir")
        .arg(home.path())
        .args(["--kill", "all"])
        .output();
    let text = String::from_utf8_lossy(&verified.stderr).into_owned();
    assert!(verified.status.success(), "gpg --verify failed:\n{text}");
    text
}

#[test]
fn release_layout_is_what_the_registry_ingests_and_the_zip_is_reproducible() {
    let root = tempfile::tempdir().unwrap();
    let binary = root.path().join("provider");
    let bytes: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&binary, &bytes).unwrap();
    let adopt = root.path().join("adopt");
    let adopt_bytes: Vec<u8> = (0..20_000u32).map(|i| (i * 13 % 241) as u8).collect();
    std::fs::write(&adopt, &adopt_bytes).unwrap();
    let first = Release::package(&binary, Some(&adopt));
    // The same bytes under another mode and mtime: the zip must not change.
    std::fs::write(&binary, &bytes).unwrap();
    std::fs::set_permissions(&binary, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    Command::new("touch")
        .args(["-d", "2001-02-03 04:05:06"])
        .arg(&binary)
        .status()
        .unwrap();
    let second = Release::package(&binary, Some(&adopt));
    assert_eq!(
        std::fs::read(first.zip()).unwrap(),
        std::fs::read(second.zip()).unwrap(),
        "same binary, same zip bytes"
    );

    // The registry's files, and the checksums list every zip and the manifest.
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(first.file("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(
        manifest,
        serde_json::json!({"version": 1, "metadata": {"protocol_versions": ["5.0"]}})
    );
    // kiro-adopt ships beside the provider: its own one-entry zip, reproducible too.
    let adopt_zip = first
        .out
        .join(format!("kiro-adopt_{PROVIDER_VERSION}_linux_amd64.zip"));
    assert_eq!(
        zip_entries(&adopt_zip),
        [("kiro-adopt".to_string(), sha256_hex_of(&adopt_bytes))]
    );
    assert_eq!(
        std::fs::read(&adopt_zip).unwrap(),
        std::fs::read(second.out.join(adopt_zip.file_name().unwrap())).unwrap(),
        "same kiro-adopt, same zip bytes"
    );
    let sums = std::fs::read_to_string(first.file("SHA256SUMS")).unwrap();
    for listed in [first.zip(), adopt_zip.clone(), first.file("manifest.json")] {
        let name = listed.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            sums.contains(&format!("{}  {name}\n", sha256_hex(&listed))),
            "{name} in SHA256SUMS:\n{sums}"
        );
    }
    assert_eq!(sums.lines().count(), 3, "{sums}");
    let verified = verify_signature(&first);
    assert!(verified.contains("Good signature"), "{verified}");

    // The mirror: index.json lists the version, <version>.json the zip beside it with its
    // zh: hash, and the zip there is the release's.
    let mirror = first.out.join(MIRROR_DIR);
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(mirror.join("index.json")).unwrap()).unwrap();
    assert_eq!(
        index,
        serde_json::json!({"versions": {PROVIDER_VERSION: {}}})
    );
    let archives: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(mirror.join(format!("{PROVIDER_VERSION}.json"))).unwrap(),
    )
    .unwrap();
    let zip_name = first
        .zip()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert_eq!(
        archives,
        serde_json::json!({"archives": {"linux_amd64": {
            "url": zip_name,
            "hashes": [first.listed_zip_hash()],
        }}})
    );
    assert_eq!(
        std::fs::read(mirror.join(&zip_name)).unwrap(),
        std::fs::read(first.zip()).unwrap()
    );
}

/// A CA made for one test, and a server certificate for 127.0.0.1 signed by it.
pub(crate) struct TestCa {
    pub(crate) ca_pem: String,
    pub(crate) server: Arc<rustls::ServerConfig>,
}

impl TestCa {
    pub(crate) fn new() -> TestCa {
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "kiro release test CA");
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let ca =
            rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
                .unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress([127, 0, 0, 1].into()));
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &*ca).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone(), ca.der().clone()],
                rustls_pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .unwrap();
        TestCa {
            ca_pem: ca.pem(),
            server: Arc::new(server),
        }
    }
}

/// TLS over a loopback listener, for `axum::serve`: a failed handshake drops that
/// connection and waits for the next.
pub(crate) struct TlsListener {
    pub(crate) tcp: TcpListener,
    pub(crate) tls: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                continue;
            };
            if let Ok(stream) = self.tls.accept(tcp).await {
                return (stream, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// The files under `root`, as a static web server gives them (JSON as
/// `application/json`, which Terraform requires of a mirror's indexes).
async fn serve_file(State(root): State<Arc<PathBuf>>, request: Request) -> Response {
    let relative = request.uri().path().trim_start_matches('/');
    if relative.split('/').any(|part| part == "..") {
        return StatusCode::BAD_REQUEST.into_response();
    }
    match tokio::fs::read(root.join(relative)).await {
        Ok(bytes) => {
            let kind = if relative.ends_with(".json") {
                "application/json"
            } else {
                "application/zip"
            };
            ([(header::CONTENT_TYPE, kind)], bytes).into_response()
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A static HTTPS server for one directory, on its own runtime (dropped with it).
struct MirrorServer {
    _runtime: tokio::runtime::Runtime,
    url: String,
}

impl MirrorServer {
    fn start(root: &Path, ca: &TestCa) -> MirrorServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let tcp = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = tcp.local_addr().unwrap();
        let listener = TlsListener {
            tcp,
            tls: TlsAcceptor::from(ca.server.clone()),
        };
        let app = Router::new()
            .fallback(serve_file)
            .with_state(Arc::new(root.to_path_buf()));
        runtime.spawn(async move { axum::serve(listener, app).await });
        MirrorServer {
            _runtime: runtime,
            url: format!("https://{addr}/"),
        }
    }
}

/// Points `ws` at the network mirror at `url`, trusting `ca` (Terraform reads
/// `SSL_CERT_FILE` like any Go program).
fn install_from_network_mirror(ws: &mut Workspace, url: &str, ca: &TestCa) {
    let ca_file = ws.dir.parent().unwrap().join("mirror-ca.pem");
    std::fs::write(&ca_file, &ca.ca_pem).unwrap();
    ws.install_providers_with(&format!(
        "  network_mirror {{\n    url     = \"{url}\"\n    include = [\"kiro-entra/kiro\"]\n  }}"
    ));
    // The complete example pairs the provider with hashicorp/aws (Route 53), which comes
    // from the machine's plugin mirror as in every other test.
    if crate::harness::aws_plugin_mirror().is_ok() {
        ws.add_aws_mirror();
    }
    ws.env("SSL_CERT_FILE", ca_file.to_str().unwrap());
}

#[test]
fn terraform_installs_the_release_from_an_https_network_mirror_and_the_guide_applies() {
    let release = packaged_build();
    let ca = TestCa::new();
    let server = MirrorServer::start(&release.mirror(), &ca);
    let sandbox = Sandbox::start();
    let mut guide = GuideRun::prepare(&sandbox);
    install_from_network_mirror(&mut guide.ws, &server.url, &ca);
    let init = guide.ws.init();
    assert!(
        init.stdout
            .contains(&format!("Installed kiro-entra/kiro v{PROVIDER_VERSION}")),
        "{}",
        init.stdout
    );
    // The lock file pins the `h1:` hash of what was unpacked: the packaged build. (Terraform
    // records `zh:` hashes only from a signed source; a mirror's `zh:` hash is checked at
    // download, as the next test shows, but not written to the lock file.)
    let lock = guide.ws.read(".terraform.lock.hcl");
    let binary_name = format!("terraform-provider-kiro_v{PROVIDER_VERSION}");
    let h1 = h1_of_single_file_package(&binary_name, &std::fs::read(provider_binary()).unwrap());
    assert!(lock.contains(&format!("\"{h1}\"")), "{h1} in\n{lock}");
    // What runs is the unpacked copy, not a link to this build.
    let installed = guide.ws.dir.join(format!(
        ".terraform/providers/registry.terraform.io/kiro-entra/kiro/{PROVIDER_VERSION}/linux_amd64/{binary_name}"
    ));
    let meta = std::fs::symlink_metadata(&installed).expect("the provider was unpacked");
    assert!(meta.is_file(), "{installed:?} is a regular file");
    assert_eq!(
        std::fs::read(&installed).unwrap(),
        std::fs::read(provider_binary()).unwrap(),
        "the unpacked binary is the packaged build"
    );
    guide.apply_check_and_destroy(&sandbox);
}

#[test]
fn terraform_refuses_a_mirrored_zip_whose_bytes_were_changed() {
    let release = packaged_build();
    // A copy of the mirror whose zip differs from the one its index lists by one byte.
    let tampered = tempfile::tempdir().unwrap();
    let dir = tampered.path().join(MIRROR_DIR);
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(release.out.join(MIRROR_DIR)).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    let zip = dir.join(release.zip().file_name().unwrap());
    let mut bytes = std::fs::read(&zip).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&zip, bytes).unwrap();

    let ca = TestCa::new();
    let server = MirrorServer::start(&tampered.path().join("mirror"), &ca);
    let mut ws = Workspace::new();
    install_from_network_mirror(&mut ws, &server.url, &ca);
    ws.write("main.tf", REQUIRED_PROVIDERS);
    let refused = ws.fails(&["init", "-no-color"]).output();
    // Terraform wraps its diagnostics; compare word by word.
    let refused = refused.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        refused.contains("doesn't match the expected checksum"),
        "{refused}"
    );
    assert!(refused.contains(&release.listed_zip_hash()), "{refused}");
    assert!(
        !ws.dir
            .join(".terraform/providers")
            .join("registry.terraform.io/kiro-entra/kiro")
            .join(PROVIDER_VERSION)
            .exists(),
        "nothing was installed"
    );
}
