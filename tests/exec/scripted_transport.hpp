// Test support for the REST client and what uses it: a fake clock (time moves only when slept)
// and a transport that records every request and plays scripted answers and failures.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "exec/rest_client.hpp"

namespace cbtrade::test {

using rest::HttpTransport;
using rest::RestClock;
using rest::TransportFailure;
using rest::TransportRequest;
using rest::TransportResponse;
using rest::TransportResult;

class FakeClock final : public RestClock {
public:
    std::int64_t now_ns() override { return now; }
    std::int64_t unix_ms() override { return 1'736'949'787'000 + now / 1'000'000; }
    void sleep_ns(std::int64_t ns) override {
        sleeps.push_back(ns);
        now += ns;
    }
    std::int64_t now = 1'000'000'000;
    std::vector<std::int64_t> sleeps;
};

struct Sent {
    std::string method, target, body, authorization, content_type;
    std::int64_t at_ns = 0;
};

class ScriptedTransport final : public HttpTransport {
public:
    explicit ScriptedTransport(FakeClock& clock) : clock_(clock) {}
    TransportResult exchange(const TransportRequest& r) override {
        Sent s{std::string(r.method), std::string(r.target), std::string(r.body), {}, {}, clock_.now};
        for (const auto& h : r.headers) {
            if (h.name == "Authorization") s.authorization = std::string(h.value);
            if (h.name == "Content-Type") s.content_type = std::string(h.value);
        }
        sent.push_back(std::move(s));
        if (script.empty()) return TransportResult{TransportResponse{200, "application/json", "{}", {}}, {}, {}};
        TransportResult out = script.front();
        script.pop_front();
        return out;
    }
    void answer(int status, std::string body, std::string content_type = "application/json") {
        script.push_back(
            TransportResult{TransportResponse{status, std::move(content_type), std::move(body), {}}, {}, {}});
    }
    void fail(TransportFailure f) {
        script.push_back(TransportResult{std::nullopt, f, "127.0.0.1:1: scripted failure"});
    }

    std::deque<TransportResult> script;
    std::vector<Sent> sent;

private:
    FakeClock& clock_;
};

}  // namespace cbtrade::test
