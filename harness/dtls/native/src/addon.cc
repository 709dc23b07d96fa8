#include <napi.h>
#include <openssl/crypto.h>

#include "dtls.h"

namespace geisa_dtls {
namespace {

Napi::Value OpenSslVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), OpenSSL_version(OPENSSL_VERSION));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  Napi::Function ctx = DtlsContext::Define(env, data);
  Napi::Function session = DtlsSession::Define(env, data);
  data->contextCtor = Napi::Persistent(ctx);
  data->sessionCtor = Napi::Persistent(session);
  env.AddCleanupHook([](AddonData* d) { delete d; }, data);
  exports.Set("DtlsContext", ctx);
  exports.Set("DtlsSession", session);
  exports.Set("opensslVersion", Napi::Function::New(env, OpenSslVersion));
  return exports;
}

}  // namespace
}  // namespace geisa_dtls

static Napi::Object InitGeisaDtls(Napi::Env env, Napi::Object exports) { return geisa_dtls::Init(env, exports); }

NODE_API_MODULE(geisa_dtls, InitGeisaDtls)
