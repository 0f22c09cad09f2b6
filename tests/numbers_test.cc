// Several numbers per contact (list.phones): the import keeps a person's numbers in column
// order, the hopper dials the one due (skipping a number on a do-not-call list), the retry rules
// move to the next number after no answer or busy and retire one that does not exist, and the
// caps count the person across all of them. Against a real RocksDB store.
#include <doctest/doctest.h>

#include <set>

#include "answering-detect/audio_file.h"
#include "campaigns/call_log.h"
#include "campaigns/campaign_loader.h"
#include "campaigns/hopper.h"
#include "campaigns/importer.h"
#include "campaigns/ledger.h"
#include "campaigns/lists.h"
#include "campaigns/results.h"
#include "campaigns/rules.h"
#include "dialer/engine/control.h"
#include "test_util.h"
#include "tests/engine_rig.h"
#include "tests/engine_sim.h"

using namespace outpace;
using namespace outpace::test;
using test::at;
using test::secs;
using namespace std::chrono_literals;

namespace {

constexpr const char* kBase = "name: t\ntimezone: {default: America/New_York}\n";

struct Numbers {
    test::TempDir dir;
    std::unique_ptr<Store> store;
    Campaign campaign;

    explicit Numbers(const std::string& extra = "list: {phones: [mobile, home, work]}\n") {
        std::string err;
        store = Store::open(dir.file("db"), &err);
        REQUIRE_MESSAGE(store, err);
        auto r = load_campaign_text(kBase + extra, "t.yaml", dir.path());
        for (const auto& e : r.errors) FAIL(e.to_string());
        campaign = *r.campaign;
    }

    ImportSummary import(const std::string& csv) {
        auto list = dir.write("list.csv", csv);
        ImportSummary s;
        std::string err;
        REQUIRE_MESSAGE(import_contacts(*store, campaign, "name: t\n", list, {}, s, &err), err);
        return s;
    }

    // The one contact due at `t`, dialled: its attempt.
    Attempt dial(Timestamp t) {
        Hopper hopper(*store, campaign);
        auto due = hopper.next(t, 10);
        REQUIRE(due.size() == 1);
        auto begun = Ledger(*store, campaign).begin(due, t, "main");
        REQUIRE(begun.ok());
        REQUIRE(begun.value.size() == 1);
        return begun.value.front();
    }

    void end(Attempt a, Outcome o, Timestamp t, int sip = 0) {
        a.outcome = o;
        a.sip_code = sip;
        REQUIRE(Ledger(*store, campaign).complete({a}, t).ok());
    }

    Contact contact(const std::string& phone = "+12125550101") {
        auto c = store->contact("t", phone);
        REQUIRE(c);
        return *c;
    }
};

}  // namespace

TEST_CASE("several numbers: the campaign file names the columns, when to move on and how soon") {
    auto load = [](const std::string& list) {
        return load_campaign_text(std::string(kBase) + list, "t.yaml", ".");
    };
    auto ok = load(
        "list: {phones: [mobile, home], next_number_on: [busy], "
        "next_number_delay: 2m}\n");
    REQUIRE(ok.campaign);
    CHECK(ok.campaign->phone_columns == std::vector<std::string>{"mobile", "home"});
    CHECK(ok.campaign->next_number_on == std::vector<RetryOutcome>{RetryOutcome::busy});
    CHECK(ok.campaign->next_number_delay == Millis{120'000});
    auto plain = load("");
    REQUIRE(plain.campaign);
    CHECK(plain.campaign->phone_columns.empty());
    CHECK_FALSE(plain.campaign->next_number_delay);

    const std::vector<std::pair<std::string, std::string>> bad = {
        {"list: {phones: [mobile], phone_column: phone}\n", "not both"},
        {"list: {phones: [mobile, mobile]}\n", "'mobile' twice"},
        {"list: {phones: []}\n", "names no column"},
        {"list: {phones: [a, b], next_number_on: [abandoned]}\n", "not 'abandoned'"},
        {"list: {phones: [a, b], next_number_delay: soon}\n", "next_number_delay"},
    };
    for (const auto& [yaml, why] : bad) {
        auto r = load(yaml);
        REQUIRE_MESSAGE(!r.errors.empty(), yaml);
        CHECK_MESSAGE(r.errors.front().to_string().find(why) != std::string::npos,
                      r.errors.front().to_string());
        CHECK_MESSAGE(r.errors.front().line == 3, r.errors.front().to_string());
    }
}

TEST_CASE("several numbers: the import keeps each person's valid numbers in column order") {
    Numbers f;
    auto s = f.import(
        "name,mobile,home,work\n"
        "Ann,212 555 0101,415 555 0102,\n"  // NY mobile, LA home: both zones
        "Bob,,212 555 0201,212 555 0201\n"  // no mobile; the same number twice
        "Cy,12,312 555 0301,\n"             // an invalid mobile is left out
        "Di,,,\n"                           // no number at all
        "Ed,+1 999,x,\n");                  // none valid
    CHECK(s.imported == 3);
    CHECK(s.rejected == 2);
    CHECK(s.reject_reasons["no phone number"] == 1);
    CHECK(s.reject_reasons["invalid phone number"] == 1);
    CHECK(s.numbers_dropped == 1);
    const auto rejects = test::read_file(f.dir.file("list.csv.rejects.csv"));
    INFO(rejects);
    CHECK(rejects.find("4,invalid number dropped,mobile '12': ") != std::string::npos);
    CHECK(rejects.find("5,no phone number") != std::string::npos);

    auto ann = f.contact("+12125550101");
    REQUIRE(ann.numbers.size() == 2);
    CHECK(ann.numbers[0] == ContactNumber{"+12125550101", "mobile", false});
    CHECK(ann.numbers[1] == ContactNumber{"+14155550102", "home", false});
    CHECK(ann.current == 0);
    // Calling hours must hold wherever any of the person's phones may ring.
    CHECK(ann.zones == "America/New_York|America/Los_Angeles");
    // The phone columns are numbers, not fields of the card.
    CHECK(ann.fields == std::vector<std::pair<std::string, std::string>>{{"name", "Ann"}});

    auto bob = f.contact("+12125550201");  // keyed by the first valid number
    REQUIRE(bob.numbers.size() == 1);
    CHECK(bob.numbers[0].label == "home");
    auto cy = f.contact("+13125550301");
    REQUIRE(cy.numbers.size() == 1);
    CHECK(cy.numbers[0].label == "home");
    CHECK(cy.zones == "America/Chicago");
}

TEST_CASE("several numbers: no answer moves to the next number, a dead one is retired") {
    Numbers f("list: {phones: [mobile, home, work]}\nretry:\n  no_answer: {delay: 1h, max: 5}\n");
    f.import("name,mobile,home,work\nAnn,212 555 0101,212 555 0102,212 555 0103\n");
    auto t = at("2026-11-24T16:00:00Z");

    auto first = f.dial(t);
    CHECK(first.phone == "+12125550101");
    CHECK(first.number() == "+12125550101");
    CHECK(first.number_label == "mobile");
    f.end(first, Outcome::no_answer, t + 30s);
    auto c = f.contact();
    CHECK(c.current == 1);
    CHECK(c.next_eligible == secs(t + 30s + 1h));  // the retry rule's delay

    t += 2h;
    auto second = f.dial(t);
    CHECK(second.phone == "+12125550101");  // the person's key
    CHECK(second.dialled == "+12125550102");
    CHECK(second.number_label == "home");
    CHECK(f.store->attempt("t", second.id)->dialled == "+12125550102");
    f.end(second, Outcome::invalid, t + 2s, 404);
    c = f.contact();
    CHECK(c.state == ContactState::pending);  // not final: the work number is left
    CHECK(c.numbers[1].dead);
    CHECK(c.current == 2);
    CHECK(c.next_eligible == secs(t + 2s));  // another number: at once

    auto third = f.dial(t + 5s);
    CHECK(third.dialled == "+12125550103");
    f.end(third, Outcome::busy, t + 10s, 486);
    c = f.contact();
    CHECK(c.current == 0);   // round again, past the dead home number
    CHECK(c.attempts == 3);  // the caps count the person, across their numbers

    // The work number is dead too, then the mobile: nothing is left to call.
    auto fourth = f.dial(t + 1h);
    CHECK(fourth.dialled == "+12125550101");
    f.end(fourth, Outcome::fax, t + 1h + 5s);
    c = f.contact();
    CHECK(c.state == ContactState::pending);
    CHECK(c.current == 2);
    auto fifth = f.dial(t + 1h + 10s);
    CHECK(fifth.dialled == "+12125550103");
    f.end(fifth, Outcome::invalid, t + 1h + 15s, 404);
    c = f.contact();
    CHECK(c.state == ContactState::invalid);
    CHECK(c.final_reason == "number does not exist (SIP 404)");
}

TEST_CASE("several numbers: the campaign says which outcomes move on and how soon") {
    Numbers f("list: {phones: [mobile, home], next_number_on: [busy], next_number_delay: 2m}\n");
    f.import("mobile,home\n212 555 0101,212 555 0102\n");
    auto t = at("2026-11-24T16:00:00Z");
    auto a = f.dial(t);
    f.end(a, Outcome::no_answer, t + 30s);  // not in next_number_on: the same number again
    CHECK(f.contact().current == 0);
    auto retry = f.contact().next_eligible;
    CHECK(retry > secs(t + 30s + 2min));  // the retry rule's own delay
    auto b = f.dial(Timestamp(Seconds(retry)));
    CHECK(b.number() == "+12125550101");
    f.end(b, Outcome::busy, Timestamp(Seconds(retry)) + 5s);
    CHECK(f.contact().current == 1);
    CHECK(f.contact().next_eligible == retry + 5 + 120);  // next_number_delay
}

TEST_CASE(
    "several numbers: a number on a do-not-call list is skipped, the person's DNC covers all") {
    Numbers f(
        "list: {phones: [mobile, home]}\n"
        "dispositions: [{code: DNC, dnc: true, final: true}]\n");
    f.import("mobile,home\n212 555 0101,212 555 0102\n212 555 0201,212 555 0202\n");
    {
        auto b = f.store->batch();
        b.add_dnc("t", "+12125550101", "complaint");  // Ann's mobile
        b.add_dnc("t", "+12125550201", "complaint");  // both of Bob's numbers
        b.add_dnc("t", "+12125550202", "complaint");
        REQUIRE(f.store->write(b, true).ok());
    }
    auto t = at("2026-11-24T16:00:00Z");
    auto a = f.dial(t);  // Bob is never handed out
    CHECK(a.phone == "+12125550101");
    CHECK(a.dialled == "+12125550102");  // Ann's home, past her mobile
    CHECK(a.number_label == "home");
    CHECK(f.contact().current == 1);

    // Ann answers on her home phone and asks not to be called again: on none of her numbers.
    a.disposition = "DNC";
    f.end(a, Outcome::connected, t + 60s);
    CHECK(f.store->dnc_many("t", "", {"+12125550101", "+12125550102"}) ==
          std::vector<bool>{true, true});
    CHECK(f.contact().state == ContactState::dnc);

    // An import where every number of a row is on the list rejects the row; one left keeps it.
    auto s = f.import("mobile,home\n212 555 0201,212 555 0202\n212 555 0202,212 555 0301\n");
    CHECK(s.reject_reasons["on do-not-call list"] == 1);
    CHECK(s.imported == 1);
}

TEST_CASE("several numbers: Reg F's 7 in 7 counts the person, not each number") {
    Numbers f(
        "kind: collections\nlist: {phones: [mobile, home, work]}\n"
        "retry:\n  no_answer: {delay: 1h, max: 50}\nlimits: {max_attempts: 50}\n");
    f.import("mobile,home,work\n212 555 0101,212 555 0102,212 555 0103\n");
    auto t = at("2026-11-24T14:00:00Z");  // 09:00 in New York
    std::set<std::string> dialled;
    for (int i = 0; i < 7; ++i) {
        t = Timestamp(Seconds(std::max(secs(t), f.contact().next_eligible)));
        auto a = f.dial(t);
        dialled.insert(a.number());
        f.end(a, Outcome::no_answer, t + 30s);
    }
    CHECK(dialled.size() == 3);  // all three numbers were tried
    auto c = f.contact();
    CHECK(cap_blocks(f.campaign, c, t + 2h) == "7 attempts in the last 7 days");
    CHECK(Hopper(*f.store, f.campaign).next(t + 2h, 10).empty());
}

TEST_CASE("several numbers: a contact record keeps its numbers, an attempt the one it dialled") {
    Contact c;
    c.phone = "+12125550101";
    c.numbers = {{"+12125550101", "mobile", false}, {"+12125550102", "home", true}};
    c.current = 1;
    auto back = Contact::decode(c.encode());
    REQUIRE(back);
    CHECK(back->numbers == c.numbers);
    CHECK(back->current == 1);
    CHECK(back->dial_number() == "+12125550102");
    CHECK(back->all_numbers() == std::vector<std::string>{"+12125550101", "+12125550102"});
    // A current number past the end is damage, not a contact.
    c.current = 5;
    CHECK_FALSE(Contact::decode(c.encode()));

    Attempt a;
    a.id = 7;
    a.phone = "+12125550101";
    a.dialled = "+12125550102";
    a.number_label = "home";
    auto again = Attempt::decode(a.encode());
    REQUIRE(again);
    CHECK(again->number() == "+12125550102");
    CHECK(again->number_label == "home");
}

TEST_CASE("several numbers: the engine calls the number due, and the screen pop says which") {
    Sim::Options o;
    o.agents = true;
    o.campaign_yaml = "list: {phones: [mobile, home], next_number_delay: 0s}\n";
    o.list_csv = "name,mobile,home,timezone\nAnn,+14155551000,+14155552000,America/New_York\n";
    Sim sim(o);
    auto voice = amd::read_audio(corpus_dir() + "/human-short-000.wav");
    REQUIRE(voice.error.empty());
    // The mobile is busy; the home phone answers and a person speaks.
    sim.carrier([&](const ScriptedSip::Invite& i) {
        if (i.dial.to.find("+14155551000@") != std::string::npos)
            return CarrierPlan{200ms, 486, true, {}, -1ms};
        return CarrierPlan{400ms, 200, true, voice.pcm, -1ms};
    });
    sim.start();
    const auto offer = sim.first_offer("d", "a1");
    REQUIRE(offer);
    CHECK(offer->body["phone"] == "+14155552000");
    CHECK(offer->body["phone_label"] == "home");
    CHECK(offer->body["fields"] ==
          nlohmann::json{{"name", "Ann"}, {"timezone", "America/New_York"}});
    // The busy mobile is in the history, by its number.
    REQUIRE(offer->body["history"].size() == 1);
    CHECK(offer->body["history"][0]["phone"] == "+14155551000");
    CHECK(offer->body["history"][0]["outcome"] == "busy");

    const auto calls = sim.calls();
    REQUIRE(calls.size() == 2);
    CHECK(calls[0]->dial.to.rfind("sip:+14155551000@", 0) == 0);
    CHECK(calls[1]->dial.to.rfind("sip:+14155552000@", 0) == 0);
    auto attempts = sim.attempts();
    REQUIRE(attempts.size() == 2);
    CHECK(attempts[0].phone == "+14155551000");  // both are Ann's: the contact's key
    CHECK(attempts[1].phone == "+14155551000");
    CHECK(attempts[1].number() == "+14155552000");
    CHECK(attempts[1].number_label == "home");
}

TEST_CASE("several numbers: an agent who dials a person's other number by hand calls that person") {
    Sim::Options o;
    o.agents = true;
    o.campaign_yaml = "list: {phones: [mobile, home]}\n";
    o.list_csv = "name,mobile,home,timezone\nAnn,+14155551000,+14155552000,America/New_York\n";
    Sim sim(o);
    auto hello = amd::read_audio(corpus_dir() + "/human-short-000.wav");
    REQUIRE(hello.error.empty());
    sim.carrier([&](const ScriptedSip::Invite&) {
        return CarrierPlan{1s, 200, true, hello.pcm, -1ms};
    });
    sim.start();
    // Logged in and paused: the pacer dials nothing; the agent dials Ann's home phone.
    sim.desk().request("d", R"({"type":"login","agent":"a1","phone":"sip:a1@127.0.0.1:5998"})");
    sim.run_for(100ms);
    sim.desk().request("d", R"({"type":"manual_dial","phone":"(415) 555-2000"})");
    sim.run_for(50ms);
    const auto dialing = sim.desk().first("d", "dialing");
    REQUIRE_MESSAGE(dialing, sim.desk().to("d").back().body.dump());
    const auto calls = sim.calls();
    REQUIRE(calls.size() == 1);
    CHECK(calls[0]->dial.to.rfind("sip:+14155552000@", 0) == 0);
    sim.run_for(1500ms);
    sim.desk().request("d", R"({"type":"hangup"})");
    sim.run_for(100ms);
    sim.desk().request("d", R"({"type":"disposition","attempt":)" +
                                std::to_string(dialing->body["attempt"].get<std::uint64_t>()) +
                                R"(,"code":"NOT_INTERESTED"})");
    sim.run_for(300ms);
    // The attempt is Ann's, by her home number; no second contact was made for that number.
    const auto attempts = sim.attempts();
    REQUIRE(attempts.size() == 1);
    CHECK(attempts[0].phone == "+14155551000");
    CHECK(attempts[0].number() == "+14155552000");
    CHECK(attempts[0].number_label == "home");
    CHECK(attempts[0].origin == "manual");
    CHECK_FALSE(sim.store().contact("sim", "+14155552000"));
    const auto ann = sim.store().contact("sim", "+14155551000");
    REQUIRE(ann);
    CHECK(ann->attempts == 1);
    CHECK(ann->fields.at(0).second == "Ann");
}

TEST_CASE("several numbers: the call log and the report say which number was dialled") {
    Numbers f("list: {phones: [mobile, home], next_number_delay: 0s}\n");
    f.import("mobile,home\n212 555 0101,212 555 0102\n212 555 0201,212 555 0202\n");
    auto t = at("2026-11-24T16:00:00Z");
    Hopper hopper(*f.store, f.campaign);
    Ledger ledger(*f.store, f.campaign);
    // Both mobiles ring out; then Ann answers at home, Bob's home is busy.
    auto first = ledger.begin(hopper.next(t, 10), t, "main").value;
    REQUIRE(first.size() == 2);
    for (auto& a : first) a.outcome = Outcome::no_answer;
    REQUIRE(ledger.complete(first, t + 30s).ok());
    auto second = ledger.begin(hopper.next(t + 31s, 10), t + 31s, "main").value;
    REQUIRE(second.size() == 2);
    for (auto& a : second) {
        CHECK(a.number_label == "home");
        a.outcome = a.phone == "+12125550101" ? Outcome::connected : Outcome::busy;
    }
    REQUIRE(ledger.complete(second, t + 90s).ok());

    ResultsOptions by_number;
    by_number.by = ResultsBy::number;
    const auto r = build_results(*f.store, f.campaign, by_number);
    REQUIRE(r.groups.size() == 2);
    CHECK(r.groups[0].first == "home");
    CHECK(r.groups[0].second.dials == 2);
    CHECK(r.groups[0].second.live == 1);
    CHECK(r.groups[1].first == "mobile");
    CHECK(r.groups[1].second.dials == 2);
    CHECK(r.groups[1].second.no_answer == 2);

    std::ostringstream log;
    CHECK(export_calls(*f.store, f.campaign, 0, std::numeric_limits<std::int64_t>::max(), {},
                       ExportFormat::csv, log) == 4);
    // Ann's answered call: her key, the number dialled and its column.
    CHECK(log.str().find(",+12125550101,+12125550102,home,") != std::string::npos);
    CHECK(log.str().find(",+12125550201,+12125550201,mobile,") != std::string::npos);
}

TEST_CASE("several numbers: an import through the running engine keeps them, and checks them") {
    Sim::Options o;
    o.campaign_yaml = "list: {phones: [mobile, home]}\n";
    o.list_csv = "mobile,home,timezone\n+14155551000,,America/New_York\n";
    Sim sim(o);
    sim.start();
    {
        auto b = sim.store().batch();
        b.add_dnc("*", "+14155553001", "registry");
        b.add_dnc("*", "+14155553002", "registry");
        REQUIRE(sim.store().write(b, true).ok());
    }
    auto request = [&](const std::string& contacts) {
        return nlohmann::json::parse(handle_control_request(
            sim.engine(), R"({"command":"import","campaign":"sim","action":"contacts",)"
                          R"("client":"","contacts":)" +
                              contacts + "}"));
    };
    auto r = request(R"([{"phone":"+14155552000","zones":"America/New_York",)"
                     R"("numbers":[["+14155552000","mobile"],["+14155552001","home"]]},)"
                     R"({"phone":"+14155553001","zones":"America/New_York",)"
                     R"("numbers":[["+14155553001","mobile"],["+14155553002","home"]]},)"
                     R"({"phone":"+14155553002","zones":"America/New_York",)"
                     R"("numbers":[["+14155553002","mobile"],["+14155553003","home"]]}])");
    INFO(r.dump());
    REQUIRE(r["ok"] == true);
    CHECK(r["dnc"] == nlohmann::json::array({1}));  // every number of it is on the list
    auto c = sim.store().contact("sim", "+14155552000");
    REQUIRE(c);
    REQUIRE(c->numbers.size() == 2);
    CHECK(c->numbers[1] == ContactNumber{"+14155552001", "home", false});
    CHECK(sim.store().contact("sim", "+14155553002"));  // its home number may be called
    CHECK_FALSE(sim.store().contact("sim", "+14155553001"));

    for (const auto& [bad, why] : std::vector<std::pair<std::string, std::string>>{
             {R"([{"phone":"+14155554000","zones":"UTC","numbers":[["+14155554001","m"]]}])",
              "first number must be its 'phone'"},
             {R"([{"phone":"+14155554000","zones":"UTC","numbers":[["0800","m"]]}])",
              "[number in E.164, column]"},
             {R"([{"phone":"+14155554000","zones":"UTC","numbers":[]}])", "1 to 16"},
             {R"([{"phone":"+14155554000","zones":"UTC","numbers":"+14155554000"}])", "1 to 16"},
         }) {
        auto e = request(bad);
        CHECK(e["ok"] == false);
        CHECK_MESSAGE(e["error"].get<std::string>().find(why) != std::string::npos, e.dump());
    }
    CHECK_FALSE(sim.store().contact("sim", "+14155554000"));
}

TEST_CASE("several numbers: a list reset of invalid contacts gives each number another try") {
    Numbers f("list: {phones: [mobile, home]}\n");
    f.import("mobile,home\n212 555 0101,212 555 0102\n");
    auto t = at("2026-11-24T16:00:00Z");
    auto a = f.dial(t);
    f.end(a, Outcome::invalid, t + 1s, 404);
    auto b = f.dial(t + 2s);
    CHECK(b.dialled == "+12125550102");
    f.end(b, Outcome::fax, t + 20s);
    REQUIRE(f.contact().state == ContactState::invalid);

    ListChange change;
    change.source = f.dir.file("list.csv");
    change.states = {ContactState::invalid};
    ListChangeCounts counts;
    REQUIRE(apply_list_change(*f.store, "t", list_phones(*f.store, "t", change), change, t + 1h,
                              counts, true)
                .ok());
    CHECK(counts.changed == 1);
    auto c = f.contact();
    CHECK(c.state == ContactState::pending);
    CHECK(c.current == 0);
    CHECK_FALSE(c.numbers[0].dead);
    CHECK_FALSE(c.numbers[1].dead);
    CHECK(f.dial(t + 1h).dialled == "+12125550101");
}

TEST_CASE("several numbers: the shipped collections example dials a debtor's three numbers") {
    auto load = load_campaign_file(test::example("collections.yaml"));
    for (const auto& e : load.errors) FAIL(e.to_string());
    REQUIRE(load.campaign);
    CHECK(load.campaign->phone_columns == std::vector<std::string>{"mobile", "home", "work"});
    CHECK(load.campaign->next_number_delay == Millis{600'000});
    test::TempDir dir;
    std::string err;
    auto store = Store::open(dir.file("db"), &err);
    REQUIRE_MESSAGE(store, err);
    ImportOptions options;
    options.rejects_path = dir.file("rejects.csv");
    ImportSummary s;
    REQUIRE_MESSAGE(import_contacts(*store, *load.campaign, "name: q4-collections\n",
                                    test::example("lists/debtors.csv"), options, s, &err),
                    err);
    CHECK(s.imported == 3);
    CHECK(s.rejected == 0);
    auto alan = store->contact(load.campaign->name, "+12125550142");
    REQUIRE(alan);
    REQUIRE(alan->numbers.size() == 2);
    CHECK(alan->numbers[0].label == "home");
    CHECK(alan->numbers[1].label == "work");
}

TEST_CASE("several numbers: contacts next shows the number each call would go to") {
    test::TempDir dir;
    const std::string bin = OUTPACE_BINARY;
    auto imported = test::run(bin + " contacts import --data " + dir.file("data") + " --campaign " +
                              test::example("collections.yaml") + " --rejects " +
                              dir.file("rejects.csv") + " " + test::example("lists/debtors.csv"));
    REQUIRE_MESSAGE(imported.status == 0, imported.out);
    const std::string next = bin + " contacts next --data " + dir.file("data") +
                             " --campaign q4-collections --at 2026-12-07T16:00:00Z";
    auto text = test::run(next);
    REQUIRE_MESSAGE(text.status == 0, text.out);
    CHECK(text.out.find("dial +12125550142 (home)") != std::string::npos);  // Alan: no mobile
    CHECK(text.out.find("dial +13125550123 (mobile)") != std::string::npos);
    auto json = test::run(next + " --json");
    REQUIRE_MESSAGE(json.status == 0, json.out);
    CHECK(json.out.find(R"("dial":"+14155550160","dial_label":"mobile")") != std::string::npos);
}
