/* lib/migrate's pure parts, table-driven: v1's key and value parsers, the block index and
 * name computation across subnets, the conversion (skipped pools, the "cannot exist" error,
 * the object layout), v1/v2 ConfigMap ownership, the prompt; lib/etcd's prefix range end;
 * lib/yamljson's writer quoting what YAML 1.1 would misread. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "etcd/etcd.h"
#include "kube/kube.h"
#include "migrate/migrate.h"
#include "yamljson/yamljson.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *key, *pool; /* pool NULL: rejected */
} block_keys[] = {
    {"block/default/10.0.0.0", "default"},
    {"block/a.b_c-d/10.1.0.0", "a.b_c-d"},
    {"block//10.0.0.0", NULL},
    {"block/default", NULL},
    {"block/default/", NULL},
    {"block/default/10.0.0.0/x", NULL},
    {"block/Default/10.0.0.0", NULL},
    {"block/9pool/10.0.0.0", NULL},
    {"pool/default", NULL},
    {"", NULL},
};

START_TEST(parses_block_keys)
{
	char pool[64], err[256];
	int ret =
	    migrate_v1_parse_block_key(block_keys[_i].key, pool, sizeof(pool), err, sizeof(err));
	if (block_keys[_i].pool) {
		ck_assert_msg(ret == 0, "%s: %s", block_keys[_i].key, err);
		ck_assert_str_eq(pool, block_keys[_i].pool);
	} else {
		ck_assert_msg(ret == -EINVAL, "%s accepted", block_keys[_i].key);
	}
}
END_TEST

static const struct {
	const char *key, *name;
} pool_keys[] = {
    {"pool/default", "default"},
    {"pool/ns-1.x_y", "ns-1.x_y"},
    {"pool/", NULL},
    {"pool/UPPER", NULL},
    {"pool/a/b", NULL},
    {"block/default", NULL},
};

START_TEST(parses_pool_keys)
{
	const char *name = NULL;
	char err[256];
	int ret = migrate_v1_parse_pool_key(pool_keys[_i].key, &name, err, sizeof(err));
	if (pool_keys[_i].name) {
		ck_assert_int_eq(ret, 0);
		ck_assert_str_eq(name, pool_keys[_i].name);
	} else {
		ck_assert_msg(ret == -EINVAL, "%s accepted", pool_keys[_i].key);
	}
}
END_TEST

static const struct {
	const char *value, *error; /* error NULL: accepted */
	int bits;
	size_t n_subnets;
} pool_values[] = {
    {"{\"subnets\":[\"10.0.0.0/24\",\"10.0.1.0/24\"],\"block_size\":5}", NULL, 5, 2},
    {"{\"subnets\":[\"10.0.0.0/32\"],\"block_size\":0}", NULL, 0, 1},
    {"{\"subnets\":[\"10.0.0.0/24\"],\"block_size\":5,\"extra\":1}", NULL, 5, 1},
    {"{\"subnets\":[],\"block_size\":5}", "pool p: subnets must be a non-empty array", 0, 0},
    {"{\"block_size\":5}", "pool p: subnets must be a non-empty array", 0, 0},
    {"{\"subnets\":[\"10.0.0.0/24\"]}", "pool p: block_size must be an integer 0..32", 0, 0},
    {"{\"subnets\":[\"10.0.0.0/24\"],\"block_size\":33}",
     "pool p: block_size must be an integer 0..32", 0, 0},
    {"{\"subnets\":[\"10.0.0.0/24\"],\"block_size\":\"5\"}",
     "pool p: block_size must be an integer 0..32", 0, 0},
    {"{\"subnets\":[\"10.0.0.0/28\"],\"block_size\":5}",
     "pool p: subnet 10.0.0.0/28 is smaller than a block", 0, 0},
    {"{\"subnets\":[\"10.0.0.1/24\"],\"block_size\":5}", "pool p: invalid IPv4 subnet 10.0.0.1/24",
     0, 0},
    {"{\"subnets\":[\"fd00::/64\"],\"block_size\":5}", "pool p: invalid IPv4 subnet fd00::/64", 0,
     0},
    {"{\"subnets\":[7],\"block_size\":5}", "pool p: subnets[0] is not a string", 0, 0},
    {"[1]", "pool p: invalid JSON: not an object", 0, 0},
    {"{\"subnets\":[\"10.0.0.0/24\"],\"block_size\":5,\"block_size\":6}", "pool p: invalid JSON", 0,
     0},
    {"", "pool p: invalid JSON", 0, 0},
};

START_TEST(parses_pool_values)
{
	struct migrate_v1_pool pool;
	char err[256] = "";
	const char *v = pool_values[_i].value;
	int ret = migrate_v1_parse_pool("p", v, strlen(v), &pool, err, sizeof(err));
	if (!pool_values[_i].error) {
		ck_assert_msg(ret == 0, "%s: %s", v, err);
		ck_assert_int_eq(pool.block_size, pool_values[_i].bits);
		ck_assert_uint_eq(pool.n_subnets, pool_values[_i].n_subnets);
		migrate_v1_pool_clear(&pool);
	} else {
		ck_assert_int_eq(ret, -EINVAL);
		ck_assert_msg(strncmp(err, pool_values[_i].error, strlen(pool_values[_i].error)) ==
				  0,
			      "%s: got '%s'", v, err);
	}
}
END_TEST

static const struct {
	const char *value, *error;
	size_t n_blocks;
} block_values[] = {
    {"{\"free\":[\"10.0.0.64/27\"],\"nodes\":{\"n1\":[\"10.0.0.0/27\",\"10.0.0.32/27\"]}}", NULL,
     2},
    {"{\"free\":[],\"nodes\":{}}", NULL, 0},
    {"{\"free\":[]}", NULL, 0},
    {"{\"nodes\":null}", NULL, 0},
    {"{\"nodes\":[]}", "blocks of pool p: nodes is not an object", 0},
    {"{\"nodes\":{\"n1\":\"10.0.0.0/27\"}}", "blocks of pool p: nodes.n1 is not an array", 0},
    {"{\"nodes\":{\"n1\":[1]}}", "blocks of pool p: nodes.n1[0] is not a string", 0},
    {"7", "blocks of pool p: invalid JSON", 0},
    {"[]", "blocks of pool p: invalid JSON: not an object", 0},
};

START_TEST(parses_block_values)
{
	struct migrate_v1_data data = {0};
	char err[256] = "";
	const char *v = block_values[_i].value;
	int ret = migrate_v1_parse_blocks("p", v, strlen(v), &data, err, sizeof(err));
	if (!block_values[_i].error) {
		ck_assert_msg(ret == 0, "%s: %s", v, err);
		ck_assert_uint_eq(data.n_blocks, block_values[_i].n_blocks);
	} else {
		ck_assert_int_eq(ret, -EINVAL);
		ck_assert_msg(
		    strncmp(err, block_values[_i].error, strlen(block_values[_i].error)) == 0,
		    "%s: got '%s'", v, err);
	}
	migrate_v1_data_clear(&data);
}
END_TEST

static char *subnets_a[] = {"10.0.0.0/24", "10.0.1.0/24"};
static char *subnets_b[] = {"10.1.0.0/24", "10.1.4.0/23", "192.168.0.0/16"};

static const struct {
	int which, bits;
	const char *cidr;
	long index; /* -1: cannot exist */
} indexes[] = {
    {0, 5, "10.0.1.32/27", 9}, /* the documented example: 256/32 + 32/32 */
    {0, 5, "10.0.0.0/27", 0},
    {0, 5, "10.0.0.224/27", 7},
    {0, 5, "10.0.1.224/27", 15},
    {1, 3, "10.1.0.8/29", 1},
    {1, 3, "10.1.5.248/29", 95},
    {1, 3, "192.168.0.0/29", 96},
    {1, 3, "192.168.255.248/29", 96 + 8191},
    {0, 5, "10.0.2.0/27", -1},	/* past the pool */
    {0, 5, "10.0.0.16/27", -1}, /* not a block boundary */
    {0, 5, "10.0.0.0/26", -1},	/* another block size */
    {0, 5, "fd00::/123", -1},
    {0, 5, "garbage", -1},
};

static struct migrate_v1_pool make_pool(int which, int bits)
{
	struct migrate_v1_pool p = {.name = which ? "space" : "default", .block_size = bits};
	p.subnets = which ? subnets_b : subnets_a;
	p.n_subnets = which ? N(subnets_b) : N(subnets_a);
	return p;
}

START_TEST(computes_block_indexes)
{
	struct migrate_v1_pool pool = make_pool(indexes[_i].which, indexes[_i].bits);
	uint32_t index = 0;
	char err[256] = "", want[256];
	int ret = migrate_block_index(&pool, indexes[_i].cidr, &index, err, sizeof(err));
	if (indexes[_i].index >= 0) {
		ck_assert_msg(ret == 0, "%s: %s", indexes[_i].cidr, err);
		ck_assert_uint_eq(index, (uint32_t)indexes[_i].index);
	} else {
		ck_assert_int_eq(ret, -EINVAL);
		snprintf(want, sizeof(want), "block %s cannot exist in pool %s", indexes[_i].cidr,
			 pool.name);
		ck_assert_str_eq(err, want);
	}
}
END_TEST

static char *dump_json(const json_t *v)
{
	return json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT);
}

START_TEST(converts_pools_and_blocks)
{
	struct migrate_v1_pool pools[] = {make_pool(0, 5)};
	struct migrate_v1_block blocks[] = {
	    {"default", "node1", "10.0.1.32/27"},   {"gone", "node1", "10.9.0.0/27"},
	    {"gone", "node1", "10.9.0.32/27"},	    {"default", "node2", "10.0.0.0/27"},
	    {"default", "retired", "10.0.0.32/27"},
	};
	struct migrate_v1_data v1 = {pools, 1, blocks, N(blocks)};
	const char *nodes[] = {"node2", "node1"};
	char *text = NULL;
	size_t len = 0;
	FILE *log = open_memstream(&text, &len);
	json_t *docs = NULL;
	char err[256];
	ck_assert_int_eq(migrate_convert(&v1, nodes, 2, log, &docs, err, sizeof(err)), 0);
	fclose(log);
	ck_assert_str_eq(text,
			 "skipping a reserved block from non-existent pool gone for node node1\n");
	free(text);
	ck_assert_uint_eq(json_array_size(docs), 3);
	char *s = dump_json(json_array_get(docs, 0));
	ck_assert_str_eq(s, "{\"apiVersion\":\"coil.cybozu.com/v2\",\"kind\":\"AddressPool\","
			    "\"metadata\":{\"creationTimestamp\":null,\"name\":\"default\"},"
			    "\"spec\":{\"blockSizeBits\":5,\"subnets\":[{\"ipv4\":\"10.0.0.0/24\"},"
			    "{\"ipv4\":\"10.0.1.0/24\"}]}}");
	free(s);
	s = dump_json(json_array_get(docs, 1)); /* node order: node2 first */
	ck_assert_str_eq(s, "{\"apiVersion\":\"coil.cybozu.com/v2\",\"index\":0,\"ipv4\":"
			    "\"10.0.0.0/27\",\"kind\":\"AddressBlock\",\"metadata\":{"
			    "\"creationTimestamp\":null,\"labels\":{\"coil.cybozu.com/node\":"
			    "\"node2\",\"coil.cybozu.com/pool\":\"default\","
			    "\"coil.cybozu.com/reserved\":\"true\"},\"name\":\"default-0-v1\"}}");
	free(s);
	ck_assert_str_eq(kube_obj_name(json_array_get(docs, 2)), "default-9-v1");
	json_decref(docs);

	/* One block outside its pool fails the whole conversion. */
	blocks[3].cidr = "10.5.0.0/27";
	docs = NULL;
	log = fopen("/dev/null", "w");
	ck_assert_int_eq(migrate_convert(&v1, nodes, 2, log, &docs, err, sizeof(err)), -EINVAL);
	fclose(log);
	ck_assert_str_eq(err, "block 10.5.0.0/27 cannot exist in pool default");
	ck_assert_ptr_null(docs);
}
END_TEST

static const struct {
	const char *json;
	bool v2;
} configmaps[] = {
    {"{\"metadata\":{\"labels\":{\"app.kubernetes.io/name\":\"coil\"}}}", true},
    {"{\"data\":{\"cni_netconf\":\"{\\\"plugins\\\":[{\\\"type\\\":\\\"coil\\\","
     "\\\"socket\\\":\\\"/run/coild.sock\\\"}]}\"}}",
     true},
    {"{\"data\":{\"cni_netconf\":\"{\\\"type\\\":\\\"coil\\\",\\\"coild\\\":"
     "\\\"http://127.0.0.1:9383\\\"}\",\"etcd_endpoints\":\"http://x:2379\"}}",
     false},
    {"{\"data\":{\"cni_netconf\":\"not json\"}}", false},
    {"{\"metadata\":{\"labels\":{\"app.kubernetes.io/name\":\"other\"}}}", false},
    {"{}", false},
};

START_TEST(tells_v1_and_v2_configmaps_apart)
{
	json_t *cm = json_loads(configmaps[_i].json, 0, NULL);
	ck_assert_ptr_nonnull(cm);
	ck_assert_msg(migrate_configmap_is_v2(cm) == configmaps[_i].v2, "%s", configmaps[_i].json);
	json_decref(cm);
}
END_TEST

static const struct {
	const char *input;
	bool yes;
} answers[] = {
    {"y\n", true},    {"Y\n", true},   {"yes\n", true}, {"YES\r\n", true},
    {"yes", true},    {"n\n", false},  {"\n", false},	{"", false},
    {"Yes\n", false}, {" y\n", false}, {"no\n", false}, {"yess\n", false},
};

START_TEST(confirms_only_yes)
{
	FILE *in = fmemopen((void *)answers[_i].input, strlen(answers[_i].input) + 1, "r");
	if (!*answers[_i].input) {
		fclose(in);
		in = fopen("/dev/null", "r");
	}
	char *prompt = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&prompt, &len);
	ck_assert_msg(migrate_confirm(in, out) == answers[_i].yes, "%s", answers[_i].input);
	fclose(out);
	fclose(in);
	ck_assert_str_eq(prompt, "DO YOU WANT TO PROCEED? [y/N] ");
	free(prompt);
}
END_TEST

START_TEST(computes_prefix_range_ends)
{
	char *end;
	size_t len;
	ck_assert_int_eq(etcd_prefix_end("/coil/pool/", 11, &end, &len), 0);
	ck_assert_uint_eq(len, 11);
	ck_assert_str_eq(end, "/coil/pool0");
	free(end);
	ck_assert_int_eq(etcd_prefix_end("a\xff\xff", 3, &end, &len), 0);
	ck_assert_uint_eq(len, 1);
	ck_assert_str_eq(end, "b");
	free(end);
	ck_assert_int_eq(etcd_prefix_end("\xff", 1, &end, &len), 0);
	ck_assert_uint_eq(len, 1);
	ck_assert_int_eq(end[0], 0);
	free(end);
}
END_TEST

START_TEST(writes_yaml_that_reads_back)
{
	const char *json =
	    "[{\"b\":[\"true\",\"no\",\"10\",\"\",\"null\",\"0x1F\",\"1.5\","
	    "\"plain\",\"a: b\",\"- x\",\"#c\"],\"a\":{\"n\":1,\"t\":true,\"z\":null}},"
	    "{\"k\":\"v\"}]";
	json_t *docs = json_loads(json, 0, NULL);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	char err[256];
	ck_assert_int_eq(yamljson_emit_stream(out, docs, err, sizeof(err)), 0);
	fclose(out);
	const char *head = "---\na:\n  \"n\": 1\n  t: true\n  z: null\nb:\n- \"true\"\n- \"no\"\n";
	ck_assert_msg(strncmp(text, head, strlen(head)) == 0, "%s", text);
	ck_assert_msg(!strstr(text, "!"), "%s", text);
	json_t *first = NULL;
	ck_assert_int_eq(yamljson_parse(text, len, YAMLJSON_TYPED, &first, err, sizeof(err)), 0);
	ck_assert(json_equal(first, json_array_get(docs, 0)));
	ck_assert_ptr_nonnull(strstr(text, "\n---\nk: v\n"));
	json_decref(first);
	json_decref(docs);
	free(text);
	ck_assert_int_eq(yamljson_emit_stream(stdout, json_object_get(NULL, "x"), err, sizeof(err)),
			 -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("migrate");
	TCase *tc = tcase_create("v1");
	tcase_add_loop_test(tc, parses_block_keys, 0, N(block_keys));
	tcase_add_loop_test(tc, parses_pool_keys, 0, N(pool_keys));
	tcase_add_loop_test(tc, parses_pool_values, 0, N(pool_values));
	tcase_add_loop_test(tc, parses_block_values, 0, N(block_values));
	suite_add_tcase(s, tc);
	tc = tcase_create("convert");
	tcase_add_loop_test(tc, computes_block_indexes, 0, N(indexes));
	tcase_add_test(tc, converts_pools_and_blocks);
	tcase_add_loop_test(tc, tells_v1_and_v2_configmaps_apart, 0, N(configmaps));
	tcase_add_loop_test(tc, confirms_only_yes, 0, N(answers));
	suite_add_tcase(s, tc);
	tc = tcase_create("io");
	tcase_add_test(tc, computes_prefix_range_ends);
	tcase_add_test(tc, writes_yaml_that_reads_back);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
