"""Watch semantics: event types, resumption, 410 Gone, bookmarks, timeouts, selectors."""

import time
import unittest

from kubetest import ServerTest, Watch

POOLS = "/apis/coil.cybozu.com/v2/addresspools"
CMS = "/api/v1/namespaces/default/configmaps"


def pool(name, **meta):
    return {"metadata": dict(name=name, **meta), "spec": {"subnets": [{"ipv4": "10.0.0.0/8"}]}}


class WatchTest(ServerTest):
    server_args = ("--history", "20", "--bookmark-interval", "0.3")

    def test_events_in_order(self):
        rv = self.ok(self.c.get(POOLS))["metadata"]["resourceVersion"]
        w = Watch(self.port, POOLS + "?watch=1&resourceVersion=" + rv)
        self.assertEqual(w.status, 200)
        self.assertEqual(w.resp.headers["Transfer-Encoding"], "chunked")
        self.ok(self.c.post(POOLS, pool("w1")), 201)
        self.ok(self.c.patch(POOLS + "/w1", {"metadata": {"labels": {"x": "y"}}}))
        self.ok(self.c.delete(POOLS + "/w1"))
        evs = w.events(3)
        self.assertEqual([e["type"] for e in evs], ["ADDED", "MODIFIED", "DELETED"])
        self.assertEqual(evs[1]["object"]["metadata"]["labels"], {"x": "y"})
        rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in evs]
        self.assertEqual(rvs, sorted(rvs))
        self.assertEqual(len(set(rvs)), 3)
        w.close()

    def test_initial_state_and_legacy_path(self):
        self.ok(self.c.post(POOLS, pool("init")), 201)
        w = Watch(self.port, "/apis/coil.cybozu.com/v2/watch/addresspools/init")
        ev = w.next()
        self.assertEqual((ev["type"], ev["object"]["metadata"]["name"]), ("ADDED", "init"))
        w.close()

    def test_resume_and_gone(self):
        first = self.ok(self.c.post(CMS, {"metadata": {"name": "r0"}}), 201)
        rv0 = first["metadata"]["resourceVersion"]
        for i in range(1, 4):
            self.ok(self.c.post(CMS, {"metadata": {"name": "r%d" % i}}), 201)
        w = Watch(self.port, CMS + "?watch=true&resourceVersion=" + rv0)
        names = [e["object"]["metadata"]["name"] for e in w.events(3)]
        self.assertEqual(names, ["r1", "r2", "r3"])
        w.close()
        for i in range(30):  # push rv0 out of the 20 kept events
            self.ok(self.c.post(CMS, {"metadata": {"name": "s%d" % i}}), 201)
        w = Watch(self.port, CMS + "?watch=true&resourceVersion=" + rv0)
        self.assertEqual(w.status, 200)
        ev = w.next()
        self.assertEqual(ev["type"], "ERROR")
        self.assertEqual((ev["object"]["code"], ev["object"]["reason"]), (410, "Expired"))
        self.assertIn("too old resource version", ev["object"]["message"])
        self.assertIsNone(w.next())  # stream ends
        w.close()

    def test_bookmarks_and_timeout(self):
        rv = self.ok(self.c.get(POOLS))["metadata"]["resourceVersion"]
        w = Watch(self.port, POOLS + "?watch=1&allowWatchBookmarks=true&timeoutSeconds=2"
                  "&resourceVersion=" + rv)
        start = time.time()
        ev = w.next()
        self.assertEqual(ev["type"], "BOOKMARK")
        self.assertEqual(ev["object"]["kind"], "AddressPool")
        self.assertGreaterEqual(int(ev["object"]["metadata"]["resourceVersion"]), int(rv))
        while ev is not None:
            ev = w.next()
        self.assertLess(time.time() - start, 4)
        self.assertGreater(time.time() - start, 1.5)
        w.close()

    def test_send_initial_events(self):
        self.ok(self.c.post(POOLS, pool("sie")), 201)
        w = Watch(self.port, POOLS + "?watch=1&sendInitialEvents=true&allowWatchBookmarks=true"
                  "&resourceVersionMatch=NotOlderThan&fieldSelector=metadata.name%3Dsie")
        ev = w.next()
        self.assertEqual(ev["type"], "ADDED")
        ev = w.next()
        self.assertEqual(ev["type"], "BOOKMARK")
        self.assertEqual(ev["object"]["metadata"]["annotations"],
                         {"k8s.io/initial-events-end": "true"})
        w.close()

    def test_selector_transitions(self):
        rv = self.ok(self.c.post(POOLS, pool("sel")), 201)["metadata"]["resourceVersion"]
        w = Watch(self.port, POOLS + "?watch=1&labelSelector=on%3D1&resourceVersion=" + rv)
        self.ok(self.c.patch(POOLS + "/sel", {"metadata": {"labels": {"on": "1"}}}))
        self.ok(self.c.patch(POOLS + "/sel", {"metadata": {"annotations": {"a": "b"}}}))
        self.ok(self.c.patch(POOLS + "/sel", {"metadata": {"labels": {"on": "0"}}}))
        self.assertEqual([e["type"] for e in w.events(3)], ["ADDED", "MODIFIED", "DELETED"])
        w.close()

    def test_namespaced_watch(self):
        self.ok(self.c.post("/api/v1/namespaces", {"metadata": {"name": "other"}}), 201)
        rv = self.ok(self.c.get(CMS))["metadata"]["resourceVersion"]
        w = Watch(self.port, "/api/v1/watch/namespaces/default/configmaps?resourceVersion=" + rv)
        self.ok(self.c.post("/api/v1/namespaces/other/configmaps", {"metadata": {"name": "o"}}),
                201)
        self.ok(self.c.post(CMS, {"metadata": {"name": "mine"}}), 201)
        ev = w.next()
        self.assertEqual(ev["object"]["metadata"]["name"], "mine")
        w.close()

    def test_crd_deletion_ends_watch(self):
        crd = {"metadata": {"name": "gadgets.example.com"},
               "spec": {"group": "example.com", "scope": "Cluster",
                        "names": {"plural": "gadgets", "kind": "Gadget"},
                        "versions": [{"name": "v1", "served": True, "storage": True}]}}
        self.ok(self.c.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd), 201)
        self.ok(self.c.post("/apis/example.com/v1/gadgets", {"metadata": {"name": "g"}}), 201)
        w = Watch(self.port, "/apis/example.com/v1/gadgets?watch=1")
        self.assertEqual(w.next()["type"], "ADDED")
        self.c.delete("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
                      "gadgets.example.com")
        self.assertEqual(w.next()["type"], "DELETED")
        self.assertIsNone(w.next())
        w.close()


if __name__ == "__main__":
    unittest.main()
