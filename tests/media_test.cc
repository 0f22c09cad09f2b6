// SDP offers and answers, RTP parsing, RTP sessions talking over loopback (keys, RTCP, the port
// pool), SRTP, and recordings. (Media workers: media_worker_test.cc.)
#include <doctest/doctest.h>

#include <event2/event.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sndfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <random>
#include <thread>

extern "C" {
#include <spandsp.h>
}

#include "dialer/media/dtmf.h"
#include "dialer/media/recorder.h"
#include "dialer/media/rtp.h"
#include "dialer/media/sdp.h"
#include "tests/process_util.h"
#include "tests/rtp_peer.h"
#include "tests/test_util.h"

using namespace outpace::media;
using namespace outpace::test;

TEST_CASE("sdp: our offer lists µ-law, A-law and telephone-events on one audio stream") {
    const auto offer = make_offer("127.0.0.1", 40000, 42);
    CHECK(offer.find("m=audio 40000 RTP/AVP 0 8 101\r\n") != std::string::npos);
    CHECK(offer.find("c=IN IP4 127.0.0.1\r\n") != std::string::npos);
    CHECK(offer.find("a=rtpmap:101 telephone-event/8000") != std::string::npos);
    CHECK(make_offer("::1", 40000, 1).find("c=IN IP6 ::1") != std::string::npos);
    // Our own offer read back as an answer.
    auto r = parse_answer(offer);
    CHECK(r.ok());
    CHECK(r.port == 40000);
    CHECK(r.payload == kPcmu);
    CHECK(r.telephone_event == 101);
}

TEST_CASE("sdp: answers as carriers write them") {
    auto r = parse_answer(
        "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
        "m=audio 5004 RTP/AVP 8 101\na=rtpmap:8 PCMA/8000\na=rtpmap:101 telephone-event/8000\n");
    REQUIRE(r.ok());
    CHECK(r.address == "192.0.2.1");
    CHECK(r.payload == kPcma);
    CHECK(r.telephone_event == 101);
    // The media-level address wins over the session's.
    auto m = parse_answer(
        "v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 5004 RTP/AVP 0\r\nc=IN IP4 198.51.100.7\r\n");
    REQUIRE(m.ok());
    CHECK(m.address == "198.51.100.7");
}

TEST_CASE("sdp: what we cannot talk to is refused with a reason, never a crash") {
    CHECK(parse_answer("").error == "no audio stream");
    CHECK(parse_answer("v=0\nc=IN IP4 1.2.3.4\nm=video 5000 RTP/AVP 96\n").error ==
          "no audio stream");
    CHECK(parse_answer("v=0\nc=IN IP4 1.2.3.4\nm=audio 0 RTP/AVP 0\n").error ==
          "audio stream refused (port 0)");
    CHECK(parse_answer("v=0\nc=IN IP4 1.2.3.4\nm=audio 5000 RTP/AVP 18\n").error ==
          "no G.711 codec in the answer");
    CHECK(parse_answer("v=0\nc=IN IP4 host.example\nm=audio 5000 RTP/AVP 0\n")
              .error.find("not an IP literal") != std::string::npos);
    CHECK_FALSE(parse_answer("v=0\nm=audio 99999 RTP/AVP 0\n").ok());
    CHECK_FALSE(parse_answer("m=audio").ok());
    // Random bytes.
    std::mt19937 rng(3);
    for (int i = 0; i < 2000; ++i) {
        std::string junk(rng() % 200, '\0');
        for (auto& ch : junk)
            ch = static_cast<char>("m=audio 0123456789 RTP/AVP\nc=IN IP4.:"[rng() % 38]);
        (void)parse_answer(junk);
    }
}

TEST_CASE("rtp: packets are parsed, malformed ones refused") {
    std::vector<std::uint8_t> p(12 + 160, 0xff);
    p[0] = 0x80;
    p[1] = 0x80 | 8;  // marker, PCMA
    p[2] = 0x12, p[3] = 0x34;
    p[4] = 0, p[5] = 0, p[6] = 0x01, p[7] = 0x00;
    RtpPacket r;
    REQUIRE(parse_rtp(p, r));
    CHECK(r.payload_type == 8);
    CHECK(r.marker);
    CHECK(r.seq == 0x1234);
    CHECK(r.timestamp == 256);
    CHECK(r.payload.size() == 160);
    auto bad = p;
    bad[0] = 0x40;  // version 1
    CHECK_FALSE(parse_rtp(bad, r));
    CHECK_FALSE(parse_rtp(std::span(p).first(11), r));
    auto csrc = p;
    csrc[0] = 0x8f;  // 15 CSRCs: 60 more header bytes than there are
    CHECK_FALSE(parse_rtp(std::span(csrc).first(60), r));
    auto pad = p;
    pad[0] = 0xa0;
    pad.back() = 200;  // more padding than payload
    CHECK_FALSE(parse_rtp(pad, r));
    std::mt19937 rng(5);
    for (int i = 0; i < 20000; ++i) {
        std::vector<std::uint8_t> junk(rng() % 64);
        for (auto& b : junk) b = static_cast<std::uint8_t>(rng());
        if (!junk.empty()) junk[0] = static_cast<std::uint8_t>(0x80 | (junk[0] & 0x3f));
        if (parse_rtp(junk, r))
            CHECK(r.payload.data() + r.payload.size() <= junk.data() + junk.size());
    }
}

TEST_CASE("rtp: a session hears audio with its timing, counts loss, drops strangers and junk") {
    event_base* loop = event_base_new();
    RtpPortPool pool(46000, 46099);
    std::string error;
    auto s = RtpSession::open(loop, "127.0.0.1", pool, &error);
    REQUIRE(s);
    Peer far("127.0.0.1"), stranger("127.0.0.2");
    REQUIRE(s->set_remote({"127.0.0.1", far.port, kPcmu, 101, ""}));
    std::vector<long> times;
    std::size_t samples = 0;
    std::string digits;
    s->on_audio([&](std::span<const std::int16_t> pcm, std::chrono::milliseconds at) {
        samples += pcm.size();
        times.push_back(static_cast<long>(at.count()));
    });
    s->on_digit([&](char d) { digits += d; });
    auto pump = [&] {
        for (int i = 0; i < 20; ++i) event_base_loop(loop, EVLOOP_NONBLOCK);
    };
    for (int i = 0; i < 10; ++i)
        if (i != 4)
            far.send_to(s->port(),
                        packet(kPcmu, std::uint16_t(100 + i), 8000 + 160u * i, 160, 0x55));
    stranger.send_to(s->port(), packet(kPcmu, 200, 0, 160, 0x55));
    far.send_to(s->port(), {0x80, 0x00, 0x01});  // too short
    // Key 5 (three packets of one event) and key # (a new event).
    for (int i = 0; i < 3; ++i) {
        auto e = packet(101, std::uint16_t(110 + i), 9600, 4, 0);
        e[12] = 5;
        far.send_to(s->port(), e);
    }
    auto hash = packet(101, 113, 11200, 4, 0);
    hash[12] = 11;
    far.send_to(s->port(), hash);
    pump();
    CHECK(samples == 9 * 160);
    CHECK(times == std::vector<long>{0, 20, 40, 60, 100, 120, 140, 160, 180});
    CHECK(s->stats().lost == 1);
    CHECK(s->stats().foreign == 1);
    CHECK(s->stats().malformed == 1);
    CHECK(digits == "5#");

    // What the session sends: RTP with our codec and consecutive sequence numbers.
    Peer ear("127.0.0.1");
    REQUIRE(s->set_remote({"127.0.0.1", ear.port, kPcma, -1, ""}));
    std::vector<std::int16_t> frame(160, 1000);
    s->send(frame);
    s->send(frame);
    std::uint8_t buf[512];
    RtpPacket first, second;
    auto n1 = ::recv(ear.fd, buf, sizeof buf, 0);
    REQUIRE(parse_rtp({buf, static_cast<std::size_t>(n1)}, first));
    std::vector<std::uint8_t> copy(buf, buf + n1);
    auto n2 = ::recv(ear.fd, buf, sizeof buf, 0);
    REQUIRE(parse_rtp({buf, static_cast<std::size_t>(n2)}, second));
    CHECK(first.payload_type == kPcma);
    CHECK(first.payload.size() == 160);
    CHECK(std::uint16_t(first.seq + 1) == second.seq);
    CHECK(second.timestamp - first.timestamp == 160);
    s.reset();
    CHECK(pool.free() == 100);  // every port of 46000-46099, odd ones too
    event_base_free(loop);
}

TEST_CASE("rtp: the port pool's limit caps the ports in use, and a port given back makes room") {
    RtpPortPool pool(46500, 46509);
    CHECK(pool.size() == 10);
    pool.limit(3);
    CHECK(pool.free() == 3);
    std::vector<int> taken;
    for (int i = 0; i < 3; ++i) {
        auto p = pool.take();
        REQUIRE(p);
        taken.push_back(*p);
    }
    CHECK(pool.free() == 0);
    CHECK(pool.in_use() == 3);
    CHECK_FALSE(pool.take());  // seven ports are free, but three are in use already
    CHECK(pool.size() == 10);
    pool.give(taken.back());
    CHECK(pool.free() == 1);
    CHECK(pool.take());
    // The open-file limit as the engine sees it, and the files open now (at least the three
    // standard ones, and one more while a socket is open).
    const auto files = raise_open_file_limit();
    CHECK(files > 0);
    const auto before = open_files();
    CHECK(before >= 3);
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(fd >= 0);
    CHECK(open_files() == before + 1);
    ::close(fd);
}

TEST_CASE("rtp: RTCP, muxed or a neighbour's, is dropped and never moves a latched session") {
    event_base* loop = event_base_new();
    RtpPortPool pool(46300, 46301);
    std::string error;
    auto a = RtpSession::open(loop, "127.0.0.1", pool, &error);
    auto b = RtpSession::open(loop, "127.0.0.1", pool, &error);
    REQUIRE((a && b));
    CHECK(a->port() + 1 == b->port());  // adjacent: b is a's "port + 1"
    CHECK(pool.free() == 0);
    // A softphone behind NAT (latched), sending RTCP to a's port (muxed) from another port of
    // its address, and to b (a's port + 1, where RFC 3550 puts RTCP without mux).
    Peer phone("127.0.0.1"), phone_rtcp("127.0.0.1");
    RemoteMedia r;
    r.address = "127.0.0.1";
    r.port = phone.port;
    r.payload = kPcmu;
    r.latch = true;
    REQUIRE(a->set_remote(r));
    REQUIRE(b->set_remote(r));
    std::size_t heard = 0;
    a->on_audio(
        [&](std::span<const std::int16_t> pcm, std::chrono::milliseconds) { heard += pcm.size(); });
    b->on_audio(
        [&](std::span<const std::int16_t> pcm, std::chrono::milliseconds) { heard += pcm.size(); });
    std::vector<std::uint8_t> sender_report(28, 0);
    sender_report[0] = 0x80, sender_report[1] = 200, sender_report[3] = 6;  // SR, length 6
    std::vector<std::uint8_t> bye{0x81, 203, 0x00, 0x01, 0xab, 0xcd, 0xef, 0x01};
    phone_rtcp.send_to(a->port(), sender_report);
    phone_rtcp.send_to(b->port(), bye);
    for (int i = 0; i < 20; ++i) event_base_loop(loop, EVLOOP_NONBLOCK);
    CHECK(heard == 0);
    CHECK(a->stats().rtcp == 1);
    CHECK(b->stats().rtcp == 1);
    CHECK(a->stats().malformed + a->stats().packets_in + b->stats().packets_in == 0);
    // Still sending to the phone's RTP port, not the port its RTCP came from.
    std::vector<std::int16_t> frame(160, 1000);
    a->send(frame);
    std::uint8_t buf[512];
    const auto n = ::recv(phone.fd, buf, sizeof buf, MSG_DONTWAIT);
    CHECK(n == 12 + 160);
    CHECK(::recv(phone_rtcp.fd, buf, sizeof buf, MSG_DONTWAIT) < 0);
    a.reset();
    b.reset();
    event_base_free(loop);
}

TEST_CASE("rtp: keys sent as RFC 4733 events are heard once each, without events as tones") {
    event_base* loop = event_base_new();
    RtpPortPool pool(46100, 46199);
    std::string error;
    auto sender = RtpSession::open(loop, "127.0.0.1", pool, &error);
    auto receiver = RtpSession::open(loop, "127.0.0.1", pool, &error);
    REQUIRE(sender);
    REQUIRE(receiver);
    REQUIRE(sender->set_remote({"127.0.0.1", receiver->port(), kPcmu, 101, ""}));
    REQUIRE(receiver->set_remote({"127.0.0.1", sender->port(), kPcmu, 101, ""}));
    std::string heard;
    receiver->on_digit([&](char d) { heard += d; });
    std::vector<std::int16_t> pcm;
    receiver->on_audio([&](std::span<const std::int16_t> p, std::chrono::milliseconds) {
        pcm.insert(pcm.end(), p.begin(), p.end());
    });
    auto pump = [&] {
        for (int i = 0; i < 5; ++i) event_base_loop(loop, EVLOOP_NONBLOCK);
    };
    KeyPresses keys;
    CHECK(sender->sends_events());
    REQUIRE(keys.add("1*9"));
    CHECK_FALSE(keys.add(std::string(KeyPresses::kMaxQueued, '5')));  // all or nothing
    int frames = 0;
    for (; keys.busy() && frames < 100; ++frames) {
        keys.frame(*sender);
        pump();
    }
    CHECK(heard == "1*9");
    CHECK(frames == 3 * 8);  // 100 ms on, 60 ms off, each
    CHECK(pcm.empty());      // events only: no audio was sent for them

    // A far end that takes no events: spandsp's tones, which spandsp's detector hears.
    REQUIRE(sender->set_remote({"127.0.0.1", receiver->port(), kPcmu, -1, ""}));
    CHECK_FALSE(sender->sends_events());
    heard.clear();
    DtmfDetector detector([&](char d) { heard += d; });
    REQUIRE(keys.add("42#"));
    for (frames = 0; keys.busy() && frames < 100; ++frames) {
        keys.frame(*sender);
        pump();
    }
    detector.feed(pcm);
    CHECK(heard == "42#");
    CHECK(frames >= 3 * 8);
    sender.reset();
    receiver.reset();
    event_base_free(loop);
}

TEST_CASE("srtp: SDES keys are written and read as RFC 4568 has them, the unusable refused") {
    const auto key = new_srtp_key();
    const auto attr = crypto_attribute(key);
    CHECK(attr.substr(0, 33) == "1 AES_CM_128_HMAC_SHA1_80 inline:");
    CHECK(attr.size() == 33 + 40);
    std::string error;
    auto back = parse_crypto_attribute(attr, &error);
    REQUIRE_MESSAGE(back, error);
    CHECK(back->key == key.key);
    CHECK(back->suite == SrtpSuite::aes_cm_128_hmac_sha1_80);
    CHECK(new_srtp_key().key != key.key);  // fresh each time
    // As phones write them: the 32-bit tag, a lifetime, another tag number.
    auto k32 = parse_crypto_attribute(
        "2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^31", &error);
    REQUIRE_MESSAGE(k32, error);
    CHECK(k32->suite == SrtpSuite::aes_cm_128_hmac_sha1_32);
    CHECK(k32->tag == 2);
    const std::string b64 = attr.substr(33);
    auto refused = [&](const std::string& value, const std::string& why) {
        error.clear();
        CHECK_FALSE(parse_crypto_attribute(value, &error));
        CHECK_MESSAGE(error.find(why) != std::string::npos, value << " -> " << error);
    };
    refused("1 F8_128_HMAC_SHA1_80 inline:" + b64, "suite not supported");
    refused("1 AES_CM_128_HMAC_SHA1_80 inline:" + b64 + "|2^20|1:4", "master key identifier");
    refused("1 AES_CM_128_HMAC_SHA1_80 inline:" + b64.substr(4), "30 bytes");
    refused("1 AES_CM_128_HMAC_SHA1_80 inline:" + b64 + ";inline:" + b64, "several keys");
    refused("1 AES_CM_128_HMAC_SHA1_80 inline:" + b64 + " UNENCRYPTED_SRTP", "session parameters");
    refused("x AES_CM_128_HMAC_SHA1_80 inline:" + b64, "tag");
    refused("1 AES_CM_128_HMAC_SHA1_80 uri:" + b64, "not inline");
    refused("1 AES_CM_128_HMAC_SHA1_80", "needs");
    std::mt19937 rng(7);
    for (int i = 0; i < 3000; ++i) {
        std::string junk = attr;
        for (int j = 0; j < 3; ++j) junk[rng() % junk.size()] = " |:;^=/+A1"[rng() % 10];
        (void)parse_crypto_attribute(junk, &error);
    }
}

TEST_CASE("srtp: an offer with a key is RTP/SAVP, the answer must bring its own key") {
    const auto ours = new_srtp_key();
    const auto offer = make_offer("127.0.0.1", 40000, 1, &ours);
    CHECK(offer.find("m=audio 40000 RTP/SAVP 0 8 101\r\n") != std::string::npos);
    CHECK(offer.find("a=crypto:" + crypto_attribute(ours) + "\r\n") != std::string::npos);
    CHECK(make_offer("127.0.0.1", 40000, 1).find("crypto") == std::string::npos);
    // Our offer read back as an answer: secure, with our key.
    auto r = parse_answer(offer);
    REQUIRE(r.ok());
    CHECK(r.secure);
    REQUIRE(r.srtp);
    CHECK(r.srtp->key == ours.key);
    const std::string head = "v=0\r\nc=IN IP4 192.0.2.1\r\n";
    CHECK(parse_answer(head + "m=audio 5004 RTP/SAVP 0\r\n").error ==
          "RTP/SAVP answer without an a=crypto key");
    CHECK(parse_answer(head + "m=audio 5004 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 "
                              "inline:short\r\n")
              .error.find("unusable SRTP key") == 0);
    // The first usable line is taken; a bad one before it is skipped.
    auto second = parse_answer(head + "m=audio 5004 RTP/SAVP 0\r\na=crypto:1 NOPE inline:x\r\n" +
                               "a=crypto:2 " + crypto_attribute(ours).substr(2) + "\r\n");
    REQUIRE(second.ok());
    CHECK(second.srtp->tag == 2);
    // A plain answer: no key is taken even if it wrote one.
    auto plain = parse_answer(
        head + "m=audio 5004 RTP/AVP 0\r\na=crypto:" + crypto_attribute(ours) + "\r\n");
    REQUIRE(plain.ok());
    CHECK_FALSE(plain.secure);
    CHECK_FALSE(plain.srtp);
}

TEST_CASE("srtp: two sessions talk encrypted, clear, forged and replayed packets are dropped") {
    event_base* loop = event_base_new();
    RtpPortPool pool(46200, 46299);
    std::string error;
    auto a = RtpSession::open(loop, "127.0.0.1", pool, &error);
    auto b = RtpSession::open(loop, "127.0.0.1", pool, &error);
    REQUIRE(a);
    REQUIRE(b);
    const auto key_a = new_srtp_key(), key_b = new_srtp_key();
    REQUIRE(a->use_srtp(key_a, key_b));
    REQUIRE(b->use_srtp(key_b, key_a));
    CHECK(a->encrypted());
    REQUIRE(a->set_remote({"127.0.0.1", b->port(), kPcmu, 101, ""}));
    REQUIRE(b->set_remote({"127.0.0.1", a->port(), kPcmu, 101, ""}));
    std::vector<std::int16_t> heard;
    b->on_audio([&](std::span<const std::int16_t> p, std::chrono::milliseconds) {
        heard.insert(heard.end(), p.begin(), p.end());
    });
    std::string keys;
    b->on_digit([&](char d) { keys += d; });
    auto pump = [&] {
        for (int i = 0; i < 5; ++i) event_base_loop(loop, EVLOOP_NONBLOCK);
    };
    std::vector<std::int16_t> tone(160);
    for (int i = 0; i < 160; ++i) tone[i] = static_cast<std::int16_t>(8000 * std::sin(i * 0.3));
    for (int i = 0; i < 10; ++i) {
        a->send(tone);
        pump();
    }
    a->send_event('7', 160, false);
    a->send_event('7', 320, true);
    pump();
    REQUIRE(heard.size() == 10 * 160);
    // G.711 is lossy: what came through is the tone within µ-law's error, not noise.
    double err = 0;
    for (int i = 0; i < 160; ++i) err = std::max(err, std::abs(double(heard[i] - tone[i])));
    CHECK(err < 300);
    CHECK(keys == "7");
    CHECK(b->stats().unauthenticated == 0);

    // On the wire: the RTP header stays, the payload is not µ-law of the tone, a 10-byte tag.
    Peer ear("127.0.0.1");
    REQUIRE(a->set_remote({"127.0.0.1", ear.port, kPcmu, 101, ""}));
    a->send(tone);
    std::uint8_t buf[512];
    const auto n = ::recv(ear.fd, buf, sizeof buf, 0);
    REQUIRE(n == 12 + 160 + 10);
    RtpPacket p;
    REQUIRE(parse_rtp({buf, 12 + 160}, p));
    int same = 0;
    for (int i = 0; i < 160; ++i) same += p.payload[i] == linear_to_ulaw(tone[i]);
    CHECK(same < 10);
    // Replayed from the right address: dropped. Clear RTP: dropped. Both counted, none heard.
    // (`ear` is a different port of the same address b expects, as a NAT's would be.)
    heard.clear();
    ear.send_to(b->port(), std::vector<std::uint8_t>(buf, buf + n));
    pump();
    ear.send_to(b->port(), std::vector<std::uint8_t>(buf, buf + n));
    ear.send_to(b->port(), packet(kPcmu, 999, 160000, 160, 0x55));
    auto forged = std::vector<std::uint8_t>(buf, buf + n);
    forged[20] ^= 1;
    forged[3] ^= 0x40;  // a new sequence number: not a replay, but the tag no longer matches
    ear.send_to(b->port(), forged);
    pump();
    CHECK(heard.size() == 160);  // the first copy, once: a's packet to `ear` was genuine
    CHECK(b->stats().unauthenticated == 3);
    a.reset();
    b.reset();
    event_base_free(loop);
}

TEST_CASE("recordings: a stalled disk drops frames instead of holding up the loop") {
    outpace::test::TempDir dir;
    int drops = 0;
    RecordingWriter writer(4, [&] { ++drops; });
    // A recording whose file is a FIFO nobody reads: the writer's thread blocks opening it, as on
    // a disk that stopped answering.
    const auto fifo = dir.file("stalled.wav");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto stuck = std::make_unique<Recorder>(writer, fifo);
    for (int i = 0; i < 500 && writer.waiting() > 0; ++i) ::usleep(10'000);
    REQUIRE(writer.waiting() == 0);  // the thread took the open, and is stuck in it
    std::vector<bool> kept;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 10; ++i) kept.push_back(stuck->tick({}));
    // Never waited for the disk: ten ticks, the first four queued (the queue's bound), the
    // rest dropped and reported one by one.
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(100));
    CHECK(kept ==
          std::vector<bool>{true, true, true, true, false, false, false, false, false, false});
    CHECK(drops == 6);
    CHECK(writer.dropped() == 6);
    CHECK(stuck->position_ms() == 200);  // the timeline counts dropped frames too
    // The disk comes back (a reader opens the FIFO): the writer goes on with the next recording.
    const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
    REQUIRE(reader >= 0);
    stuck.reset();
    writer.flush();  // the four frames it held, and the close
    {
        Recorder rec(writer, dir.file("calls/7.wav"));  // its folder made by the writer
        const std::vector<std::int16_t> voice(160, 1234), sent(160, -321);
        for (int i = 0; i < 3; ++i) {
            rec.heard(voice);
            CHECK(rec.tick(sent));
        }
    }
    writer.flush();
    ::close(reader);
    SF_INFO info{};
    SNDFILE* f = sf_open(dir.file("calls/7.wav").c_str(), SFM_READ, &info);
    REQUIRE(f);
    CHECK(info.channels == 2);
    CHECK(info.samplerate == 8000);
    REQUIRE(info.frames == 3 * 160);
    std::vector<std::int16_t> pcm(2 * 3 * 160);
    sf_readf_short(f, pcm.data(), info.frames);
    sf_close(f);
    CHECK(pcm[0] == 1234);
    CHECK(pcm[1] == -321);
    CHECK(pcm[2 * 479] == 1234);
    CHECK(pcm[2 * 479 + 1] == -321);
    CHECK(drops == 6);
}
