//! HTTPS to a remote host whose certificate no public authority signed (a
//! self-signed `serve --tls-cert`): the user gives the host's certificate
//! (or its CA's) as a PEM file, or pins its SHA-256 fingerprint, in
//! Settings → Hosts. The host's worker then connects through [`Trust`]:
//! the certificate the host shows is accepted when it is one of the
//! file's, chains to one of them (name checked), or has the pinned
//! fingerprint — nothing else.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme, StreamOwned};
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::rustls;
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
    TransportAdapter,
};

/// Why a host's trust settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("the certificate file {path}: {why}")]
    File { path: String, why: String },
    #[error("the SHA-256 fingerprint must be 64 hex digits (colons allowed)")]
    Fingerprint,
}

/// SHA-256 of `bytes` (ring's, through rustls).
fn sha256(bytes: &[u8]) -> Vec<u8> {
    let suite = rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256;
    match suite.tls13() {
        Some(s) => s.common.hash_provider.hash(bytes).as_ref().to_vec(),
        None => Vec::new(),
    }
}

/// A certificate's SHA-256 fingerprint as `openssl x509 -fingerprint
/// -sha256` prints it (`AB:CD:…`).
pub fn fingerprint(der: &[u8]) -> String {
    let hex: Vec<String> = sha256(der).iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

/// A fingerprint as typed: 64 hex digits, colons and spaces allowed, an
/// openssl `sha256 Fingerprint=` prefix too.
pub fn parse_fingerprint(text: &str) -> Result<Vec<u8>, TrustError> {
    let text = text.rsplit('=').next().unwrap_or(text);
    let digits: String = text.chars().filter(|c| !matches!(c, ':' | ' ')).collect();
    if digits.len() != 64 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(TrustError::Fingerprint);
    }
    (0..32)
        .map(|i| u8::from_str_radix(&digits[2 * i..2 * i + 2], 16))
        .collect::<Result<_, _>>()
        .map_err(|_| TrustError::Fingerprint)
}

/// The PEM certificates of `path`.
pub fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TrustError> {
    let err = |why: String| TrustError::File {
        path: path.display().to_string(),
        why,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| err(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(e.to_string()))?;
    if certs.is_empty() {
        return Err(err("no PEM certificate in it".into()));
    }
    Ok(certs)
}

/// What the user told the app to trust for one host.
#[derive(Debug)]
pub(crate) struct Trust {
    certs: Vec<CertificateDer<'static>>,
    pins: Vec<Vec<u8>>,
    roots: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl Trust {
    pub(crate) fn new(file: Option<&Path>, pin: Option<&str>) -> Result<Self, TrustError> {
        // ring, as serve's own TLS (src/serve/tls.rs): no post-quantum
        // key exchange, hence deprecated in rustls 0.23.48.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let certs = file.map(read_certs).transpose()?.unwrap_or_default();
        let pins = pin
            .map(parse_fingerprint)
            .transpose()?
            .into_iter()
            .collect();
        let mut store = rustls::RootCertStore::empty();
        for c in &certs {
            // A certificate that cannot anchor a chain is still matched whole.
            let _ = store.add(c.clone());
        }
        let roots = (!store.is_empty())
            .then(|| {
                rustls::client::WebPkiServerVerifier::builder_with_provider(
                    Arc::new(store),
                    provider.clone(),
                )
                .build()
                .ok()
            })
            .flatten();
        Ok(Self {
            certs,
            pins,
            roots,
            provider,
        })
    }
}

impl ServerCertVerifier for Trust {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let der = end_entity.as_ref();
        let given = self.certs.iter().any(|c| c.as_ref() == der);
        if given || self.pins.contains(&sha256(der)) {
            return Ok(ServerCertVerified::assertion());
        }
        let chained = (self.roots.as_ref())
            .map(|r| r.verify_server_cert(end_entity, intermediates, server_name, ocsp, now));
        match chained {
            Some(Ok(v)) => Ok(v),
            _ => Err(rustls::Error::General(format!(
                "the host's certificate (SHA-256 {}) is not the one given for it",
                fingerprint(der)
            ))),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// ureq's TLS step with [`Trust`] as the verifier (plain HTTP passes).
#[derive(Debug)]
pub(crate) struct TrustConnector(Arc<ClientConfig>);

impl TrustConnector {
    pub(crate) fn new(trust: Trust) -> Result<Self, rustls::Error> {
        let provider = trust.provider.clone();
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(trust))
            .with_no_client_auth();
        Ok(Self(Arc::new(config)))
    }
}

impl<In: Transport> Connector<In> for TrustConnector {
    type Out = Either<In, TrustTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details.uri.host().unwrap_or_default();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(host.to_string())
            .map_err(|_| ureq::Error::Tls("not a host name for TLS"))?;
        let mut conn = ClientConnection::new(self.0.clone(), name)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        conn.complete_io(&mut sock)?;
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        let stream = StreamOwned { conn, sock };
        Ok(Some(Either::B(TrustTransport { buffers, stream })))
    }
}

/// A TLS connection made by [`TrustConnector`].
pub(crate) struct TrustTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl std::fmt::Debug for TrustTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TrustTransport")
    }
}

impl Transport for TrustTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        use std::io::Write;
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        use std::io::Read;
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_is_read_as_openssl_prints_it() {
        let pin = "sha256 Fingerprint=".to_string() + &["AB"; 32].join(":");
        assert_eq!(parse_fingerprint(&pin).unwrap(), vec![0xAB; 32]);
        assert_eq!(parse_fingerprint(&"cd".repeat(32)).unwrap(), vec![0xCD; 32]);
        assert!(parse_fingerprint("AB:CD").is_err());
        assert_eq!(fingerprint(b"abc").len(), 32 * 3 - 1);
        assert!(
            fingerprint(b"abc").starts_with("BA:78:16:BF"),
            "SHA-256 of abc"
        );
    }
}
