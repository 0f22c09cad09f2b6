#!/usr/bin/env python3
"""The web desktop's figures (bench/web.sh runs it with an engine and a gateway up).

pops URL PAGES SECONDS PASSWORD: PAGES agent desktops (agent1..) in tabs of one headless
  Chromium go ready; after SECONDS, each page's screen pops (window.outpace.pops: the offer's
  verdict_clock_us, the engine's CLOCK_MONOTONIC at the human verdict, and the wall-clock time the
  page's DOM showed the contact) give the latency from the verdict to the pop, on this host.
sessions URL COUNT PASSWORD FIRST: COUNT agents (agentFIRST..) log in by HTTP and keep one
  WebSocket each open for the gateway's CPU and memory; prints when all are up, then holds them
  until stdin closes."""
import json
import socket
import statistics
import sys
import time
import urllib.request


def login(url, agent, password):
    req = urllib.request.Request(
        url + "api/login", data=json.dumps({"agent": agent, "password": password}).encode(),
        headers={"Content-Type": "application/json", "Origin": url.rstrip("/")}, method="POST")
    for _ in range(60):
        try:
            with urllib.request.urlopen(req, timeout=40) as r:
                return r.headers["Set-Cookie"].split(";")[0]
        except urllib.error.HTTPError as e:
            if e.code not in (429, 503):
                raise
            time.sleep(1)
    raise RuntimeError("no login for " + agent)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def pops(url, pages, seconds, password):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,800", "--disable-background-timer-throttling",
                "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    handles = []
    for i in range(1, pages + 1):
        if i > 1:
            driver.switch_to.new_window("tab")
        driver.get(url)
        driver.execute_script(
            "document.getElementById('login-agent').value = arguments[0];"
            "document.getElementById('login-password').value = arguments[1];"
            "document.getElementById('login-button').click();", f"agent{i}", password)
        handles.append(driver.current_window_handle)
    for h in handles:
        driver.switch_to.window(h)
        for _ in range(300):
            if driver.execute_script("return !document.getElementById('btn-ready').disabled"):
                break
            time.sleep(0.1)
        driver.execute_script("document.getElementById('btn-ready').click()")
        # The agent: hangs up after 4 s of talk, then disposes SALE (once per wrap-up).
        driver.execute_script("""
          let since = 0, disposed = 0;
          setInterval(() => {
            const st = document.getElementById('state').dataset.state;
            if (st !== 'talking') since = 0; else if (!since) since = Date.now();
            if (st === 'talking' && Date.now() - since > 4000) document.getElementById('btn-hangup').click();
            const pops = window.outpace.pops.length;
            if (st === 'wrapup' && disposed !== pops) {
              const b = document.querySelector('#dispositions button[data-code=SALE]');
              if (b && !b.disabled) { disposed = pops; b.click(); }
            }
          }, 250);""")
    print(f"{pages} pages ready", flush=True)
    time.sleep(seconds)
    offset_us = time.time_ns() / 1000 - time.monotonic_ns() / 1000  # wall - CLOCK_MONOTONIC
    latencies = []
    for h in handles:
        driver.switch_to.window(h)
        for p in driver.execute_script("return window.outpace.pops"):
            latencies.append(p["shown_ms"] - (p["verdict_clock_us"] + offset_us) / 1000)
    driver.quit()
    if not latencies:
        print("no screen pops")
        return
    print(f"verdict to the page's DOM showing the contact, {pages} pages open: "
          f"median {statistics.median(latencies):.1f} ms, p99 {percentile(latencies, 99):.1f} ms, "
          f"max {max(latencies):.1f} ms over {len(latencies)} pops (goal: p99 <= 100 ms)")


def sessions(url, count, password, first):
    host, port = url.split("//")[1].rstrip("/").split(":")

    def open_session(i):
        # A session with no page ends after sessions.idle: its page connects at once.
        cookie = login(url, f"agent{i}", password)
        s = socket.create_connection((host, int(port)))
        s.sendall((f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   f"Sec-WebSocket-Version: 13\r\nOrigin: {url.rstrip('/')}\r\nCookie: {cookie}\r\n"
                   "\r\n").encode())
        head = s.recv(4096)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError(f"agent{i}: no WebSocket: {head[:80]!r}")
        s.setblocking(False)
        return s

    # Eight at a time (the engine checks passwords one after the other, ~60 ms each).
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(8) as pool:
        socks = list(pool.map(open_session, range(first, first + count)))
    print(f"{count} sessions up", flush=True)
    # Read what the gateway sends (states, heartbeats' answers are not forwarded) until told.
    import select
    while True:
        r, _, _ = select.select(socks + [sys.stdin], [], [], 1)
        for s in r:
            if s is sys.stdin:
                if not sys.stdin.readline():
                    return
                continue
            try:
                s.recv(65536)
            except BlockingIOError:
                pass


if __name__ == "__main__":
    if sys.argv[1] == "pops":
        pops(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
    else:
        sessions(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
