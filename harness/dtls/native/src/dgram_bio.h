// A BIO that turns OpenSSL's DTLS I/O into whole datagrams handed to and from JS.
// OpenSSL 3.0 has no BIO_s_dgram_mem; a plain memory BIO would merge datagrams, and DTLS
// relies on one BIO_read returning exactly one datagram (record boundaries, the bogus
// length checks and retransmission detection all assume it).
#pragma once

#include <openssl/bio.h>

#include <cstdint>
#include <deque>
#include <vector>

namespace geisa_dtls {

using Bytes = std::vector<uint8_t>;

struct DatagramQueues {
  std::deque<Bytes> in;    // datagrams JS fed and OpenSSL has not read yet
  std::vector<Bytes> out;  // datagrams OpenSSL wrote, one per BIO_write, for JS to send
  long mtu = 0;            // what OpenSSL last set; answered back on GET_MTU
  long queryMtu = 0;       // payload bytes per datagram we advertise (after IP/UDP headers)
};

// The BIO does not own `queues`: the session does, and outlives the BIO (SSL_free first).
BIO* NewDatagramBio(DatagramQueues* queues);

}  // namespace geisa_dtls
