#!/usr/bin/env python3
"""Keeps N softphones registered to the engine, as an office behind one NAT address would:
accounts reg1..regN with SIP passwords sip-pass-1..N, digest (RFC 2617, qop=auth), a REGISTER
every 60 s per phone (spread over the minute), and a 200 to every keep-alive OPTIONS. Like
baresip, Linphone and Zoiper, a phone refreshes with the nonce it last answered and the next
count (nc=2, 3, ...), and answers a new challenge only when the engine sends one. SIPp cannot
do this (its [authentication] keyword takes no per-call user name from an injection file).
Sleeps between events, so that the load it adds to the machine is its messages, not polling.

Usage: bench/softphones.py N ENGINE_SIP_PORT [SOURCE_IP=127.0.0.3]
Prints one line every 10 s: registered, REGISTERs sent, 200s, 401s, other answers, OPTIONS
answered. Runs until killed. Used by bench/agents.sh REGISTERED=N.
"""
import hashlib
import heapq
import random
import re
import select
import socket
import sys
import time

n = int(sys.argv[1])
engine = ("127.0.0.1", int(sys.argv[2]))
source = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.3"
realm = "outpace"

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((source, 0))
port = sock.getsockname()[1]
uri = f"sip:{engine[0]}:{engine[1]}"


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


class Phone:
    def __init__(self, i, now):
        self.user, self.password = f"reg{i}", f"sip-pass-{i}"
        self.call_id = f"reg{i}-{random.getrandbits(48):x}@{source}"
        self.cseq = 0
        self.registered = False
        self.params = None  # the last challenge answered
        self.nc = 0
        self.due = now + 60.0 * (i - 1) / n  # spread over the first minute

    def register(self, authorization=None):
        self.cseq += 1
        lines = [
            f"REGISTER {uri} SIP/2.0",
            f"Via: SIP/2.0/UDP {source}:{port};branch=z9hG4bK{random.getrandbits(48):x};rport",
            f"From: <sip:{self.user}@{engine[0]}>;tag={self.user}",
            f"To: <sip:{self.user}@{engine[0]}>",
            f"Call-ID: {self.call_id}",
            f"CSeq: {self.cseq} REGISTER",
            f"Contact: <sip:{self.user}@{source}:{port}>",
            "Expires: 120",
            "Max-Forwards: 70",
        ]
        if authorization:
            lines.append(f"Authorization: {authorization}")
        lines += ["Content-Length: 0", "", ""]
        sock.sendto("\r\n".join(lines).encode(), engine)

    def answer(self, challenge=None):
        """Answers `challenge` (nc=1), or with no challenge the last one again (next count)."""
        if challenge is not None:
            self.params = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
            self.nc = 0
        params = self.params
        self.nc += 1
        nc = f"{self.nc:08x}"
        cnonce = f"{random.getrandbits(32):08x}"
        ha1 = md5(f"{self.user}:{realm}:{self.password}")
        ha2 = md5(f"REGISTER:{uri}")
        nonce = params.get("nonce", "")
        response = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        auth = (f'Digest username="{self.user}", realm="{params.get("realm", realm)}", '
                f'nonce="{nonce}", uri="{uri}", response="{response}", algorithm=MD5, '
                f'qop=auth, nc={nc}, cnonce="{cnonce}"')
        if "opaque" in params:
            auth += f', opaque="{params["opaque"]}"'
        self.register(auth)

    def refresh(self):
        if self.params:
            self.answer()
        else:
            self.register()


def header(lines, name):
    for line in lines:
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return ""


now = time.monotonic()
phones = {}
due = []  # (time, call-id): the next REGISTER of each phone
for i in range(1, n + 1):
    p = Phone(i, now)
    phones[p.call_id] = p
    heapq.heappush(due, (p.due, p.call_id))
sent = ok = challenged = reused = other = pinged = 0
next_report = now + 10
while True:
    now = time.monotonic()
    while due and due[0][0] <= now:
        when, call_id = heapq.heappop(due)
        p = phones[call_id]
        if when != p.due:
            continue  # moved since (a 503 brought it forward)
        p.due = now + 60
        heapq.heappush(due, (p.due, call_id))
        reused += p.params is not None
        p.refresh()
        sent += 1
    wait = max(0.0, min(due[0][0] if due else now + 1, next_report) - now)
    ready, _, _ = select.select([sock], [], [], wait)
    for _ in range(1000 if ready else 0):
        try:
            data, peer = sock.recvfrom(65535, socket.MSG_DONTWAIT)
        except BlockingIOError:
            break
        lines = data.decode(errors="replace").split("\r\n")
        first = lines[0]
        if first.startswith("OPTIONS"):
            reply = ["SIP/2.0 200 OK"] + [
                l for l in lines[1:]
                if l.split(":")[0].lower() in ("via", "from", "to", "call-id", "cseq")
            ] + ["Content-Length: 0", "", ""]
            sock.sendto("\r\n".join(reply).encode(), peer)
            pinged += 1
            continue
        if not first.startswith("SIP/2.0"):
            continue
        p = phones.get(header(lines, "Call-ID"))
        if not p:
            continue
        code = int(first.split()[1])
        if code == 401:
            challenged += 1
            sent += 1
            p.answer(header(lines, "WWW-Authenticate"))
        elif code == 200:
            ok += 1
            p.registered = True
        else:
            other += 1
            p.params = None
            p.due = now + 5  # 503 and the like: try again soon, from the start
            heapq.heappush(due, (p.due, p.call_id))
    if time.monotonic() >= next_report:
        next_report = time.monotonic() + 10
        registered = sum(p.registered for p in phones.values())
        print(f"registered {registered} sent {sent} ok {ok} challenged {challenged} "
              f"refreshed-on-nonce {reused} other {other} options {pinged}", flush=True)
