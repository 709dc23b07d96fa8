#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/time.h>

#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "dtls.h"

namespace geisa_dtls {

int SessionExIndex() {
  static int index = -1;
  static std::once_flag once;
  std::call_once(once, [] { index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr); });
  return index;
}

namespace {

constexpr size_t kCookieLen = 16;
// feed() hands OpenSSL one datagram and drains it before returning; a deep queue could
// only come from a bug, so it is capped rather than trusted.
constexpr size_t kMaxQueued = 16;
constexpr size_t kRecordHeader = 13;  // RFC 6347 §4.1: type, version, epoch, seq(6), length
constexpr uint8_t kContentAlert = 21;
constexpr uint8_t kContentHandshake = 22;

DtlsSession* FromSsl(const SSL* ssl) { return static_cast<DtlsSession*>(SSL_get_ex_data(ssl, SessionExIndex())); }

uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

// Identities come from the device: print them, but never let them forge a log line.
std::string Printable(const char* s) {
  std::string out;
  for (size_t i = 0; s != nullptr && s[i] != '\0' && i < 128; i++) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

// True if the datagram carries a handshake record under a non-zero epoch, i.e. an
// encrypted Finished. OpenSSL drops a record that fails authentication without a word
// (RFC 6347 §4.1.2.7 allows that), so this is how a wrong PSK becomes visible at once
// instead of after a minute of retransmissions.
bool HasProtectedHandshake(const Bytes& d) {
  size_t off = 0;
  while (off + kRecordHeader <= d.size()) {
    const uint8_t* r = d.data() + off;
    if (r[0] == kContentHandshake && Be16(r + 3) != 0) return true;
    off += kRecordHeader + Be16(r + 11);
  }
  return false;
}

// Highest epoch-0 sequence number among the records of an outgoing datagram, or -1.
int64_t MaxPlainSeq(const Bytes& d) {
  int64_t max = -1;
  size_t off = 0;
  while (off + kRecordHeader <= d.size()) {
    const uint8_t* r = d.data() + off;
    if (Be16(r + 3) == 0) {
      int64_t seq = 0;
      for (int i = 5; i < 11; i++) seq = (seq << 8) | r[i];
      if (seq > max) max = seq;
    }
    off += kRecordHeader + Be16(r + 11);
  }
  return max;
}

Napi::Buffer<uint8_t> CopyBuffer(Napi::Env env, const uint8_t* p, size_t n) {
  return Napi::Buffer<uint8_t>::Copy(env, p, n);
}

}  // namespace

struct SessionCallbacks {
  static bool Cookie(DtlsSession* s, unsigned char* out) {
    const Bytes& secret = s->ctxState_->cookieSecret;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdLen = 0;
    // RFC 6347 §4.2.1: a stateless cookie bound to the peer's address. The label is the
    // peer's "address:port", set by JS from the socket, never from the packet.
    if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
             reinterpret_cast<const unsigned char*>(s->label_.data()), s->label_.size(), md, &mdLen) == nullptr ||
        mdLen < kCookieLen)
      return false;
    std::memcpy(out, md, kCookieLen);
    OPENSSL_cleanse(md, sizeof md);
    return true;
  }

  static int CookieGenerate(SSL* ssl, unsigned char* cookie, unsigned int* len) {
    DtlsSession* s = FromSsl(ssl);
    if (s == nullptr || !Cookie(s, cookie)) return 0;
    *len = kCookieLen;
    return 1;
  }

  static int CookieVerify(SSL* ssl, const unsigned char* cookie, unsigned int len) {
    DtlsSession* s = FromSsl(ssl);
    unsigned char expected[kCookieLen];
    if (s == nullptr || len != kCookieLen || !Cookie(s, expected)) return 0;
    const bool ok = CRYPTO_memcmp(expected, cookie, kCookieLen) == 0;
    if (ok) s->cookieVerified_ = true;
    else s->callbackNote_ = "ClientHello cookie does not match this peer";
    return ok ? 1 : 0;
  }

  static unsigned int Psk(SSL* ssl, const char* identity, unsigned char* psk, unsigned int maxLen) {
    DtlsSession* s = FromSsl(ssl);
    if (s == nullptr || !s->inCall_ || s->pskLookup_.IsEmpty()) {
      if (s != nullptr) s->callbackNote_ = "no pskLookup callback";
      return 0;
    }
    Napi::Env env = s->Env();
    Napi::HandleScope scope(env);
    const std::string id = identity != nullptr ? identity : "";
    Napi::Value r = s->pskLookup_.Call(
        {Napi::String::New(env, id), CopyBuffer(env, reinterpret_cast<const uint8_t*>(id.data()), id.size())});
    if (env.IsExceptionPending()) {
      // The message is not repeated: it is the caller's text and might name a key.
      env.GetAndClearPendingException();
      s->callbackNote_ = "pskLookup threw for identity '" + Printable(identity) + "'";
      return 0;
    }
    if (!r.IsBuffer()) {
      s->callbackNote_ = "unknown PSK identity '" + Printable(identity) + "'";
      return 0;
    }
    auto key = r.As<Napi::Buffer<uint8_t>>();
    if (key.Length() == 0 || key.Length() > maxLen) {
      s->callbackNote_ = "PSK for identity '" + Printable(identity) + "' has an unusable length of " +
                         std::to_string(key.Length()) + " bytes";
      return 0;
    }
    std::memcpy(psk, key.Data(), key.Length());
    return static_cast<unsigned int>(key.Length());
  }

  static int ClientHello(SSL* ssl, int* alert, void* arg) {
    DtlsSession* s = FromSsl(ssl);
    if (s == nullptr) return SSL_CLIENT_HELLO_SUCCESS;
    s->clientHelloCount_++;
    const unsigned char* c = nullptr;
    size_t n = SSL_client_hello_get0_ciphers(ssl, &c);
    s->offeredCiphers_.clear();
    for (size_t i = 0; c != nullptr && i + 1 < n; i += 2) s->offeredCiphers_.push_back(Be16(c + i));
    int* ext = nullptr;
    size_t extLen = 0;
    if (SSL_client_hello_get1_extensions_present(ssl, &ext, &extLen) == 1) {
      s->offeredExtensions_.assign(ext, ext + extLen);
      OPENSSL_free(ext);
    }
    return SSL_CLIENT_HELLO_SUCCESS;
  }

  // Client role. OpenSSL asks once the server's flight is in (the hint, if any, came in
  // its ServerKeyExchange); JS answers synchronously with the identity and key to use.
  static unsigned int PskClient(SSL* ssl, const char* hint, char* identity, unsigned int maxIdentityLen,
                                unsigned char* psk, unsigned int maxPskLen) {
    DtlsSession* s = FromSsl(ssl);
    if (s == nullptr) return 0;
    s->pskHintSeen_ = hint != nullptr;
    s->pskHint_ = hint != nullptr ? Printable(hint) : "";
    if (!s->inCall_ || s->pskIdentity_.IsEmpty()) {
      s->callbackNote_ = "no pskIdentity callback: this client has no PSK to offer";
      return 0;
    }
    Napi::Env env = s->Env();
    Napi::HandleScope scope(env);
    Napi::Value r = s->pskIdentity_.Call({hint != nullptr ? Napi::Value(Napi::String::New(env, hint)) : env.Null()});
    if (env.IsExceptionPending()) {
      // Not repeated: the caller's text might name the key.
      env.GetAndClearPendingException();
      s->callbackNote_ = "pskIdentity callback threw";
      return 0;
    }
    if (!r.IsObject()) {
      s->callbackNote_ = "pskIdentity callback gave no PSK";
      return 0;
    }
    Napi::Object o = r.As<Napi::Object>();
    Napi::Value idV = o.Get("identity");
    Napi::Value keyV = o.Get("key");
    std::string id;
    if (idV.IsBuffer()) {
      auto b = idV.As<Napi::Buffer<uint8_t>>();
      id.assign(reinterpret_cast<const char*>(b.Data()), b.Length());
    } else if (idV.IsString()) {
      id = idV.As<Napi::String>().Utf8Value();
    } else {
      s->callbackNote_ = "pskIdentity callback: identity must be a Buffer or a string";
      return 0;
    }
    // OpenSSL takes the identity as a C string: an embedded NUL would silently cut it.
    if (id.empty() || id.size() >= maxIdentityLen || id.find('\0') != std::string::npos) {
      s->callbackNote_ = "PSK identity '" + Printable(id.c_str()) + "' is unusable (" + std::to_string(id.size()) +
                         " bytes; 1 to " + std::to_string(maxIdentityLen - 1) + " without NUL)";
      return 0;
    }
    if (!keyV.IsBuffer()) {
      s->callbackNote_ = "pskIdentity callback: key must be a Buffer";
      return 0;
    }
    auto key = keyV.As<Napi::Buffer<uint8_t>>();
    if (key.Length() == 0 || key.Length() > maxPskLen) {
      s->callbackNote_ = "PSK for identity '" + Printable(id.c_str()) + "' has an unusable length of " +
                         std::to_string(key.Length()) + " bytes";
      return 0;
    }
    std::memcpy(identity, id.data(), id.size());
    identity[id.size()] = '\0';
    std::memcpy(psk, key.Data(), key.Length());
    return static_cast<unsigned int>(key.Length());
  }

  // Client role. Leaves OpenSSL's decision alone (preverified is returned as is); keeps
  // the first complaint, since OpenSSL's verify result only holds the last one.
  static int Verify(int preverified, X509_STORE_CTX* x) {
    if (preverified != 1) {
      SSL* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx()));
      DtlsSession* s = ssl != nullptr ? FromSsl(ssl) : nullptr;
      if (s != nullptr && s->verifyError_ == 0) {
        s->verifyError_ = X509_STORE_CTX_get_error(x);
        s->verifyErrorDepth_ = X509_STORE_CTX_get_error_depth(x);
      }
    }
    return preverified;
  }

  static void Keylog(const SSL* ssl, const char* line) {
    DtlsSession* s = FromSsl(ssl);
    if (s == nullptr || !s->inCall_ || s->keylog_.IsEmpty() || line == nullptr) return;
    Napi::Env env = s->Env();
    Napi::HandleScope scope(env);
    s->keylog_.Call({Napi::String::New(env, line)});
    if (env.IsExceptionPending()) env.GetAndClearPendingException();
  }

  // DTLS_set_timer_cb: OpenSSL asks for the first timer (previousUs 0) when a flight goes
  // out and for the next one on each retransmission. Without an answer from JS it keeps
  // its own schedule (1 s doubling to 60 s), which is also what JS answers by default.
  static unsigned int RetransmitTimer(SSL* ssl, unsigned int previousUs) {
    const unsigned int fallback = previousUs == 0 ? 1000000u : (previousUs >= 30000000u ? 60000000u : previousUs * 2u);
    DtlsSession* s = FromSsl(ssl);
    if (s == nullptr || !s->inCall_ || s->retransmitTimer_.IsEmpty()) return fallback;
    Napi::Env env = s->Env();
    Napi::HandleScope scope(env);
    Napi::Value r = s->retransmitTimer_.Call({Napi::Number::New(env, static_cast<double>(previousUs))});
    if (env.IsExceptionPending()) {
      env.GetAndClearPendingException();
      return fallback;
    }
    if (!r.IsNumber()) return fallback;
    const double us = r.As<Napi::Number>().DoubleValue();
    if (!(us >= 1000.0 && us <= 60000000.0)) return fallback;
    return static_cast<unsigned int>(us);
  }

  static void Info(const SSL* ssl, int where, int ret) {
    if ((where & SSL_CB_ALERT) == 0) return;
    DtlsSession* s = FromSsl(ssl);
    if (s == nullptr) return;
    s->alerts_.push_back(AlertRecord{SSL_alert_type_string_long(ret), SSL_alert_desc_string_long(ret), ret & 0xff,
                                     (where & SSL_CB_WRITE) != 0});
  }
};

void DtlsSession::InstallCallbacks(SSL_CTX* ctx, bool psk) {
  SSL_CTX_set_cookie_generate_cb(ctx, SessionCallbacks::CookieGenerate);
  SSL_CTX_set_cookie_verify_cb(ctx, SessionCallbacks::CookieVerify);
  SSL_CTX_set_client_hello_cb(ctx, SessionCallbacks::ClientHello, nullptr);
  SSL_CTX_set_keylog_callback(ctx, SessionCallbacks::Keylog);
  SSL_CTX_set_info_callback(ctx, SessionCallbacks::Info);
  if (psk) SSL_CTX_set_psk_server_callback(ctx, SessionCallbacks::Psk);
}

void DtlsSession::InstallClientCallbacks(SSL_CTX* ctx, bool psk, bool verifyPeer) {
  SSL_CTX_set_keylog_callback(ctx, SessionCallbacks::Keylog);
  SSL_CTX_set_info_callback(ctx, SessionCallbacks::Info);
  // Verification runs either way (its result is reported); the mode only says whether a
  // failure aborts the handshake.
  SSL_CTX_set_verify(ctx, verifyPeer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, SessionCallbacks::Verify);
  // Without the callback OpenSSL leaves PSK suites out of the ClientHello altogether.
  if (psk) SSL_CTX_set_psk_client_callback(ctx, SessionCallbacks::PskClient);
}

Napi::Function DtlsSession::Define(Napi::Env env, AddonData* data) {
  return DefineClass(env, "DtlsSession",
                     {
                         InstanceMethod("connect", &DtlsSession::Connect),
                         InstanceMethod("feed", &DtlsSession::Feed),
                         InstanceMethod("write", &DtlsSession::Write),
                         InstanceMethod("timeoutMs", &DtlsSession::TimeoutMs),
                         InstanceMethod("handleTimeout", &DtlsSession::HandleTimeout),
                         InstanceMethod("shutdown", &DtlsSession::Shutdown),
                         InstanceMethod("info", &DtlsSession::Info),
                         InstanceMethod("free", &DtlsSession::Free),
                     },
                     data);
}

DtlsSession::DtlsSession(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DtlsSession>(info) {
  Napi::Env env = info.Env();
  auto* data = static_cast<AddonData*>(info.Data());
  if (info.Length() < 2 || !info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(data->contextCtor.Value()) ||
      !info[1].IsString()) {
    Napi::TypeError::New(env, "use DtlsContext.createSession(peerLabel, callbacks)").ThrowAsJavaScriptException();
    return;
  }
  DtlsContext* context = DtlsContext::Unwrap(info[0].As<Napi::Object>());
  if (context == nullptr || !context->state()) {
    Napi::Error::New(env, "DtlsContext was not configured").ThrowAsJavaScriptException();
    return;
  }
  ctxState_ = context->state();
  label_ = info[1].As<Napi::String>().Utf8Value();
  if (info.Length() >= 3 && info[2].IsObject()) {
    Napi::Object cb = info[2].As<Napi::Object>();
    Napi::Value psk = cb.Get("pskLookup");
    if (psk.IsFunction()) pskLookup_ = Napi::Persistent(psk.As<Napi::Function>());
    Napi::Value kl = cb.Get("keylog");
    if (kl.IsFunction()) keylog_ = Napi::Persistent(kl.As<Napi::Function>());
    Napi::Value pi = cb.Get("pskIdentity");
    if (pi.IsFunction()) pskIdentity_ = Napi::Persistent(pi.As<Napi::Function>());
    Napi::Value rt = cb.Get("retransmitTimerUs");
    if (rt.IsFunction()) retransmitTimer_ = Napi::Persistent(rt.As<Napi::Function>());
  }
  queues_.queryMtu = ctxState_->mtu;

  ERR_clear_error();
  ssl_ = SSL_new(ctxState_->ctx);
  BIO* bio = ssl_ != nullptr ? NewDatagramBio(&queues_) : nullptr;
  if (bio == nullptr) {
    std::string why = OpenSslErrors();
    Release();
    Napi::Error::New(env, "cannot create DTLS session: " + why).ThrowAsJavaScriptException();
    return;
  }
  SSL_set_ex_data(ssl_, SessionExIndex(), this);
  SSL_set_bio(ssl_, bio, bio);  // one BIO, one reference: SSL_free releases it
  if (!retransmitTimer_.IsEmpty()) DTLS_set_timer_cb(ssl_, SessionCallbacks::RetransmitTimer);
  if (!IsClient()) {
    SSL_set_accept_state(ssl_);
    return;
  }
  std::string why;
  if (!SetUpClient(&why)) {
    Release();
    Napi::Error::New(env, "cannot create DTLS client session: " + why).ThrowAsJavaScriptException();
  }
}

bool DtlsSession::SetUpClient(std::string* why) {
  const ContextState& c = *ctxState_;
  // Before DANE: SSL_dane_enable fills an unset SNI from its base domain, and only an SNI
  // already set is left alone.
  if (!c.sni.empty() && SSL_set_tlsext_host_name(ssl_, c.sni.c_str()) != 1) {
    *why = "cannot set SNI: " + OpenSslErrors();
    return false;
  }
  if (c.daneUsage >= 0) {
    // No base domain: OpenSSL would take it as both the SNI and the name to check, and
    // both are the caller's separate choices (sni, expectedServerName), set around it.
    // The record is Cert(0)/Full(0): the whole certificate, compared byte for byte, which
    // also lets a DANE-TA(2) anchor act as the issuer when the server leaves it out.
    if (SSL_dane_enable(ssl_, nullptr) <= 0 ||
        SSL_dane_tlsa_add(ssl_, static_cast<uint8_t>(c.daneUsage), 0, 0, c.daneCertDer.data(), c.daneCertDer.size()) <= 0) {
      *why = "cannot set up DANE: " + OpenSslErrors();
      return false;
    }
  }
  if (!c.expectedServerName.empty()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    int ok;
    if (c.expectedIsIp) {
      ok = X509_VERIFY_PARAM_set1_ip_asc(param, c.expectedServerName.c_str());
    } else {
      // "*.example.com" matches one whole label only, never "w*.example.com".
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      ok = X509_VERIFY_PARAM_set1_host(param, c.expectedServerName.c_str(), c.expectedServerName.size());
    }
    if (ok != 1) {
      *why = "cannot set the expected server name: " + OpenSslErrors();
      return false;
    }
  }
  SSL_set_connect_state(ssl_);
  return true;
}

DtlsSession::~DtlsSession() { Release(); }

void DtlsSession::Release() {
  if (ssl_ != nullptr) {
    // Clear the back-pointer first: nothing OpenSSL does while freeing may reach us.
    SSL_set_ex_data(ssl_, SessionExIndex(), nullptr);
    SSL_free(ssl_);
    ssl_ = nullptr;
    ERR_clear_error();
  }
  queues_.in.clear();
  queues_.out.clear();
  pskLookup_.Reset();
  keylog_.Reset();
  pskIdentity_.Reset();
  retransmitTimer_.Reset();
  closed_ = true;
}

bool DtlsSession::EnterCall(Napi::Env env) {
  if (inCall_) {
    Napi::Error::New(env, "DtlsSession: re-entrant call from inside a callback").ThrowAsJavaScriptException();
    return false;
  }
  inCall_ = true;
  callbackNote_.clear();
  // OpenSSL's error queue is per thread and shared with node:crypto: start clean and
  // leave clean, so neither side reads the other's errors.
  ERR_clear_error();
  return true;
}

void DtlsSession::LeaveCall() {
  ERR_clear_error();
  inCall_ = false;
  if (freeRequested_) Release();
}

std::string DtlsSession::DrainErrorQueue() { return OpenSslErrors(); }

void DtlsSession::Fail(const std::string& why) {
  if (!failed_ && !established_) failed_ = true;
  if (error_.empty()) error_ = why;
  closed_ = true;
}

void DtlsSession::FailFromSslError(int sslError) {
  std::string errs = DrainErrorQueue();
  std::string why = callbackNote_;
  if (IsClient() && ctxState_->verifyServer && verifyError_ != 0) {
    // What OpenSSL's "certificate verify failed" does not say: why, and at which certificate.
    std::string v = "server certificate verification failed: " + std::string(X509_verify_cert_error_string(verifyError_)) +
                    " (X509 error " + std::to_string(verifyError_) + " at depth " + std::to_string(verifyErrorDepth_) + ")";
    why = why.empty() ? v : v + "; " + why;
  }
  if (!errs.empty()) why += (why.empty() ? "" : ": ") + errs;
  if (why.empty()) {
    why = sslError == SSL_ERROR_SYSCALL ? "transport error" : "DTLS error " + std::to_string(sslError);
  }
  Fail(why);
}

void DtlsSession::SendPlainFatalAlert(uint8_t description) {
  // OpenSSL has no public call to send an arbitrary alert. Until our CCS the write epoch
  // is 0, so the alert is a plaintext record: next sequence number after ours.
  Bytes rec = {kContentAlert, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, description};
  uint64_t seq = static_cast<uint64_t>(lastPlainSeq_ + 1);
  for (int i = 10; i >= 5; i--) {
    rec[i] = static_cast<uint8_t>(seq & 0xff);
    seq >>= 8;
  }
  queues_.out.push_back(std::move(rec));
  alerts_.push_back(AlertRecord{"fatal", SSL_alert_desc_string_long((2 << 8) | description), description, true});
}

void DtlsSession::Drive(bool protectedHandshakeIn) {
  if (ssl_ == nullptr || closed_) {
    queues_.in.clear();
    return;
  }
  if (!established_) {
    int r = SSL_do_handshake(ssl_);
    if (r == 1) {
      established_ = true;
    } else {
      int e = SSL_get_error(ssl_, r);
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        FailFromSslError(e);
      } else if (protectedHandshakeIn && SSL_get_state(ssl_) == TLS_ST_SR_CHANGE) {
        // We read the client's ChangeCipherSpec, then its Finished failed authentication:
        // the PSK (or premaster secret) differs. Fail now, as RFC 6347 §4.1.2.7 permits.
        ERR_clear_error();
        SendPlainFatalAlert(20 /* bad_record_mac */);
        Fail(callbackNote_.empty() ? "client Finished failed authentication (wrong key?)" : callbackNote_);
      }
    }
  }
  if (established_ && !closed_) {
    std::vector<uint8_t> buf(16384);
    for (;;) {
      int n = SSL_read(ssl_, buf.data(), static_cast<int>(buf.size()));
      if (n > 0) {
        app_.emplace_back(buf.begin(), buf.begin() + n);
        continue;
      }
      int e = SSL_get_error(ssl_, n);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
      if (e == SSL_ERROR_ZERO_RETURN) {
        // close_notify from the peer: answer in kind (RFC 5246 §7.2.1) and stop.
        peerClosed_ = true;
        if (!shutdownSent_) {
          SSL_shutdown(ssl_);
          shutdownSent_ = true;
        }
        closed_ = true;
        break;
      }
      FailFromSslError(e);
      break;
    }
  }
  queues_.in.clear();
}

Napi::Array DtlsSession::TakeOut(Napi::Env env) {
  Napi::Array out = Napi::Array::New(env, queues_.out.size());
  uint32_t i = 0;
  for (const Bytes& d : queues_.out) {
    int64_t seq = MaxPlainSeq(d);
    if (seq > lastPlainSeq_) lastPlainSeq_ = seq;
    out.Set(i++, CopyBuffer(env, d.data(), d.size()));
  }
  queues_.out.clear();
  return out;
}

Napi::Array DtlsSession::TakeAlerts(Napi::Env env) {
  Napi::Array out = Napi::Array::New(env, alerts_.size());
  uint32_t i = 0;
  for (const AlertRecord& a : alerts_) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("level", a.level);
    o.Set("description", a.description);
    o.Set("code", Napi::Number::New(env, a.code));
    o.Set("sent", Napi::Boolean::New(env, a.sent));
    out.Set(i++, o);
  }
  alerts_.clear();
  return out;
}

Napi::Object DtlsSession::Result(Napi::Env env) {
  Napi::Object r = Napi::Object::New(env);
  r.Set("out", TakeOut(env));
  Napi::Array app = Napi::Array::New(env, app_.size());
  for (uint32_t i = 0; i < app_.size(); i++) app.Set(i, CopyBuffer(env, app_[i].data(), app_[i].size()));
  app_.clear();
  r.Set("app", app);
  r.Set("established", Napi::Boolean::New(env, established_));
  r.Set("closed", Napi::Boolean::New(env, closed_));
  r.Set("failed", Napi::Boolean::New(env, failed_));
  r.Set("peerClosed", Napi::Boolean::New(env, peerClosed_));
  r.Set("cookieVerified", Napi::Boolean::New(env, cookieVerified_));
  if (!error_.empty()) r.Set("error", error_);
  r.Set("alerts", TakeAlerts(env));
  return r;
}

Napi::Value DtlsSession::Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsClient()) {
    Napi::TypeError::New(env, "connect() is for sessions of a client context").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!EnterCall(env)) return env.Undefined();
  // With nothing queued, this writes the ClientHello and stops, wanting a read.
  Drive(false);
  Napi::Object r = Result(env);
  LeaveCall();
  return r;
}

Napi::Value DtlsSession::Feed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBuffer()) {
    Napi::TypeError::New(env, "feed(datagram: Buffer)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!EnterCall(env)) return env.Undefined();
  bool protectedHandshake = false;
  if (ssl_ != nullptr && !closed_) {
    auto buf = info[0].As<Napi::Buffer<uint8_t>>();
    if (buf.Length() > 0 && queues_.in.size() < kMaxQueued) {
      queues_.in.emplace_back(buf.Data(), buf.Data() + buf.Length());
      protectedHandshake = !established_ && HasProtectedHandshake(queues_.in.back());
    }
    Drive(protectedHandshake);
  }
  Napi::Object r = Result(env);
  LeaveCall();
  return r;
}

Napi::Value DtlsSession::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBuffer()) {
    Napi::TypeError::New(env, "write(data: Buffer)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!EnterCall(env)) return env.Undefined();
  std::string err;
  if (ssl_ == nullptr || !established_ || closed_) {
    err = "session is not established";
  } else {
    auto buf = info[0].As<Napi::Buffer<uint8_t>>();
    if (buf.Length() == 0) {
      err = "empty application data";
    } else {
      int n = SSL_write(ssl_, buf.Data(), static_cast<int>(buf.Length()));
      if (n <= 0) {
        err = OpenSslErrors();
        if (err.empty()) err = "SSL_write failed (" + std::to_string(SSL_get_error(ssl_, n)) + ")";
      }
    }
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("out", TakeOut(env));
  if (!err.empty()) r.Set("error", err);
  LeaveCall();
  return r;
}

Napi::Value DtlsSession::TimeoutMs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct timeval tv {};
  if (ssl_ == nullptr || closed_ || DTLSv1_get_timeout(ssl_, &tv) != 1) return Napi::Number::New(env, -1);
  // Rounded up: a timer that fires before OpenSSL's clock says so retransmits nothing.
  double ms = static_cast<double>(tv.tv_sec) * 1000.0 + static_cast<double>((tv.tv_usec + 999) / 1000);
  return Napi::Number::New(env, ms);
}

Napi::Value DtlsSession::HandleTimeout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!EnterCall(env)) return env.Undefined();
  bool failedNow = false;
  if (ssl_ != nullptr && !closed_) {
    int r = DTLSv1_handle_timeout(ssl_);
    if (r < 0) {
      std::string errs = OpenSslErrors();
      Fail("handshake timed out: the peer stopped answering retransmissions" + (errs.empty() ? "" : " (" + errs + ")"));
      failedNow = true;
    }
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("out", TakeOut(env));
  r.Set("failed", Napi::Boolean::New(env, failedNow));
  if (failedNow) r.Set("error", error_);
  LeaveCall();
  return r;
}

Napi::Value DtlsSession::Shutdown(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!EnterCall(env)) return env.Undefined();
  if (ssl_ != nullptr && established_ && !closed_ && !shutdownSent_) {
    SSL_shutdown(ssl_);
    shutdownSent_ = true;
  }
  closed_ = true;
  Napi::Object r = Napi::Object::New(env);
  r.Set("out", TakeOut(env));
  LeaveCall();
  return r;
}

Napi::Value DtlsSession::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("label", label_);
  o.Set("role", IsClient() ? "client" : "server");
  o.Set("established", Napi::Boolean::New(env, established_));
  o.Set("closed", Napi::Boolean::New(env, closed_));
  o.Set("clientHelloCount", Napi::Number::New(env, clientHelloCount_));
  Napi::Array ciphers = Napi::Array::New(env, offeredCiphers_.size());
  for (uint32_t i = 0; i < offeredCiphers_.size(); i++) ciphers.Set(i, Napi::Number::New(env, offeredCiphers_[i]));
  o.Set("clientOfferedCiphers", ciphers);
  Napi::Array exts = Napi::Array::New(env, offeredExtensions_.size());
  for (uint32_t i = 0; i < offeredExtensions_.size(); i++) exts.Set(i, Napi::Number::New(env, offeredExtensions_[i]));
  o.Set("clientOfferedExtensions", exts);

  o.Set("version", env.Null());
  o.Set("cipher", env.Null());
  o.Set("cipherStandardName", env.Null());
  o.Set("cipherId", env.Null());
  o.Set("pskIdentity", env.Null());
  o.Set("peerCertChainDer", Napi::Array::New(env));
  o.Set("verifyResult", env.Null());
  o.Set("verifyResultText", env.Null());
  o.Set("resumed", Napi::Boolean::New(env, false));
  o.Set("state", env.Null());
  if (IsClient()) {
    o.Set("pskIdentityHint", pskHintSeen_ ? Napi::Value(Napi::String::New(env, pskHint_)) : env.Null());
    o.Set("verifyErrorDepth", verifyError_ != 0 ? Napi::Value(Napi::Number::New(env, verifyErrorDepth_)) : env.Null());
    o.Set("dane", env.Null());
  }
  if (ssl_ == nullptr) return o;
  o.Set("state", SSL_state_string_long(ssl_));

  ERR_clear_error();
  o.Set("version", SSL_get_version(ssl_));
  if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl_)) {
    o.Set("cipher", SSL_CIPHER_get_name(c));
    if (const char* sn = SSL_CIPHER_standard_name(c)) o.Set("cipherStandardName", sn);
    o.Set("cipherId", Napi::Number::New(env, SSL_CIPHER_get_protocol_id(c)));
  }
  if (const char* id = SSL_get_psk_identity(ssl_)) o.Set("pskIdentity", id);

  // Server side: SSL_get_peer_cert_chain() leaves the leaf out, so it is put first here
  // (client side it is already first, and the X509_cmp below skips the repeat).
  Napi::Array chain = Napi::Array::New(env);
  uint32_t n = 0;
  auto pushDer = [&](X509* x) {
    unsigned char* der = nullptr;
    int len = i2d_X509(x, &der);
    if (len > 0) chain.Set(n++, CopyBuffer(env, der, static_cast<size_t>(len)));
    OPENSSL_free(der);
  };
  X509* leaf = SSL_get1_peer_certificate(ssl_);
  if (leaf != nullptr) {
    pushDer(leaf);
    STACK_OF(X509)* rest = SSL_get_peer_cert_chain(ssl_);
    for (int i = 0; rest != nullptr && i < sk_X509_num(rest); i++) {
      X509* x = sk_X509_value(rest, i);
      if (X509_cmp(x, leaf) != 0) pushDer(x);
    }
    X509_free(leaf);
  } else if (IsClient()) {
    // A chain that failed verification never becomes the session's peer certificate, but
    // it is exactly what a failed handshake must show; on the client side the chain
    // OpenSSL kept starts with the server's own certificate.
    STACK_OF(X509)* sent = SSL_get_peer_cert_chain(ssl_);
    for (int i = 0; sent != nullptr && i < sk_X509_num(sent); i++) pushDer(sk_X509_value(sent, i));
  }
  o.Set("peerCertChainDer", chain);
  if (established_ || failed_) {
    long v = SSL_get_verify_result(ssl_);
    o.Set("verifyResult", Napi::Number::New(env, static_cast<double>(v)));
    o.Set("verifyResultText", X509_verify_cert_error_string(v));
  }
  o.Set("resumed", Napi::Boolean::New(env, SSL_session_reused(ssl_) == 1));
  if (IsClient() && ctxState_->daneUsage >= 0) {
    uint8_t usage = 0, selector = 0, mtype = 0;
    const unsigned char* data = nullptr;
    size_t dlen = 0;
    // Depth of the certificate the record matched; -1 until a verification succeeded.
    const int depth = SSL_get0_dane_tlsa(ssl_, &usage, &selector, &mtype, &data, &dlen);
    if (depth >= 0) {
      Napi::Object d = Napi::Object::New(env);
      d.Set("usage", Napi::Number::New(env, usage));
      d.Set("depth", Napi::Number::New(env, depth));
      o.Set("dane", d);
    }
  }
  ERR_clear_error();
  return o;
}

Napi::Value DtlsSession::Free(const Napi::CallbackInfo& info) {
  if (inCall_) {
    freeRequested_ = true;  // freeing under OpenSSL's feet would be a use-after-free
  } else {
    Release();
  }
  return info.Env().Undefined();
}

}  // namespace geisa_dtls
