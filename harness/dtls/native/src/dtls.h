// The two classes the addon exposes. Everything runs on the JS thread: OpenSSL is only
// entered from a JS call (feed, write, ...), so its callbacks may call back into JS.
#pragma once

#include <napi.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "dgram_bio.h"

namespace geisa_dtls {

// One per load of the addon. Not env instance data: a test runner may load the same
// .node twice into one isolate, and each copy must keep its own constructors.
struct AddonData {
  Napi::FunctionReference contextCtor;
  Napi::FunctionReference sessionCtor;
};

// Shared by a context and every session made from it, so that a session still works
// (and frees cleanly) if JS drops the context object first.
struct ContextState {
  SSL_CTX* ctx = nullptr;
  Bytes cookieSecret;
  long mtu = 1232;

  // Client role only. What the server must prove is set per SSL (SNI, host/IP name,
  // DANE records are per-connection state in OpenSSL), so the context keeps the recipe.
  bool client = false;
  bool verifyServer = false;      // SSL_VERIFY_PEER: a failed verification aborts
  std::string expectedServerName;  // DNS name or IP literal checked against the SAN
  bool expectedIsIp = false;
  std::string sni;
  int daneUsage = -1;  // LwM2M Certificate Usage (= DANE usage), -1 when not used
  Bytes daneCertDer;   // the certificate that usage refers to
  ~ContextState();
};

class DtlsContext : public Napi::ObjectWrap<DtlsContext> {
 public:
  static Napi::Function Define(Napi::Env env, AddonData* data);
  explicit DtlsContext(const Napi::CallbackInfo& info);
  std::shared_ptr<ContextState> state() const { return state_; }

 private:
  Napi::Value CreateSession(const Napi::CallbackInfo& info);
  Napi::Value Ciphers(const Napi::CallbackInfo& info);
  bool Configure(Napi::Env env, const Napi::Object& options);
  bool ConfigureClient(Napi::Env env, const Napi::Object& options);
  AddonData* data_;
  std::shared_ptr<ContextState> state_;
};

struct AlertRecord {
  std::string level;
  std::string description;
  int code;
  bool sent;
};

class DtlsSession : public Napi::ObjectWrap<DtlsSession> {
 public:
  static Napi::Function Define(Napi::Env env, AddonData* data);
  explicit DtlsSession(const Napi::CallbackInfo& info);
  ~DtlsSession() override;

  // Hooks OpenSSL calls back; installed once on every SSL_CTX.
  static void InstallCallbacks(SSL_CTX* ctx, bool psk);
  static void InstallClientCallbacks(SSL_CTX* ctx, bool psk, bool verifyPeer);

 private:
  friend struct SessionCallbacks;

  Napi::Value Connect(const Napi::CallbackInfo& info);
  Napi::Value Feed(const Napi::CallbackInfo& info);
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value TimeoutMs(const Napi::CallbackInfo& info);
  Napi::Value HandleTimeout(const Napi::CallbackInfo& info);
  Napi::Value Shutdown(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Free(const Napi::CallbackInfo& info);

  bool EnterCall(Napi::Env env);
  void LeaveCall();
  void Drive(bool protectedHandshakeIn);
  void SendPlainFatalAlert(uint8_t description);
  Napi::Object Result(Napi::Env env);
  void Fail(const std::string& why);
  void FailFromSslError(int sslError);
  std::string DrainErrorQueue();
  Napi::Array TakeOut(Napi::Env env);
  Napi::Array TakeAlerts(Napi::Env env);
  void Release();
  bool SetUpClient(std::string* why);
  bool IsClient() const { return ctxState_ && ctxState_->client; }

  std::shared_ptr<ContextState> ctxState_;
  SSL* ssl_ = nullptr;
  DatagramQueues queues_;
  std::string label_;
  Napi::FunctionReference pskLookup_;
  Napi::FunctionReference keylog_;
  Napi::FunctionReference pskIdentity_;  // client role: () => { identity, key } | null
  // (previousUs) => next retransmission timer in us; the schedule lives in JS
  // (handshake-driver.ts) so both roles and their tests share one.
  Napi::FunctionReference retransmitTimer_;

  bool inCall_ = false;
  bool established_ = false;
  bool closed_ = false;
  bool failed_ = false;
  bool peerClosed_ = false;
  bool shutdownSent_ = false;
  bool cookieVerified_ = false;
  bool freeRequested_ = false;
  int64_t lastPlainSeq_ = -1;  // highest epoch-0 record sequence number we sent
  std::string error_;
  std::string callbackNote_;  // why a callback refused (e.g. unknown identity), for error_
  std::vector<AlertRecord> alerts_;
  std::vector<Bytes> app_;
  std::vector<uint16_t> offeredCiphers_;
  std::vector<int> offeredExtensions_;
  int clientHelloCount_ = 0;
  // Client role: the first complaint of certificate verification (OpenSSL keeps only the
  // last result, and the first one is the one that explains a failure).
  int verifyError_ = 0;
  int verifyErrorDepth_ = -1;
  bool pskHintSeen_ = false;
  std::string pskHint_;
};

int SessionExIndex();
std::string OpenSslErrors();

}  // namespace geisa_dtls
