#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <string>
#include <vector>

#include "dtls.h"

namespace geisa_dtls {

ContextState::~ContextState() {
  if (ctx != nullptr) SSL_CTX_free(ctx);
  if (!cookieSecret.empty()) OPENSSL_cleanse(cookieSecret.data(), cookieSecret.size());
}

std::string OpenSslErrors() {
  std::string out;
  unsigned long e;
  char buf[256];
  while ((e = ERR_get_error()) != 0) {
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

namespace {

// An encrypted key must fail to load, not prompt on the harness's terminal.
int NoPassphrase(char*, int, int, void*) { return 0; }

// Verification still runs and its result stays readable with SSL_get_verify_result();
// only the decision to abort is taken away from OpenSSL.
int AcceptAndRecord(int, X509_STORE_CTX*) { return 1; }

bool OptBool(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() && v.As<Napi::Boolean>().Value();
}

bool OptString(const Napi::Object& o, const char* key, std::string* out) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) return false;
  *out = v.As<Napi::String>().Utf8Value();
  return true;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

BioPtr MemBio(const std::string& s) { return BioPtr(BIO_new_mem_buf(s.data(), static_cast<int>(s.size()))); }

// Reads every certificate in a PEM text; a trailing "no start line" is the normal end.
std::vector<X509*> ReadCerts(const std::string& pem) {
  std::vector<X509*> certs;
  BioPtr b = MemBio(pem);
  if (!b) return certs;
  while (X509* x = PEM_read_bio_X509(b.get(), nullptr, NoPassphrase, nullptr)) certs.push_back(x);
  ERR_clear_error();
  return certs;
}

// The callers use OpenSSL names (what `openssl ciphers` prints); profiles and the
// LwM2M spec use IANA names. Both are accepted; the OpenSSL name is what is configured.
bool ResolveCiphers(const std::vector<std::string>& wanted, std::string* list, std::string* unknown) {
  SSL_CTX* probe = SSL_CTX_new(DTLS_server_method());
  if (probe == nullptr) return false;
  SSL_CTX_set_security_level(probe, 0);
  SSL_CTX_set_cipher_list(probe, "ALL:COMPLEMENTOFALL:@SECLEVEL=0");
  STACK_OF(SSL_CIPHER)* all = SSL_CTX_get_ciphers(probe);
  for (const std::string& name : wanted) {
    const char* found = nullptr;
    for (int i = 0; all != nullptr && i < sk_SSL_CIPHER_num(all); i++) {
      const SSL_CIPHER* c = sk_SSL_CIPHER_value(all, i);
      const char* std_name = SSL_CIPHER_standard_name(c);
      if (name == SSL_CIPHER_get_name(c) || (std_name != nullptr && name == std_name)) {
        found = SSL_CIPHER_get_name(c);
        break;
      }
    }
    if (found == nullptr) {
      if (!unknown->empty()) *unknown += ", ";
      *unknown += name;
      continue;
    }
    if (!list->empty()) *list += ":";
    *list += found;
  }
  SSL_CTX_free(probe);
  return true;
}

// The parts of the options both roles read the same way. Each returns an error message,
// empty on success.
std::string ReadSuites(const Napi::Object& o, std::vector<std::string>* suites) {
  Napi::Value suitesV = o.Get("cipherSuites");
  if (!suitesV.IsArray()) return "cipherSuites must be an array of cipher names";
  Napi::Array suitesA = suitesV.As<Napi::Array>();
  for (uint32_t i = 0; i < suitesA.Length(); i++) {
    Napi::Value s = suitesA.Get(i);
    if (!s.IsString()) return "cipherSuites must contain strings";
    suites->push_back(s.As<Napi::String>().Utf8Value());
  }
  if (suites->empty()) return "cipherSuites is empty";
  return "";
}

std::string ReadMtu(const Napi::Object& o, long* mtu) {
  Napi::Value mtuV = o.Get("mtu");
  if (mtuV.IsNumber()) {
    *mtu = mtuV.As<Napi::Number>().Int64Value();
    // 256 is OpenSSL's floor for DTLS; 65507 is the largest UDP payload over IPv4.
    if (*mtu < 256 || *mtu > 65507) return "mtu must be between 256 and 65507";
  }
  return "";
}

// DTLS 1.2 only, the caller's suites and nothing else.
std::string PinProtocolAndSuites(SSL_CTX* ctx, const std::vector<std::string>& suites) {
  // DTLS 1.2 only: LwM2M 1.2 requires it, and a 1.0 fallback would only hide a defect.
  if (SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) != 1)
    return "cannot pin DTLS 1.2: " + OpenSslErrors();
  // OpenSSL 3 rates the 64-bit CCM_8 tag below security level 1, and CCM_8 is the suite
  // LwM2M mandates. The harness must speak what devices speak.
  SSL_CTX_set_security_level(ctx, 0);

  std::string list, unknown;
  if (!ResolveCiphers(suites, &list, &unknown)) return "cannot enumerate ciphers: " + OpenSslErrors();
  if (!unknown.empty()) return "unknown cipher suite(s) for DTLS 1.2: " + unknown;
  if (SSL_CTX_set_cipher_list(ctx, list.c_str()) != 1) return "no usable cipher in '" + list + "': " + OpenSslErrors();
  // TLS 1.3 suites are configured separately and can never apply to DTLS 1.2; dropping
  // them keeps ciphers() equal to what a ClientHello is matched against.
  SSL_CTX_set_ciphersuites(ctx, "");
  return "";
}

std::string UseCertAndKey(SSL_CTX* ctx, const std::string& certPem, const std::string& keyPem) {
  std::vector<X509*> chain = ReadCerts(certPem);
  if (chain.empty()) return "certPem holds no certificate";
  int ok = SSL_CTX_use_certificate(ctx, chain[0]);
  X509_free(chain[0]);
  if (ok != 1) {
    for (size_t i = 1; i < chain.size(); i++) X509_free(chain[i]);
    return "cannot use certPem: " + OpenSslErrors();
  }
  for (size_t i = 1; i < chain.size(); i++) {
    if (SSL_CTX_add0_chain_cert(ctx, chain[i]) != 1) {
      X509_free(chain[i]);
      for (size_t j = i + 1; j < chain.size(); j++) X509_free(chain[j]);
      return "cannot add intermediate certificate: " + OpenSslErrors();
    }
  }
  BioPtr kb = MemBio(keyPem);
  EVP_PKEY* key = kb ? PEM_read_bio_PrivateKey(kb.get(), nullptr, NoPassphrase, nullptr) : nullptr;
  // The key's own parse error could quote nothing secret, but say less anyway.
  if (key == nullptr) {
    ERR_clear_error();
    return "keyPem holds no usable (unencrypted) private key";
  }
  ok = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  if (ok != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return "keyPem does not match certPem";
  }
  return "";
}

// Client role: the expected name is either an IP literal (matched against iPAddress SANs)
// or a DNS name (dNSName SANs, then the CN as OpenSSL's fallback).
bool IsIpLiteral(const std::string& s) {
  ASN1_OCTET_STRING* ip = a2i_IPADDRESS(s.c_str());
  if (ip == nullptr) {
    ERR_clear_error();
    return false;
  }
  ASN1_OCTET_STRING_free(ip);
  return true;
}

}  // namespace

Napi::Function DtlsContext::Define(Napi::Env env, AddonData* data) {
  return DefineClass(env, "DtlsContext",
                     {
                         InstanceMethod("createSession", &DtlsContext::CreateSession),
                         InstanceMethod("ciphers", &DtlsContext::Ciphers),
                     },
                     data);
}

DtlsContext::DtlsContext(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<DtlsContext>(info), data_(static_cast<AddonData*>(info.Data())) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    Napi::TypeError::New(env, "DtlsContext(options): options object required").ThrowAsJavaScriptException();
    return;
  }
  ERR_clear_error();
  if (!Configure(env, info[0].As<Napi::Object>())) {
    state_.reset();
    ERR_clear_error();
  }
}

bool DtlsContext::Configure(Napi::Env env, const Napi::Object& o) {
  auto fail = [&](const std::string& msg) {
    Napi::Error::New(env, "DtlsContext: " + msg).ThrowAsJavaScriptException();
    return false;
  };

  std::string role;
  OptString(o, "role", &role);
  if (role == "client") return ConfigureClient(env, o);
  if (role != "server") return fail("role must be 'server' or 'client'");

  Napi::Value secretV = o.Get("cookieSecret");
  if (!secretV.IsBuffer()) return fail("cookieSecret must be a Buffer");
  auto secret = secretV.As<Napi::Buffer<uint8_t>>();
  if (secret.Length() < 16) return fail("cookieSecret must be at least 16 bytes");

  std::vector<std::string> suites;
  std::string err = ReadSuites(o, &suites);
  if (!err.empty()) return fail(err);

  long mtu = 1232;
  err = ReadMtu(o, &mtu);
  if (!err.empty()) return fail(err);

  state_ = std::make_shared<ContextState>();
  state_->cookieSecret.assign(secret.Data(), secret.Data() + secret.Length());
  state_->mtu = mtu;
  SSL_CTX* ctx = SSL_CTX_new(DTLS_server_method());
  if (ctx == nullptr) return fail("SSL_CTX_new failed: " + OpenSslErrors());
  state_->ctx = ctx;

  err = PinProtocolAndSuites(ctx, suites);
  if (!err.empty()) return fail(err);

  // The harness's configured order decides, so a run picks the same suite every time.
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_COOKIE_EXCHANGE | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_NO_COMPRESSION);
  static const unsigned char kSidCtx[] = "geisa-adm-dtls";
  SSL_CTX_set_session_id_context(ctx, kSidCtx, sizeof kSidCtx - 1);

  std::string certPem, keyPem, caPem;
  const bool hasCert = OptString(o, "certPem", &certPem) && !certPem.empty();
  const bool hasKey = OptString(o, "keyPem", &keyPem) && !keyPem.empty();
  const bool hasCa = OptString(o, "caPem", &caPem) && !caPem.empty();
  if (hasCert != hasKey) return fail("certPem and keyPem go together");
  if (hasCert) {
    err = UseCertAndKey(ctx, certPem, keyPem);
    if (!err.empty()) return fail(err);
  }
  if (hasCa) {
    std::vector<X509*> cas = ReadCerts(caPem);
    if (cas.empty()) return fail("caPem holds no certificate");
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    bool ok = true;
    for (X509* x : cas) {
      // Also named in the CertificateRequest, which is how a client picks its certificate.
      ok = ok && X509_STORE_add_cert(store, x) == 1 && SSL_CTX_add_client_CA(ctx, x) == 1;
      X509_free(x);
    }
    if (!ok) return fail("cannot load caPem: " + OpenSslErrors());
  }

  const bool requireValid = OptBool(o, "requireValidClientCert");
  const bool request = requireValid || OptBool(o, "requestClientCert");
  const bool psk = OptBool(o, "psk");
  if (!psk && !hasCert) return fail("neither psk nor certPem/keyPem: no cipher could be negotiated");
  if (request) {
    // Default: ask for the certificate, record what verification says, let the handshake
    // finish; the case judges. requireValidClientCert makes OpenSSL refuse instead.
    int mode = SSL_VERIFY_PEER | (requireValid ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
    SSL_CTX_set_verify(ctx, mode, requireValid ? nullptr : AcceptAndRecord);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  // With psk, deliberately no SSL_CTX_use_psk_identity_hint: no hint goes on the wire,
  // since some clients fail on one and LwM2M does not use it.
  DtlsSession::InstallCallbacks(ctx, psk);
  return true;
}

bool DtlsContext::ConfigureClient(Napi::Env env, const Napi::Object& o) {
  auto fail = [&](const std::string& msg) {
    Napi::Error::New(env, "DtlsContext: " + msg).ThrowAsJavaScriptException();
    return false;
  };
  // A server option on a client context is a caller's mix-up; silently ignoring it would
  // leave them believing, say, that client certificates are being checked.
  for (const char* serverOnly : {"cookieSecret", "requestClientCert", "requireValidClientCert"}) {
    if (!o.Get(serverOnly).IsUndefined()) return fail(std::string(serverOnly) + " is a server option: role must be 'server'");
  }

  std::vector<std::string> suites;
  std::string err = ReadSuites(o, &suites);
  if (!err.empty()) return fail(err);
  long mtu = 1232;
  err = ReadMtu(o, &mtu);
  if (!err.empty()) return fail(err);

  std::string certPem, keyPem, caPem;
  const bool hasCert = OptString(o, "certPem", &certPem) && !certPem.empty();
  const bool hasKey = OptString(o, "keyPem", &keyPem) && !keyPem.empty();
  const bool hasCa = OptString(o, "caPem", &caPem) && !caPem.empty();
  if (hasCert != hasKey) return fail("certPem and keyPem go together");
  const bool psk = OptBool(o, "psk");

  // LwM2M Certificate Usage (Security /0/x/15) is RFC 6698's TLSA usage, so each value
  // maps onto OpenSSL's DANE verifier with a Cert(0)/Full(0) record holding the
  // certificate the usage names (the Server Public Key resource).
  int daneUsage = -1;
  Bytes daneDer;
  Napi::Value daneV = o.Get("dane");
  if (!daneV.IsUndefined()) {
    if (!daneV.IsObject()) return fail("dane must be { usage: 0..3, certPem }");
    Napi::Object d = daneV.As<Napi::Object>();
    Napi::Value u = d.Get("usage");
    std::string danePem;
    if (!u.IsNumber()) return fail("dane.usage must be 0, 1, 2 or 3");
    const double uv = u.As<Napi::Number>().DoubleValue();
    if (uv != 0 && uv != 1 && uv != 2 && uv != 3) return fail("dane.usage must be 0, 1, 2 or 3");
    daneUsage = static_cast<int>(uv);
    if (!OptString(d, "certPem", &danePem) || danePem.empty()) return fail("dane.certPem is required");
    std::vector<X509*> certs = ReadCerts(danePem);
    if (certs.size() != 1) {
      for (X509* x : certs) X509_free(x);
      return fail("dane.certPem must hold exactly one certificate");
    }
    unsigned char* der = nullptr;
    const int len = i2d_X509(certs[0], &der);
    X509_free(certs[0]);
    if (len <= 0) return fail("dane.certPem cannot be encoded: " + OpenSslErrors());
    daneDer.assign(der, der + len);
    OPENSSL_free(der);
    // PKIX-TA and PKIX-EE add to path validation, they do not replace it: the chain
    // must still reach an anchor of the trust store.
    if ((daneUsage == 0 || daneUsage == 1) && !hasCa)
      return fail("certificate usage " + std::to_string(daneUsage) + " (PKIX) also needs caPem, the trust store the chain must validate to");
  }

  std::string verify;
  bool verifyPeer = hasCa || daneUsage >= 0;
  if (OptString(o, "verifyServer", &verify)) {
    if (verify == "chain") verifyPeer = true;
    else if (verify == "none") verifyPeer = false;
    else return fail("verifyServer must be 'none' or 'chain'");
  } else if (!o.Get("verifyServer").IsUndefined()) {
    return fail("verifyServer must be 'none' or 'chain'");
  }
  if (verifyPeer && !hasCa && daneUsage < 0) return fail("verifyServer 'chain' needs caPem or dane: nothing to verify the server against");

  std::string expected, sni;
  OptString(o, "expectedServerName", &expected);
  OptString(o, "sni", &sni);
  if (expected.find('\0') != std::string::npos) return fail("expectedServerName holds a NUL");
  if (!expected.empty() && !verifyPeer)
    return fail("expectedServerName needs verification (caPem, dane or verifyServer 'chain'): a name check alone proves nothing");
  // RFC 6066 §3: a HostName is an ASCII DNS name, at most 255 bytes, no trailing dot.
  if (sni.size() > 255 || sni.find('\0') != std::string::npos) return fail("sni must be a DNS name of at most 255 bytes");

  state_ = std::make_shared<ContextState>();
  state_->mtu = mtu;
  state_->client = true;
  state_->verifyServer = verifyPeer;
  state_->expectedServerName = expected;
  state_->expectedIsIp = !expected.empty() && IsIpLiteral(expected);
  state_->sni = sni;
  state_->daneUsage = daneUsage;
  state_->daneCertDer = std::move(daneDer);

  SSL_CTX* ctx = SSL_CTX_new(DTLS_client_method());
  if (ctx == nullptr) return fail("SSL_CTX_new failed: " + OpenSslErrors());
  state_->ctx = ctx;
  err = PinProtocolAndSuites(ctx, suites);
  if (!err.empty()) return fail(err);
  // No resumption is ever attempted, so a ticket would only be dead weight on the wire.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);

  if (hasCert) {
    err = UseCertAndKey(ctx, certPem, keyPem);
    if (!err.empty()) return fail(err);
  }
  if (hasCa) {
    std::vector<X509*> cas = ReadCerts(caPem);
    if (cas.empty()) return fail("caPem holds no certificate");
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    bool ok = true;
    for (X509* x : cas) {
      ok = ok && X509_STORE_add_cert(store, x) == 1;
      X509_free(x);
    }
    if (!ok) return fail("cannot load caPem: " + OpenSslErrors());
  }
  if (daneUsage >= 0 && SSL_CTX_dane_enable(ctx) <= 0) return fail("cannot enable DANE: " + OpenSslErrors());
  DtlsSession::InstallClientCallbacks(ctx, psk, verifyPeer);
  return true;
}

Napi::Value DtlsContext::Ciphers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  if (!state_) return out;
  STACK_OF(SSL_CIPHER)* cs = SSL_CTX_get_ciphers(state_->ctx);
  for (int i = 0; cs != nullptr && i < sk_SSL_CIPHER_num(cs); i++) {
    const SSL_CIPHER* c = sk_SSL_CIPHER_value(cs, i);
    Napi::Object e = Napi::Object::New(env);
    e.Set("name", SSL_CIPHER_get_name(c));
    const char* std_name = SSL_CIPHER_standard_name(c);
    e.Set("standardName", std_name != nullptr ? Napi::Value(Napi::String::New(env, std_name)) : env.Null());
    e.Set("id", Napi::Number::New(env, SSL_CIPHER_get_protocol_id(c)));
    out.Set(static_cast<uint32_t>(i), e);
  }
  return out;
}

Napi::Value DtlsContext::CreateSession(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!state_) {
    Napi::Error::New(env, "DtlsContext was not configured").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::vector<napi_value> args = {Value()};
  for (size_t i = 0; i < info.Length(); i++) args.push_back(info[i]);
  return data_->sessionCtor.New(args);
}

}  // namespace geisa_dtls
