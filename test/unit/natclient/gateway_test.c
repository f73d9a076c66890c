/* Gateways from an Egress and its Service. */
#include <errno.h>
#include <string.h>

#include "natclient/natclient.h"
#include "suites.h"

static json_t *egress(const char *dests_json, bool sport_auto)
{
	json_t *d = json_loads(dests_json, 0, NULL);
	ck_assert_ptr_nonnull(d);
	return json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:o,s:b}}", "apiVersion", "coil.cybozu.com/v2",
			 "kind", "Egress", "metadata", "name", "egress", "namespace", "ns2", "spec",
			 "destinations", d, "fouSourcePortAuto", sport_auto);
}

static json_t *service(const char *ips_json)
{
	json_t *ips = json_loads(ips_json, 0, NULL);
	ck_assert_ptr_nonnull(ips);
	return json_pack("{s:{s:o}}", "spec", "clusterIPs", ips);
}

static void networks_text(const struct natclient_gateway *g, char *buf, size_t len)
{
	char text[NL_PREFIX_STRLEN];
	buf[0] = '\0';
	for (size_t i = 0; i < g->n_networks; i++) {
		size_t used = strlen(buf);
		snprintf(buf + used, len - used, "%s%s", i ? "," : "",
			 nl_prefix_format(&g->networks[i], text, sizeof(text)));
	}
}

static const struct {
	const char *dests, *ips;
	bool sport_auto;
	int ret;
	const char *want; /* "gw=nets;gw=nets" or the error's start */
} cases[] = {
    /* the upstream case: one gateway of the ClusterIP's family only */
    {"[\"192.168.0.0/16\",\"fd20::/112\"]", "[\"10.0.0.5\"]", false, 0, "10.0.0.5=192.168.0.0/16"},
    {"[\"0.0.0.0/0\",\"::/0\"]", "[\"10.0.0.5\",\"fd01::5\"]", true, 0,
     "10.0.0.5=0.0.0.0/0;fd01::5=::/0"},
    /* normalised to the network address; duplicates once */
    {"[\"10.1.2.3/24\",\"10.1.2.0/24\",\"9.9.9.9/32\"]", "[\"10.0.0.5\"]", false, 0,
     "10.0.0.5=10.1.2.0/24,9.9.9.9/32"},
    /* no destination of the family: no gateway */
    {"[\"fd20::/112\"]", "[\"10.0.0.5\"]", false, 0, ""},
    {"[\"0.0.0.0/0\"]", "[]", false, 0, ""},
    {"[\"0.0.0.0/0\"]", "[\"None\"]", false, -EINVAL, "invalid ClusterIP in Service ns2/egress"},
    {"[\"0.0.0.0/0\"]", "[5]", false, -EINVAL, "invalid ClusterIP in Service ns2/egress"},
    {"[\"10.0.0.0/33\"]", "[\"10.0.0.5\"]", false, -EINVAL, "invalid network in Egress ns2/egress"},
    {"[\"10.0.0.1\"]", "[\"10.0.0.5\"]", false, -EINVAL, "invalid network in Egress ns2/egress"},
    {"[\"x/8\"]", "[\"10.0.0.5\"]", false, -EINVAL, "invalid network in Egress ns2/egress"},
};

START_TEST(test_gateways)
{
	json_t *eg = egress(cases[_i].dests, cases[_i].sport_auto), *svc = service(cases[_i].ips);
	struct natclient_gateways gws = {0};
	char err[256] = "", got[512] = "", nets[256], ip[NL_IP_STRLEN];
	int ret = natclient_gateways_add(&gws, "ns2", "egress", eg, svc, true, err, sizeof(err));
	ck_assert_int_eq(ret, cases[_i].ret);
	if (ret < 0) {
		ck_assert_msg(strncmp(err, cases[_i].want, strlen(cases[_i].want)) == 0, "%s", err);
	} else {
		for (size_t i = 0; i < gws.n; i++) {
			size_t used = strlen(got);
			networks_text(&gws.items[i], nets, sizeof(nets));
			snprintf(got + used, sizeof(got) - used, "%s%s=%s", i ? ";" : "",
				 nl_ip_format(&gws.items[i].address, ip, sizeof(ip)), nets);
			ck_assert_int_eq(gws.items[i].sport_auto, cases[_i].sport_auto);
			ck_assert(gws.items[i].originating_only);
		}
		ck_assert_str_eq(got, cases[_i].want);
	}
	natclient_gateways_free(&gws);
	json_decref(eg);
	json_decref(svc);
}
END_TEST

/* Two Egresses append to one list. */
START_TEST(test_gateways_append)
{
	json_t *eg = egress("[\"0.0.0.0/0\"]", false), *svc = service("[\"10.0.0.5\"]");
	struct natclient_gateways gws = {0};
	char err[256];
	ck_assert_int_eq(natclient_gateways_add(&gws, "a", "e", eg, svc, false, err, sizeof(err)),
			 0);
	ck_assert_int_eq(natclient_gateways_add(&gws, "b", "e", eg, svc, false, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(gws.n, 2);
	natclient_gateways_free(&gws);
	json_decref(eg);
	json_decref(svc);
}
END_TEST

Suite *gateway_suite(void)
{
	Suite *s = suite_create("gateways");
	TCase *tc = tcase_create("build");
	tcase_add_loop_test(tc, test_gateways, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_gateways_append);
	suite_add_tcase(s, tc);
	return s;
}
