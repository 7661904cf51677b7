// tools/sim/: a throwaway certificate authority for loopback TLS tests. Made fresh at every start
// with OpenSSL's C API (EC P-256, SHA-256), so no key material lives in the repository.
#pragma once

#include <string>
#include <vector>

namespace cbtrade::sim {

struct TestTls {
    std::string ca_cert_pem;      // what clients trust
    std::string server_cert_pem;  // leaf certificate followed by nothing else (the CA is a trust anchor)
    std::string server_key_pem;   // PKCS#8
};

// Issues a CA and a server certificate whose subjectAltName holds exactly these DNS names and IP
// addresses. Throws std::runtime_error naming the OpenSSL step that failed.
[[nodiscard]] TestTls make_test_tls(const std::vector<std::string>& dns_names,
                                    const std::vector<std::string>& ip_addresses);

}  // namespace cbtrade::sim
