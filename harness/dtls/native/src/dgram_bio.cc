#include "dgram_bio.h"

#include <algorithm>
#include <cstring>
#include <mutex>

namespace geisa_dtls {
namespace {

// IPv6 (40) + UDP (8): the worst case, so that a size chosen for one family fits both.
constexpr long kHeaderOverhead = 48;

DatagramQueues* Queues(BIO* b) { return static_cast<DatagramQueues*>(BIO_get_data(b)); }

int DgramWrite(BIO* b, const char* data, int len) {
  BIO_clear_retry_flags(b);
  DatagramQueues* q = Queues(b);
  if (q == nullptr || len < 0) return -1;
  const auto* p = reinterpret_cast<const uint8_t*>(data);
  q->out.emplace_back(p, p + len);
  return len;
}

int DgramRead(BIO* b, char* buf, int size) {
  BIO_clear_retry_flags(b);
  DatagramQueues* q = Queues(b);
  if (q == nullptr || buf == nullptr || size <= 0) return 0;
  // An empty UDP payload is legal on the wire, but a 0 from BIO_read means EOF to
  // OpenSSL and would end the session: skip it.
  while (!q->in.empty() && q->in.front().empty()) q->in.pop_front();
  if (q->in.empty()) {
    // Not EOF: more datagrams may come from the socket later.
    BIO_set_retry_read(b);
    return -1;
  }
  Bytes d = std::move(q->in.front());
  q->in.pop_front();
  // Datagram semantics: what does not fit is lost, as recvfrom() would do.
  const size_t n = std::min(d.size(), static_cast<size_t>(size));
  if (n > 0) std::memcpy(buf, d.data(), n);
  return static_cast<int>(n);
}

long DgramCtrl(BIO* b, int cmd, long num, void* ptr) {
  DatagramQueues* q = Queues(b);
  if (q == nullptr) return 0;
  switch (cmd) {
    // The MTU DTLS fragments handshake messages to. A real socket would ask the kernel;
    // here the harness chooses a size every IPv6 path carries.
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
      return q->queryMtu;
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
      return kHeaderOverhead;
    case BIO_CTRL_DGRAM_SET_MTU:
      q->mtu = num;
      return num;
    case BIO_CTRL_DGRAM_GET_MTU:
      return q->mtu;
    case BIO_CTRL_DGRAM_MTU_EXCEEDED:
      // JS sends synchronously to the socket and never learns of EMSGSIZE here.
      return 0;
    case BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT:
      // JS drives timers from DTLSv1_get_timeout; no socket receive timeout to arm.
      return 0;
    case BIO_CTRL_DGRAM_GET_RECV_TIMER_EXP:
    case BIO_CTRL_DGRAM_GET_SEND_TIMER_EXP:
      return 0;
    case BIO_CTRL_DGRAM_CONNECT:
    case BIO_CTRL_DGRAM_SET_CONNECTED:
    case BIO_CTRL_DGRAM_SET_PEER:
      // Addressing belongs to the JS socket: one BIO per peer already.
      return 1;
    case BIO_CTRL_DGRAM_GET_PEER:
      // Only DTLSv1_listen needs it, and we do not use DTLSv1_listen.
      return 0;
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_WPENDING:
      // Everything written is already a complete datagram in `out`.
      return 0;
    case BIO_CTRL_PENDING:
      return q->in.empty() ? 0 : static_cast<long>(q->in.front().size());
    case BIO_CTRL_EOF:
      return 0;
    case BIO_CTRL_RESET:
      q->in.clear();
      q->out.clear();
      return 1;
    default:
      // Unknown ctrls (SCTP, kTLS, ...) answer "not supported", which is what makes
      // OpenSSL treat this as a plain datagram transport.
      return 0;
  }
}

int DgramCreate(BIO* b) {
  BIO_set_data(b, nullptr);
  BIO_set_init(b, 0);
  return 1;
}

int DgramDestroy(BIO* b) {
  if (b == nullptr) return 0;
  BIO_set_data(b, nullptr);
  BIO_set_init(b, 0);
  return 1;
}

BIO_METHOD* Method() {
  static BIO_METHOD* method = nullptr;
  static std::once_flag once;
  std::call_once(once, [] {
    // SOURCE_SINK with a fresh index: OpenSSL must not mistake it for BIO_s_datagram and
    // reach into a socket fd.
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "geisa-dtls-datagram");
    if (m == nullptr) return;
    BIO_meth_set_write(m, DgramWrite);
    BIO_meth_set_read(m, DgramRead);
    BIO_meth_set_ctrl(m, DgramCtrl);
    BIO_meth_set_create(m, DgramCreate);
    BIO_meth_set_destroy(m, DgramDestroy);
    method = m;
  });
  return method;
}

}  // namespace

BIO* NewDatagramBio(DatagramQueues* queues) {
  BIO_METHOD* m = Method();
  if (m == nullptr) return nullptr;
  BIO* b = BIO_new(m);
  if (b == nullptr) return nullptr;
  BIO_set_data(b, queues);
  BIO_set_init(b, 1);
  return b;
}

}  // namespace geisa_dtls
