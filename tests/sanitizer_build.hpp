// Which sanitizer a test program is built with, for g++ (__SANITIZE_ADDRESS__, __SANITIZE_THREAD__) and
// clang (__has_feature), so a test that replaces the allocator or sizes a stress run asks one question:
//   CBTRADE_TEST_ASAN  1 under AddressSanitizer (it owns malloc and operator new), else 0
//   CBTRADE_TEST_TSAN  1 under ThreadSanitizer (about 10x slower, owns malloc too), else 0
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define CBTRADE_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CBTRADE_TEST_ASAN 1
#endif
#endif
#ifndef CBTRADE_TEST_ASAN
#define CBTRADE_TEST_ASAN 0
#endif

#if defined(__SANITIZE_THREAD__)
#define CBTRADE_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CBTRADE_TEST_TSAN 1
#endif
#endif
#ifndef CBTRADE_TEST_TSAN
#define CBTRADE_TEST_TSAN 0
#endif
