// The DNS, played by a test (trunks named by host name): answers from a zone the test writes,
// delivered from the loop as c-ares's would be.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dialer/sip/dns.h"

namespace outpace::test {

// The DNS, played by the test: answers by name and type from `records` (none: no such name),
// every query failing while `down`. Answers are delivered by deliver(), from the loop as c-ares's
// would be, never from inside query().
class FakeDns final : public sip::Dns {
  public:
    struct Zone {
        std::map<std::pair<std::string, sip::RrType>, sip::DnsAnswer> records;
        bool down = false;
        std::vector<std::string> asked;  // every query's name, in order
        std::vector<std::pair<sip::DnsAnswer, Done>> pending;
    };
    explicit FakeDns(std::shared_ptr<Zone> zone) : zone_(std::move(zone)) {}
    ~FakeDns() override { zone_->pending.clear(); }  // destroyed: no answer comes
    void query(const std::string& name, sip::RrType type, Done done) override {
        zone_->asked.push_back(name);
        sip::DnsAnswer a;
        if (zone_->down) {
            a.status = sip::DnsAnswer::Status::failed;
            a.error = "timeout";
        } else if (auto it = zone_->records.find({name, type}); it != zone_->records.end()) {
            a = it->second;
        } else {
            a.status = sip::DnsAnswer::Status::none;
        }
        zone_->pending.emplace_back(std::move(a), std::move(done));
    }

  private:
    std::shared_ptr<Zone> zone_;
};

// Answers waiting in `zone`, each delivered (and any its callback asks for in turn).
inline void deliver_dns(FakeDns::Zone& zone) {
    while (!zone.pending.empty()) {
        auto ready = std::move(zone.pending);
        zone.pending.clear();
        for (auto& [answer, done] : ready) done(answer);
    }
}

}  // namespace outpace::test
