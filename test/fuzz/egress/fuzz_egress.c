/* libFuzzer target: the outside input of coil egress. The bytes up to the first NUL (or all
 * of them) are COIL_POD_ADDRESSES; the whole input, as JSON, is a Pod from the API server,
 * decoded and fed to a pod watcher with a kernel that does nothing. */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "egress/egress.h"

static int add_peer(void *arg, const struct nl_ip *ip, char ifname[IF_NAMESIZE], char *err,
		    size_t errlen)
{
	(void)arg;
	(void)err;
	(void)errlen;
	return founat_link_name(ip, ifname, IF_NAMESIZE) < 0 ? -EINVAL : 0;
}

static int del_peer(void *arg, const struct nl_ip *ip, char *err, size_t errlen)
{
	(void)arg;
	(void)ip;
	(void)err;
	(void)errlen;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct egress_env env;
	char err[256];
	egress_env_parse("ns", "name", text, "host", &env, err, sizeof(err));
	free(text);

	json_t *pod = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	struct egress_pod p;
	if (pod && egress_pod_decode(pod, "internet", "egress2", &p, err, sizeof(err)) == 0) {
		struct egress_peer_ops ops = {.add_peer = add_peer, .del_peer = del_peer};
		struct metrics *m = metrics_new();
		egress_metrics_declare(m);
		struct egress_watch *w = egress_watch_new(&ops, m, "internet", "egress2");
		egress_watch_sync(w, p.key, &p, err, sizeof(err));
		egress_watch_sync(w, p.key, NULL, err, sizeof(err));
		egress_watch_free(w);
		metrics_free(m);
	}
	json_decref(pod);
	return 0;
}
