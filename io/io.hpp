// io/: bytes in and out of the machine, for the market-data feed and the REST client alike.
// liburing and wolfSSL stay inside io/*.cpp; Boost.Beast stays inside io/http.cpp and io/http_server.cpp.
//
// This header is the folder's map and its public surface; include the one header you need.
//   uring_loop.hpp   one io_uring per thread; TcpStream whose connect/recv/send go through it
//   tls_client.hpp   TLS (wolfSSL) over a ByteTransport, ciphertext through io_uring buffers
//   tls_info.hpp     which wolfSSL build is linked and whether AES-NI is in play
//   url.hpp          the one URL parser (wss://, https://; ws://, http:// for loopback only)
//   connection.hpp   resolve, connect and TLS handshake with deadlines, capped jittered backoff
//   http.hpp         HTTP/1.1 request writer and size-limited response parser
//   http_client.hpp  HTTP/1.1 keep-alive client for one host (non-blocking and blocking calls)
//   http_server.hpp  HTTP/1.1 server (metrics endpoint, cbtrade bridge): caps, deadlines, size limits
// Test-only transports (the in-memory pipe) live in tests/io/, not here.
#pragma once

#include "io/connection.hpp"
#include "io/http.hpp"
#include "io/http_client.hpp"
#include "io/http_server.hpp"
#include "io/tls_client.hpp"
#include "io/tls_info.hpp"
#include "io/uring_loop.hpp"
#include "io/url.hpp"
