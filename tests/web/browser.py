#!/usr/bin/env python3
"""A real Chromium for the C++ web tests (tests/web_desktop_test.cc, web_gateway_test.cc),
driven through chromedriver.

Reads one JSON command per line on stdin and answers one JSON line on stdout:
{"ok": true, "value": ...} or {"ok": false, "error": "..."}. Windows are named by the test
("agent", "supervisor", "tab2"), each a tab of one browser (one cookie jar, like a person's)."""
import json
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys


def main():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,800", "--no-first-run", "--disable-extensions",
                # A console in a background tab still gets its pushes at once; the TLS test
                # serves a self-signed certificate.
                "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                "--disable-backgrounding-occluded-windows", "--ignore-certificate-errors"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_window_size(1280, 800)
    windows = {"first": driver.current_window_handle}

    def find(css):
        return driver.find_element(By.CSS_SELECTOR, css)

    def wait(predicate, timeout):
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end:
            try:
                last = predicate()
                if last:
                    return last
            except WebDriverException:
                pass
            time.sleep(0.02)
        raise TimeoutError("timed out")

    def run(c):
        op = c["op"]
        timeout = c.get("timeout", 10)
        if op == "open":  # open a URL in the named window (made if new)
            name = c.get("window", "first")
            if name not in windows:
                driver.switch_to.new_window("tab")
                windows[name] = driver.current_window_handle
            driver.switch_to.window(windows[name])
            driver.get(c["url"])
            return None
        if op == "switch":
            driver.switch_to.window(windows[c["window"]])
            return None
        if op == "close_window":
            driver.switch_to.window(windows.pop(c["window"]))
            driver.close()
            driver.switch_to.window(next(iter(windows.values())))
            return None
        if op == "type":
            e = wait(lambda: find(c["css"]), timeout)
            if c.get("clear", True):
                e.clear()
            e.send_keys(c["text"])
            return None
        if op == "click":  # found again until it can be clicked (pages re-render)
            def click():
                e = find(c["css"])
                if not (e.is_enabled() and e.is_displayed()):
                    return None
                e.click()
                return True
            wait(click, timeout)
            return None
        if op == "keys":  # keys to the page (the focused element, else the body)
            target = driver.switch_to.active_element
            keys = c["keys"]
            if c.get("alt"):
                keys = Keys.ALT + keys + Keys.NULL
            target.send_keys(keys)
            return None
        if op == "text":  # an element's text, waiting until it contains `contains` (if given)
            want = c.get("contains", "")
            return wait(lambda: (lambda t: t if want in t else None)(find(c["css"]).text)
                        if want else find(c["css"]).text + "\0", timeout).rstrip("\0")
        if op == "wait_js":  # a JavaScript expression, until truthy; its value
            return wait(lambda: driver.execute_script("return " + c["js"]), timeout)
        if op == "js":
            return driver.execute_script("return " + c["js"])
        if op == "visible":
            return find(c["css"]).is_displayed()
        if op == "screenshot":
            driver.save_screenshot(c["path"])
            return c["path"]
        if op == "clock":  # this host's clocks: CLOCK_MONOTONIC and the wall clock, in µs
            return {"monotonic_us": time.monotonic_ns() // 1000, "wall_us": time.time_ns() // 1000}
        if op == "quit":
            driver.quit()
            return None
        raise ValueError("unknown op " + op)

    print(json.dumps({"ok": True, "value": "ready"}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            c = json.loads(line)
            value = run(c)
            print(json.dumps({"ok": True, "value": value}), flush=True)
            if c["op"] == "quit":
                return
        except Exception as e:  # the test reads the reason
            print(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}), flush=True)
    driver.quit()


if __name__ == "__main__":
    main()
