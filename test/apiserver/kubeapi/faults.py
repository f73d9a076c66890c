"""Fault injection and the request log, driven by tests through the /_test/ side channel.

POST /_test/faults adds a rule (JSON object, every field optional):
  fail_next    N    answer the next N matching requests with `status` instead of serving them
  status       500  HTTP code of those failures (429 answers TooManyRequests)
  retry_after  S    add `Retry-After: S` to those failures
  delay_ms     D    delay every matching request by D ms (until the rule is removed)
  drop_watches true abort the matching watch streams open right now (no clean end)
  path_regex   RE   only requests whose path (with query) matches RE (re.search)
  method       M    only requests with this HTTP method
  watch        bool only watch requests (true) or only non-watch requests (false)
GET /_test/faults lists the rules, DELETE /_test/faults removes them.
GET /_test/requests?since=SEQ returns the request log, DELETE /_test/requests clears it.
POST /_test/reset removes rules and the log; with {"data": true} it also deletes every object
(the default namespaces come back).
"""

import collections
import re
import threading
import time


class Rule:
    def __init__(self, spec):
        self.spec = dict(spec)
        self.fail_left = int(spec.get("fail_next", 0))
        self.status = int(spec.get("status", 500))
        self.retry_after = spec.get("retry_after")
        self.delay_ms = int(spec.get("delay_ms", 0))
        self.regex = re.compile(spec["path_regex"]) if spec.get("path_regex") else None
        self.method = spec.get("method")
        self.watch = spec.get("watch")

    def matches(self, method, path, is_watch):
        if self.regex and not self.regex.search(path):
            return False
        if self.method and self.method.upper() != method:
            return False
        return self.watch is None or bool(self.watch) == is_watch

    def describe(self):
        return dict(self.spec, fail_left=self.fail_left)


class Faults:
    def __init__(self, log_size=10000):
        self._lock = threading.Lock()
        self._rules = []
        self._log = collections.deque(maxlen=log_size)
        self._seq = 0
        # Every 403 of RBAC since start (or /_test/reset): kept apart from the request log,
        # which tests clear, so that "no coil program was ever denied" can be checked at the end.
        self._denials = collections.deque(maxlen=log_size)

    def add(self, spec):
        rule = Rule(spec)
        with self._lock:
            if rule.fail_left or rule.delay_ms:
                self._rules.append(rule)
        return rule

    def clear(self):
        with self._lock:
            self._rules = []

    def rules(self):
        with self._lock:
            return [r.describe() for r in self._rules]

    def check(self, method, path, is_watch):
        """Applies delays; returns (status, retry_after) if this request must fail, else None."""
        delay, failure = 0, None
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path, is_watch):
                    continue
                delay = max(delay, rule.delay_ms)
                if failure is None and rule.fail_left > 0:
                    rule.fail_left -= 1
                    failure = (rule.status, rule.retry_after)
            self._rules = [r for r in self._rules if r.fail_left > 0 or r.delay_ms]
        if delay:
            time.sleep(delay / 1000.0)
        return failure

    # --- request log -------------------------------------------------------------------------

    def log(self, entry):
        with self._lock:
            self._seq += 1
            entry["seq"] = self._seq
            self._log.append(entry)

    def requests(self, since=0):
        with self._lock:
            return [e for e in self._log if e["seq"] > since]

    def clear_log(self):
        with self._lock:
            self._log.clear()

    def deny(self, entry):
        with self._lock:
            self._denials.append(entry)

    def denials(self):
        with self._lock:
            return list(self._denials)

    def clear_denials(self):
        with self._lock:
            self._denials.clear()
