"""Pass/fail bookkeeping of the cluster test: every assertion is counted, failures are logged
at once with what was expected and what was found, and the summary line is
`N passed, N failed`."""

import sys
import time


def log(msg):
    print("cluster: " + msg, file=sys.stderr, flush=True)


def wait_for(cond, timeout, interval=0.05):
    """Polls cond() until it returns something true or timeout seconds passed; returns the
    last value (false on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


class Checks:
    def __init__(self, verbose=False):
        self.passed = 0
        self.failed = 0
        self.verbose = verbose
        self.section = ""

    def start(self, section):
        self.section = section
        log("--- " + section)

    def ok(self, cond, what, detail=""):
        """Counts one assertion; returns cond so that callers can stop early."""
        if cond:
            self.passed += 1
            if self.verbose:
                log("ok: " + what)
        else:
            self.failed += 1
            log("FAIL [%s]: %s%s" % (self.section, what, (": " + str(detail)) if detail else ""))
        return bool(cond)

    def eq(self, expected, actual, what):
        return self.ok(expected == actual, what,
                       "expected %r, got %r" % (expected, actual))

    def fail(self, what, detail=""):
        return self.ok(False, what, detail)

    def summary(self):
        return "%d passed, %d failed" % (self.passed, self.failed)
