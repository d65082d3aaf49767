//! Certificate client assertions for the hand-written loopback grant: the signed JWT Entra
//! expects from a client that authenticates with a certificate (RS256, `x5t` header).
//!
//! `azure_identity` builds the same assertion itself for https authority hosts; this module is
//! only reached for a plain-http loopback login endpoint (see `token::token_source`).

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::hash::MessageDigest;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{Id, PKey, Private};
use openssl::sign::Signer;
use serde_json::json;

use super::AuthError;
use crate::secret::Secret;

/// Lifetime of one assertion (it is used once, right away).
const ASSERTION_LIFETIME_SECS: i64 = 10 * 60;
const WHAT: &str = "client certificate";

/// The private key and thumbprint of a PKCS#12 client certificate, loaded once.
pub(super) struct CertificateSigner {
    path: PathBuf,
    key: PKey<Private>,
    /// base64url (no padding) of the SHA-1 of the certificate's DER: the JWT's `x5t`.
    x5t: String,
}

impl fmt::Debug for CertificateSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "certificate {:?} (x5t {})", self.path, self.x5t)
    }
}

impl CertificateSigner {
    /// Reads and decrypts the PKCS#12 file. Errors name the file, never the password.
    #[cfg(test)]
    pub(super) fn load(path: &Path, password: Option<&Secret>) -> Result<Self, AuthError> {
        let bytes = std::fs::read(path).map_err(|e| file_error(path, e.to_string()))?;
        Self::from_pkcs12(path, &bytes, password)
    }

    /// Parses PKCS#12 bytes read from `path` (named in errors).
    pub(super) fn from_pkcs12(
        path: &Path,
        der: &[u8],
        password: Option<&Secret>,
    ) -> Result<Self, AuthError> {
        let fail = |message: String| file_error(path, message);
        let pkcs12 = Pkcs12::from_der(der).map_err(|e| {
            fail(format!(
                "not a PKCS#12 (.pfx/.p12) file in DER form ({})",
                openssl_reason(&e)
            ))
        })?;
        let parsed = pkcs12
            .parse2(password.map(Secret::expose).unwrap_or(""))
            .map_err(|e| {
                fail(format!(
                    "cannot decrypt the PKCS#12 file: wrong client_certificate_password, or \
                     the file is damaged ({})",
                    openssl_reason(&e)
                ))
            })?;
        let key = parsed
            .pkey
            .ok_or_else(|| fail("the PKCS#12 file holds no private key".into()))?;
        if key.id() != Id::RSA {
            return Err(fail(format!(
                "the private key is {:?}, but Entra certificate credentials need an RSA key",
                key.id()
            )));
        }
        let cert = parsed
            .cert
            .ok_or_else(|| fail("the PKCS#12 file holds no certificate".into()))?;
        let thumbprint = cert
            .digest(MessageDigest::sha1())
            .map_err(|e| fail(format!("cannot hash the certificate ({e})")))?;
        Ok(Self {
            path: path.to_path_buf(),
            key,
            x5t: URL_SAFE_NO_PAD.encode(thumbprint),
        })
    }

    /// A fresh signed client assertion for `client_id` at the token endpoint `audience`.
    pub(super) fn assertion(&self, client_id: &str, audience: &str) -> Result<Secret, AuthError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let header = json!({"alg": "RS256", "typ": "JWT", "x5t": self.x5t});
        let claims = json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": now,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = Signer::new(MessageDigest::sha256(), &self.key)
            .and_then(|mut signer| {
                signer.update(signing_input.as_bytes())?;
                signer.sign_to_vec()
            })
            .map_err(|e| {
                file_error(
                    &self.path,
                    format!("cannot sign the client assertion ({})", openssl_reason(&e)),
                )
            })?;
        Ok(Secret::new(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        )))
    }
}

fn file_error(path: &Path, message: String) -> AuthError {
    AuthError::File {
        what: WHAT,
        path: path.to_path_buf(),
        message,
    }
}

/// OpenSSL's reason strings (e.g. "mac verify failure"), without its file/line noise.
fn openssl_reason(stack: &openssl::error::ErrorStack) -> String {
    let reasons: Vec<&str> = stack.errors().iter().filter_map(|e| e.reason()).collect();
    if reasons.is_empty() {
        "no detail from OpenSSL".into()
    } else {
        reasons.join("; ")
    }
}

#[cfg(test)]
pub(super) mod tests {
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::nid::Nid;
    use openssl::rsa::Rsa;
    use openssl::sign::Verifier;
    use openssl::x509::{X509, X509NameBuilder};
    use serde_json::Value;

    use super::*;

    pub(crate) const PASSWORD: &str = "pfx-Pa55word-never-shown";

    /// A self-signed certificate for `key`, bundled as PKCS#12 under `password`; and the cert.
    pub(crate) fn pkcs12(key: &PKey<Private>, password: &str) -> (Vec<u8>, X509) {
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "kiro-test").unwrap();
        let name = name.build();
        let mut cert = X509::builder().unwrap();
        cert.set_version(2).unwrap();
        let serial = BigNum::from_u32(7).unwrap().to_asn1_integer().unwrap();
        cert.set_serial_number(&serial).unwrap();
        cert.set_subject_name(&name).unwrap();
        cert.set_issuer_name(&name).unwrap();
        cert.set_pubkey(key).unwrap();
        cert.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        cert.set_not_after(&Asn1Time::days_from_now(1).unwrap())
            .unwrap();
        cert.sign(key, MessageDigest::sha256()).unwrap();
        let cert = cert.build();
        let p12 = Pkcs12::builder()
            .name("kiro")
            .pkey(key)
            .cert(&cert)
            .build2(password)
            .unwrap();
        (p12.to_der().unwrap(), cert)
    }

    pub(crate) fn rsa_key() -> PKey<Private> {
        PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap()
    }

    fn decode(part: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn assertion_is_a_verifiable_rs256_jwt_with_entra_claims() {
        let key = rsa_key();
        let (der, cert) = pkcs12(&key, PASSWORD);
        let path = Path::new("/certs/kiro.pfx");
        let signer =
            CertificateSigner::from_pkcs12(path, &der, Some(&Secret::new(PASSWORD))).unwrap();
        let sha1 = cert.digest(MessageDigest::sha1()).unwrap();
        assert_eq!(signer.x5t, URL_SAFE_NO_PAD.encode(sha1));
        assert!(!format!("{signer:?}").contains(PASSWORD));

        let aud = "http://127.0.0.1:1/login/t/oauth2/v2.0/token";
        let jwt = signer.assertion("cid", aud).unwrap();
        let parts: Vec<&str> = jwt.expose().split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            decode(parts[0]),
            json!({"alg": "RS256", "typ": "JWT", "x5t": signer.x5t})
        );
        let claims = decode(parts[1]);
        assert_eq!(
            (&claims["aud"], &claims["iss"], &claims["sub"]),
            (&json!(aud), &json!("cid"), &json!("cid"))
        );
        let (nbf, iat, exp) = (&claims["nbf"], &claims["iat"], &claims["exp"]);
        assert_eq!(nbf, iat);
        assert_eq!(exp.as_i64().unwrap() - iat.as_i64().unwrap(), 600);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        assert!((now - iat.as_i64().unwrap()).abs() < 60);
        assert!(uuid::Uuid::parse_str(claims["jti"].as_str().unwrap()).is_ok());
        let other = signer.assertion("cid", aud).unwrap();
        assert_ne!(
            decode(other.expose().split('.').nth(1).unwrap())["jti"],
            claims["jti"]
        );

        let public = cert.public_key().unwrap();
        let mut verifier = Verifier::new(MessageDigest::sha256(), &public).unwrap();
        verifier
            .update(format!("{}.{}", parts[0], parts[1]).as_bytes())
            .unwrap();
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        assert!(verifier.verify(&signature).unwrap(), "RS256 signature");
    }

    #[test]
    fn bad_files_name_the_path_but_never_the_password() {
        let path = Path::new("/certs/kiro.pfx");
        let (der, _) = pkcs12(&rsa_key(), PASSWORD);
        let wrong = Secret::new("Wr0ng-pfx-password");
        let err = CertificateSigner::from_pkcs12(path, &der, Some(&wrong)).unwrap_err();
        let shown = err.to_string();
        assert!(matches!(err, AuthError::File { .. }), "{err:?}");
        assert!(shown.contains("/certs/kiro.pfx"), "{shown}");
        assert!(
            shown.contains("wrong client_certificate_password"),
            "{shown}"
        );
        assert!(!shown.contains("Wr0ng") && !format!("{err:?}").contains("Wr0ng"));
        // No password at all on a protected file.
        assert!(CertificateSigner::from_pkcs12(path, &der, None).is_err());

        let err = CertificateSigner::from_pkcs12(path, b"not a pfx", None).unwrap_err();
        assert!(err.to_string().contains("not a PKCS#12"), "{err}");

        let missing = Path::new("/nonexistent/kiro.pfx");
        let err = CertificateSigner::load(missing, None).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/kiro.pfx"), "{err}");

        let ec = EcKey::generate(&EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap());
        let (der, _) = pkcs12(&PKey::from_ec_key(ec.unwrap()).unwrap(), "pw");
        let err = CertificateSigner::from_pkcs12(path, &der, Some(&Secret::new("pw")));
        let err = err.unwrap_err().to_string();
        assert!(
            err.contains("RSA") && err.contains("/certs/kiro.pfx"),
            "{err}"
        );
    }
}
