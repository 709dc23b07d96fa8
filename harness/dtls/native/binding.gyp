{
  # Built by `npm run build:native` (node-gyp with npm's nodedir, so the headers are the
  # ones installed with Node, OpenSSL's included). No OpenSSL is linked: the symbols are
  # resolved against the running node binary, which exports its own OpenSSL 3.
  "targets": [
    {
      "target_name": "geisa_dtls",
      "sources": [
        "src/addon.cc",
        "src/dgram_bio.cc",
        "src/dtls_context.cc",
        "src/dtls_session.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "OPENSSL_API_COMPAT=30000"
      ],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "xcode_settings": {
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "11.0",
        "OTHER_LDFLAGS": ["-undefined", "dynamic_lookup"]
      }
    }
  ]
}
