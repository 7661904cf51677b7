// The generated options.h of the linked build comes first, always: it fixes structure layouts.
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "io/tls_info.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#ifndef CBTRADE_WOLFSSL_ACCELERATED
#error "CBTRADE_WOLFSSL_ACCELERATED comes with wolfssl_dep (root meson.build)"
#endif
#if CBTRADE_WOLFSSL_ACCELERATED && !defined(WOLFSSL_AESNI)
// The accelerated build's options.h defines WOLFSSL_AESNI; without it we picked up another
// options.h (e.g. /usr/include's) and Aes and other structures would not match the library.
#error "accelerated wolfSSL selected but its options.h is not the one included"
#endif

namespace cbtrade {
namespace {

bool cpu_has_aesni() {
#if defined(__x86_64__) || defined(__i386__)
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
    return (ecx & bit_AES) != 0 && (ecx & bit_PCLMUL) != 0;  // AES rounds and GHASH both
#else
    return false;
#endif
}

}  // namespace

TlsInfo tls_info() {
    TlsInfo info;
    const char* version = wolfSSL_lib_version();
    info.version = version != nullptr ? version : LIBWOLFSSL_VERSION_STRING;
    info.flavour = CBTRADE_WOLFSSL_ACCELERATED ? "accelerated" : "system";
#ifdef WOLFSSL_AESNI
    info.aesni_built = true;
#endif
    info.aesni_cpu = cpu_has_aesni();
    return info;
}

std::string describe(const TlsInfo& info) {
    std::string line = "wolfSSL " + info.version + " (" + info.flavour + "; ";
    if (info.aesni_built) {
        line += info.aesni_cpu ? "AES-NI built, CPU has it)" : "AES-NI built, CPU lacks it: software AES)";
    } else {
        line += info.aesni_cpu ? "no AES-NI in this build, CPU has it: software AES)" : "no AES-NI)";
    }
    return line;
}

std::string resolve_cipher_list(const std::string& configured, const TlsInfo& info) {
    if (configured != "auto") return configured;
    const bool fast_aes = info.aesni_built && info.aesni_cpu;
    const std::string aes = "TLS13-AES128-GCM-SHA256";
    const std::string chacha = "TLS13-CHACHA20-POLY1305-SHA256";
    const std::string tls12_aes = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";
    const std::string tls12_chacha = "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
    return fast_aes ? aes + ":" + chacha + ":TLS13-AES256-GCM-SHA384:" + tls12_aes + ":" + tls12_chacha
                    : chacha + ":" + aes + ":TLS13-AES256-GCM-SHA384:" + tls12_chacha + ":" + tls12_aes;
}

}  // namespace cbtrade
