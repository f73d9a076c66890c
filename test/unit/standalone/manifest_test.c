/* Table tests of the pool manifest parser. */
#include "standalone/standalone.h"
#include "log/log.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_HEAD "apiVersion: coil.cybozu.com/v2\nkind: AddressPool\n"
#define POOL_ITEM "- apiVersion: coil.cybozu.com/v2\n  kind: AddressPool\n"

/* A one-line rendering of a manifest for comparing against the tables:
 * "pool NAME/BITS[v4|v6,...]" and "ns NAME=POOL" ('-' for absent). */
static void render(const struct standalone_manifest *m, char *out, size_t len)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < m->npools; i++) {
		const struct standalone_pool *p = &m->pools[i];
		used += snprintf(out + used, len - used, "%spool %s/%d[", used ? " " : "", p->name,
				 p->blocksize_bits);
		for (size_t j = 0; j < p->nsubnets; j++)
			used += snprintf(out + used, len - used, "%s%s|%s", j ? "," : "",
					 p->subnets[j].ipv4 ? p->subnets[j].ipv4 : "-",
					 p->subnets[j].ipv6 ? p->subnets[j].ipv6 : "-");
		used += snprintf(out + used, len - used, "]");
	}
	for (size_t i = 0; i < m->nnamespaces; i++) {
		const struct standalone_namespace *n = &m->namespaces[i];
		used += snprintf(out + used, len - used, "%sns %s=%s", used ? " " : "", n->name,
				 n->pool ? n->pool : "-");
	}
}

static const struct valid_case {
	const char *what;
	const char *yaml;
	const char *want;
} valid_cases[] = {
    {"ipv4 only",
     POOL_HEAD "metadata: {name: v4}\nspec:\n  blockSizeBits: 2\n  subnets:\n"
	       "  - ipv4: 10.4.0.0/29\n",
     "pool v4/2[10.4.0.0/29|-]"},
    {"ipv6 only",
     POOL_HEAD "metadata: {name: v6}\nspec:\n  blockSizeBits: 4\n  subnets:\n"
	       "  - ipv6: fd00::/120\n",
     "pool v6/4[-|fd00::/120]"},
    {"dual stack, two subnets",
     POOL_HEAD "metadata:\n  name: default\nspec:\n  blockSizeBits: 1\n  subnets:\n"
	       "  - ipv4: 10.2.0.0/29\n    ipv6: fd02::0200/125\n"
	       "  - {ipv4: 10.3.0.0/30, ipv6: \"fd02::0300/126\"}\n",
     "pool default/1[10.2.0.0/29|fd02::0200/125,10.3.0.0/30|fd02::0300/126]"},
    {"blockSizeBits defaults to 5",
     POOL_HEAD "metadata: {name: p}\nspec:\n  subnets: [{ipv4: 10.0.0.0/24}]\n",
     "pool p/5[10.0.0.0/24|-]"},
    {"blockSizeBits null defaults to 5",
     POOL_HEAD "metadata: {name: p}\nspec:\n  blockSizeBits: ~\n  subnets: [{ipv4: 10.0.0.0/24}]\n",
     "pool p/5[10.0.0.0/24|-]"},
    {"explicit 0 is kept",
     POOL_HEAD "metadata: {name: p}\nspec:\n  blockSizeBits: 0\n  subnets: [{ipv4: 10.0.0.1/32}]\n",
     "pool p/0[10.0.0.1/32|-]"},
    {"YAML 1.1 integer forms",
     POOL_HEAD
     "metadata: {name: p}\nspec:\n  blockSizeBits: 0x3\n  subnets: [{ipv4: 10.0.0.0/24}]\n"
     "---\n" POOL_HEAD "metadata: {name: q}\nspec:\n  blockSizeBits: !!int \"+4\"\n"
     "  subnets: [{ipv4: 10.1.0.0/24}]\n",
     "pool p/3[10.0.0.0/24|-] pool q/4[10.1.0.0/24|-]"},
    {"host bits and mixed families are accepted like upstream",
     POOL_HEAD "metadata: {name: p}\nspec:\n  subnets:\n  - ipv4: 10.2.0.5/16\n"
	       "  - ipv6: fd00::/112\n",
     "pool p/5[10.2.0.5/16|-,-|fd00::/112]"},
    {"namespaces",
     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: dmz\n  annotations:\n"
     "    coil.cybozu.com/pool: internet\n    other: x\n"
     "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: plain\n"
     "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: empty\n  annotations:\n"
     "    coil.cybozu.com/pool: \"\"\n",
     "ns dmz=internet ns plain=- ns empty="},
    {"other kinds and versions are ignored",
     "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: 1}\n---\n"
     "apiVersion: coil.cybozu.com/v1\nkind: AddressPool\nmetadata: {name: old}\n---\n"
     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n---\n" POOL_HEAD
     "metadata: {name: p}\nspec: {subnets: [{ipv4: 10.0.0.0/24}]}\n",
     "pool p/5[10.0.0.0/24|-]"},
    {"kind: List",
     "apiVersion: v1\nkind: List\nitems:\n" POOL_ITEM
     "  metadata: {name: a}\n  spec: {blockSizeBits: 1, subnets: [{ipv4: 10.0.0.0/30}]}\n"
     "- apiVersion: v1\n  kind: Namespace\n  metadata: {name: n, annotations: "
     "{coil.cybozu.com/pool: a}}\n",
     "pool a/1[10.0.0.0/30|-] ns n=a"},
    {"empty documents, comments and document markers",
     "# pools\n---\n---\n" POOL_HEAD "metadata: {name: p} # the pool\n"
     "spec: {subnets: [{ipv6: 'fd00::/64'}]}\n...\n---\n",
     "pool p/5[-|fd00::/64]"},
    {"an empty stream", "", ""},
    {"anchors and aliases",
     "apiVersion: v1\nkind: List\nitems:\n" POOL_ITEM
     "  metadata: {name: a}\n  spec: &spec {subnets: [{ipv4: 10.0.0.0/24}]}\n" POOL_ITEM
     "  metadata: {name: b}\n  spec: *spec\n",
     "pool a/5[10.0.0.0/24|-] pool b/5[10.0.0.0/24|-]"},
};

START_TEST(test_valid)
{
	const struct valid_case *c = &valid_cases[_i];
	struct standalone_manifest m;
	char err[512] = "", got[1024];
	int ret = standalone_manifest_parse(c->yaml, strlen(c->yaml), &m, err, sizeof(err));
	ck_assert_msg(ret == 0, "%s: %d %s", c->what, ret, err);
	render(&m, got, sizeof(got));
	ck_assert_msg(strcmp(got, c->want) == 0, "%s: got \"%s\" want \"%s\"", c->what, got,
		      c->want);
	standalone_manifest_free(&m);
	ck_assert_uint_eq(m.npools, 0);
}
END_TEST

static const struct error_case {
	const char *what;
	const char *yaml;
	const char *want; /* a substring of the message */
} error_cases[] = {
    {"bad CIDR", POOL_HEAD "metadata: {name: p}\nspec: {subnets: [{ipv4: 10.0.0/16}]}\n",
     "document 1: spec.subnets[0]: Invalid value: \"\": invalid CIDR address: 10.0.0/16"},
    {"IPv6 text in ipv4",
     POOL_HEAD "metadata: {name: p}\nspec: {subnets: [{ipv4: 'fd00::/112'}]}\n",
     "spec.subnets[0]: Invalid value: \"\": invalid IPv4 subnet: fd00::/112"},
    {"too narrow",
     POOL_HEAD "metadata: {name: p}\nspec:\n  subnets:\n  - ipv4: 10.1.0.0/24\n"
	       "  - ipv4: 10.2.0.0/30\n",
     "spec.subnets[1]: Invalid value: \"\": too narrow subnet: 10.2.0.0/30"},
    {"dual stack size mismatch",
     POOL_HEAD "metadata: {name: p}\nspec: {subnets: [{ipv4: 10.0.0.0/24, ipv6: 'fd00::/120'}, "
	       "{ipv4: 10.1.0.0/24, ipv6: 'fd01::/112'}]}\n",
     "spec.subnets[1]: Invalid value: \"\": dual stack subnet must be the same size"},
    {"empty subnet set", POOL_HEAD "metadata: {name: p}\nspec: {subnets: [{}]}\n",
     "invalid subnet"},
    {"null subnet set", POOL_HEAD "metadata: {name: p}\nspec: {subnets: [~]}\n",
     "spec.subnets[0]: Invalid value: \"\": invalid subnet"},
    {"negative blockSizeBits",
     POOL_HEAD "metadata: {name: p}\nspec: {blockSizeBits: -1, subnets: [{ipv4: 10.0.0.0/24}]}\n",
     "spec.blockSizeBits: Invalid value: -1: must be greater than or equal to 0"},
    {"quoted blockSizeBits",
     POOL_HEAD
     "metadata: {name: p}\nspec: {blockSizeBits: \"5\", subnets: [{ipv4: 10.0.0.0/24}]}\n",
     "spec.blockSizeBits: must be a 32-bit integer"},
    {"huge blockSizeBits",
     POOL_HEAD "metadata: {name: p}\nspec: {blockSizeBits: 99999999999999999999999, "
	       "subnets: [{ipv4: 10.0.0.0/24}]}\n",
     "spec.blockSizeBits: must be a 32-bit integer"},
    {"blockSizeBits wider than the subnet",
     POOL_HEAD "metadata: {name: p}\nspec: {blockSizeBits: 9, subnets: [{ipv4: 10.0.0.0/24}]}\n",
     "too narrow subnet: 10.0.0.0/24"},
    {"missing subnets", POOL_HEAD "metadata: {name: p}\nspec: {blockSizeBits: 3}\n",
     "document 1: spec.subnets: Required value"},
    {"null subnets", POOL_HEAD "metadata: {name: p}\nspec: {subnets: null}\n",
     "spec.subnets: Required value"},
    {"empty subnets", POOL_HEAD "metadata: {name: p}\nspec: {subnets: []}\n",
     "spec.subnets: must have at least 1 item"},
    {"subnets not a list", POOL_HEAD "metadata: {name: p}\nspec: {subnets: {ipv4: 10.0.0.0/8}}\n",
     "spec.subnets: must be an array"},
    {"missing spec", POOL_HEAD "metadata: {name: p}\n", "spec.subnets: Required value"},
    {"spec not a mapping", POOL_HEAD "metadata: {name: p}\nspec: [1]\n", "spec: must be an object"},
    {"subnet not a mapping", POOL_HEAD "metadata: {name: p}\nspec: {subnets: [10.0.0.0/8]}\n",
     "spec.subnets[0]: must be an object"},
    {"ipv4 not a string",
     POOL_HEAD "metadata: {name: p}\nspec: {subnets: [{ipv4: [10.0.0.0/8]}]}\n",
     "spec.subnets[0].ipv4: must be a string"},
    {"duplicate pool",
     POOL_HEAD "metadata: {name: p}\nspec: {subnets: [{ipv4: 10.0.0.0/24}]}\n---\n" POOL_HEAD
	       "metadata: {name: p}\nspec: {subnets: [{ipv4: 10.1.0.0/24}]}\n",
     "document 2: metadata.name: Duplicate value: AddressPool \"p\""},
    {"duplicate namespace",
     "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n"
     "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
     "document 2: metadata.name: Duplicate value: Namespace \"a\""},
    {"missing name", POOL_HEAD "metadata: {}\nspec: {subnets: [{ipv4: 10.0.0.0/24}]}\n",
     "metadata.name: Required value"},
    {"missing metadata", POOL_HEAD "spec: {subnets: [{ipv4: 10.0.0.0/24}]}\n",
     "metadata: Required value"},
    {"invalid pool name",
     POOL_HEAD "metadata: {name: Pool_1}\nspec: {subnets: [{ipv4: 10.0.0.0/24}]}\n",
     "metadata.name: Invalid value: \"Pool_1\""},
    {"namespace name with a dot", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a.b}\n",
     "metadata.name: Invalid value: \"a.b\": must be a lowercase RFC 1123 label"},
    {"duplicate key",
     POOL_HEAD "metadata: {name: p, name: q}\nspec: {subnets: [{ipv4: 10.0.0.0/24}]}\n",
     "metadata.name: duplicate key"},
    {"annotation not a string",
     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  annotations:\n"
     "    coil.cybozu.com/pool: [x]\n",
     "metadata.annotations[coil.cybozu.com/pool]: must be a string"},
    {"document not a mapping", "- a\n- b\n", "document 1: must be a mapping"},
    {"missing kind", "apiVersion: v1\nmetadata: {name: a}\n", "document 1: kind: Required value"},
    {"missing apiVersion", "kind: Namespace\nmetadata: {name: a}\n",
     "document 1: apiVersion: Required value"},
    {"error in the third document",
     "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\n" POOL_HEAD
     "metadata: {name: p}\nspec: {subnets: [{ipv4: 10.0.0.0/33}]}\n",
     "document 3: spec.subnets[0]"},
    {"YAML syntax error", "apiVersion: v1\nkind: [Namespace\n", "document 1: invalid YAML at line"},
    {"syntax error in a later document",
     "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nkind: 'x\n",
     "document 2: invalid YAML"},
    {"error in a List item",
     "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n"
     "  metadata: {name: a}\n" POOL_ITEM "  metadata: {name: p}\n  spec: {blockSizeBits: -2, "
     "subnets: [{ipv4: 10.0.0.0/24}]}\n",
     "document 1, items[1]: spec.blockSizeBits: Invalid value: -2"},
    {"List items not a list", "apiVersion: v1\nkind: List\nitems: {a: b}\n",
     "document 1: items: must be a list"},
    {"null List item", "apiVersion: v1\nkind: List\nitems: [~]\n",
     "document 1, items[0]: must be a mapping"},
    {"nested List",
     "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: List, items: []}\n",
     "items[0]: kind: a List inside a list is not supported"},
};

START_TEST(test_error)
{
	const struct error_case *c = &error_cases[_i];
	struct standalone_manifest m;
	char err[512] = "";
	int ret = standalone_manifest_parse(c->yaml, strlen(c->yaml), &m, err, sizeof(err));
	ck_assert_msg(ret == -EINVAL, "%s: got %d", c->what, ret);
	ck_assert_msg(strstr(err, c->want), "%s: got \"%s\" want \"%s\"", c->what, err, c->want);
	ck_assert_uint_eq(m.npools, 0);
	ck_assert_uint_eq(m.nnamespaces, 0);
}
END_TEST

START_TEST(test_pool_name_length)
{
	char yaml[1024], err[512];
	char name[244];
	memset(name, 'a', sizeof(name));
	name[242] = '\0'; /* 242 characters: "<name>-2147483647" still fits 253 */
	snprintf(yaml, sizeof(yaml),
		 POOL_HEAD "metadata: {name: %s}\nspec: {subnets: [{ipv4: 10.0.0.0/24}]}\n", name);
	struct standalone_manifest m;
	ck_assert_int_eq(standalone_manifest_parse(yaml, strlen(yaml), &m, err, sizeof(err)), 0);
	standalone_manifest_free(&m);
	name[242] = 'a';
	name[243] = '\0';
	snprintf(yaml, sizeof(yaml),
		 POOL_HEAD "metadata: {name: %s}\nspec: {subnets: [{ipv4: 10.0.0.0/24}]}\n", name);
	ck_assert_int_eq(standalone_manifest_parse(yaml, strlen(yaml), &m, err, sizeof(err)),
			 -EINVAL);
}
END_TEST

START_TEST(test_pool_lookup_and_load)
{
	struct standalone_manifest m;
	char err[512];
	const char *yaml =
	    POOL_HEAD "metadata: {name: p}\nspec: {subnets: [{ipv4: 10.0.0.0/24}]}\n";
	ck_assert_int_eq(standalone_manifest_parse(yaml, strlen(yaml), &m, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(standalone_manifest_pool(&m, "p"));
	ck_assert_ptr_null(standalone_manifest_pool(&m, "q"));
	standalone_manifest_free(&m);
	standalone_manifest_free(&m); /* twice is harmless */

	ck_assert_int_eq(standalone_manifest_load("/nonexistent/pools.yaml", &m, err, sizeof(err)),
			 -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/pools.yaml"));
}
END_TEST

/* A NUL byte inside the stream must not be taken as its end silently. */
START_TEST(test_embedded_nul)
{
	static const char yaml[] = "apiVersion: v1\nkind: Namespace\nmetadata: {name: \"a\\0b\"}\n";
	struct standalone_manifest m;
	char err[512];
	ck_assert_int_eq(standalone_manifest_parse(yaml, sizeof(yaml) - 1, &m, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "metadata.name: must be a string"));
}
END_TEST

START_TEST(test_sample_manifest)
{
	struct standalone_manifest m;
	char err[512] = "", got[1024];
	ck_assert_msg(standalone_manifest_load(SAMPLE_MANIFEST, &m, err, sizeof(err)) == 0, "%s",
		      err);
	render(&m, got, sizeof(got));
	ck_assert_str_eq(got, "pool default/5[10.100.0.0/16|fd00:100::/112] "
			      "pool internet/0[203.0.113.0/24|-] ns dmz=internet");
	standalone_manifest_free(&m);
}
END_TEST

static Suite *manifest_suite(void)
{
	Suite *s = suite_create("standalone manifest");
	TCase *tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_valid, 0, sizeof(valid_cases) / sizeof(valid_cases[0]));
	tcase_add_loop_test(tc, test_error, 0, sizeof(error_cases) / sizeof(error_cases[0]));
	tcase_add_test(tc, test_pool_name_length);
	tcase_add_test(tc, test_pool_lookup_and_load);
	tcase_add_test(tc, test_embedded_nul);
	tcase_add_test(tc, test_sample_manifest);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	log_set_level(LOG_WARN);
	SRunner *sr = srunner_create(manifest_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
