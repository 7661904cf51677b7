// Test certificates made at test time with the openssl CLI in a temporary directory: a CA, a server
// certificate it signs (localhost, 127.0.0.1), and an unrelated CA that must not be trusted.
// Nothing is committed; every test run gets fresh keys.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace cbtrade::testing {

struct TestPki {
    std::string dir;
    std::string ca_pem;      // trusted CA
    std::string server_pem;  // server certificate (localhost), signed by ca_pem
    std::string server_key;
    std::string other_ca_pem;  // a CA that signed nothing we use
    std::string error;         // empty when everything was made

    [[nodiscard]] bool ok() const { return error.empty(); }
    void remove() const {
        std::error_code ec;
        if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    }
};

inline bool run_quiet(const std::string& cmd) {
    return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0;
}

inline TestPki make_test_pki(const std::string& host = "localhost") {
    TestPki p;
    char tmpl[] = "/tmp/cbtrade-pki-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
        p.error = "mkdtemp failed";
        return p;
    }
    p.dir = tmpl;
    const std::string d = p.dir;
    p.ca_pem = d + "/ca.pem";
    p.server_pem = d + "/server.pem";
    p.server_key = d + "/server.key";
    p.other_ca_pem = d + "/other-ca.pem";
    {
        std::ofstream ext(d + "/server.ext");
        ext << "subjectAltName=DNS:" << host << ",IP:127.0.0.1\n"
            << "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
            << "extendedKeyUsage=serverAuth\n";
    }
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    const std::string ca_ext =
        " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign";
    const bool made =
        run_quiet("openssl req -x509" + ec + " -keyout " + d + "/ca.key -out " + p.ca_pem +
                  " -days 2 -subj /CN=cbtrade-test-ca" + ca_ext) &&
        run_quiet("openssl req -x509" + ec + " -keyout " + d + "/other-ca.key -out " + p.other_ca_pem +
                  " -days 2 -subj /CN=cbtrade-untrusted-ca" + ca_ext) &&
        run_quiet("openssl req" + ec + " -keyout " + p.server_key + " -out " + d + "/server.csr -subj /CN=" + host) &&
        run_quiet("openssl x509 -req -in " + d + "/server.csr -CA " + p.ca_pem + " -CAkey " + d +
                  "/ca.key -CAcreateserial -days 2 -extfile " + d + "/server.ext -out " + p.server_pem);
    if (!made) p.error = "openssl CLI could not make the test certificates in " + d;
    return p;
}

}  // namespace cbtrade::testing
