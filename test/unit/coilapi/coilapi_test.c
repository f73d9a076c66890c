/* Table tests of lib/coilapi: every decoder on valid, defaulted and invalid objects (each
 * error with its field path), round trips through the encoders, and the vocabulary. */
#include "coilapi/coilapi.h"
#include "kube/kube.h"
#include "render.h"

#include "suites.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Test JSON is written with single quotes; they become double quotes. */
static json_t *load(const char *text)
{
	char *copy = strdup(text);
	for (char *p = copy; *p; p++) {
		if (*p == '\'')
			*p = '"';
	}
	json_error_t e;
	json_t *obj = json_loads(copy, JSON_ALLOW_NUL, &e);
	ck_assert_msg(obj != NULL, "bad test JSON: %s: %s", e.text, copy);
	free(copy);
	return obj;
}

struct decode_case {
	const char *kind;
	const char *json;
	const char *want; /* the rendering, or "!" and the exact error message */
};

#define POOL(spec)  "{'metadata':{'name':'p'},'spec':" spec "}"
#define SUB4	    "[{'ipv4':'10.0.0.0/24'}]"
#define BLOCK(rest) "{'metadata':{'name':'b-1'},'index':1" rest "}"
#define REQ(rest)                                                                                  \
	"{'metadata':{'name':'r','uid':'u1'},'spec':{'nodeName':'n1','poolName':'p'}" rest "}"
#define EG(spec)                                                                                   \
	"{'metadata':{'namespace':'ns','name':'e'},'spec':{'destinations':['0.0.0.0/0']" spec "}}"
#define EG_PLAIN      "ns/e spec=1 [0.0.0.0/0] replicas=1 affinity=ClientIP fou=0 strategy=- template=- "
#define COND(t, s, r) "{'type':'" t "','status':'" s "','reason':'" r "'}"

static const struct decode_case cases[] = {
    /* ---- AddressPool ---- */
    {"AddressPool",
     POOL("{'blockSizeBits':1,'subnets':[{'ipv4':'10.2.0.0/29','ipv6':'fd02::0200/125'},"
	  "{'ipv4':'10.3.0.0/30'}]}"),
     "p spec=1 bits=1 [10.2.0.0/29|fd02::0200/125,10.3.0.0/30|-]"},
    {"AddressPool", "{'spec':{'subnets':[{'ipv6':'fd02::/120'}]}}",
     " spec=1 bits=5 [-|fd02::/120]"},
    {"AddressPool", POOL("{'blockSizeBits':null,'subnets':" SUB4 "}"),
     "p spec=1 bits=5 [10.0.0.0/24|-]"},
    {"AddressPool", POOL("{'blockSizeBits':0,'subnets':" SUB4 "}"),
     "p spec=1 bits=0 [10.0.0.0/24|-]"},
    {"AddressPool", POOL("{'blockSizeBits':200,'subnets':" SUB4 "}"),
     "p spec=1 bits=200 [10.0.0.0/24|-]"},
    {"AddressPool", POOL("{'blockSizeBits':2147483647,'subnets':" SUB4 "}"),
     "p spec=1 bits=2147483647 [10.0.0.0/24|-]"},
    {"AddressPool", "{'metadata':{'name':'p'}}", "p spec=0 bits=0 []"},
    {"AddressPool", "{'metadata':{'name':'p'},'spec':null}", "p spec=0 bits=0 []"},
    {"AddressPool", POOL("{'subnets':[{'ipv4':null,'ipv6':'fd02::/120'}]}"),
     "p spec=1 bits=5 [-|fd02::/120]"},
    {"AddressPool", POOL("{'subnets':[{},null]}"), "p spec=1 bits=5 [-|-,-|-]"},
    {"AddressPool", POOL("{'subnets':" SUB4 ",'unknown':1}"), "p spec=1 bits=5 [10.0.0.0/24|-]"},
    {"AddressPool", "[]", "!the object is not a JSON object"},
    {"AddressPool", "{'metadata':'p'}", "!metadata: must be an object"},
    {"AddressPool", "{'metadata':{'name':5}}", "!metadata.name: must be a string"},
    {"AddressPool", "{'metadata':{'name':'a\\u0000b'}}", "!metadata.name: must be a string"},
    {"AddressPool", POOL("[]"), "!spec: must be an object"},
    {"AddressPool", POOL("{'blockSizeBits':-1,'subnets':" SUB4 "}"),
     "!spec.blockSizeBits: Invalid value: -1: must be greater than or equal to 0"},
    {"AddressPool", POOL("{'blockSizeBits':'5','subnets':" SUB4 "}"),
     "!spec.blockSizeBits: must be a 32-bit integer"},
    {"AddressPool", POOL("{'blockSizeBits':1.5,'subnets':" SUB4 "}"),
     "!spec.blockSizeBits: must be a 32-bit integer"},
    {"AddressPool", POOL("{'blockSizeBits':2147483648,'subnets':" SUB4 "}"),
     "!spec.blockSizeBits: must be a 32-bit integer"},
    {"AddressPool", POOL("{'blockSizeBits':5}"), "!spec.subnets: Required value"},
    {"AddressPool", POOL("{'subnets':null}"), "!spec.subnets: Required value"},
    {"AddressPool", POOL("{'subnets':[]}"), "!spec.subnets: must have at least 1 item"},
    {"AddressPool", POOL("{'subnets':{}}"), "!spec.subnets: must be an array"},
    {"AddressPool", POOL("{'subnets':[1]}"), "!spec.subnets[0]: must be an object"},
    {"AddressPool", POOL("{'subnets':[{'ipv4':5}]}"), "!spec.subnets[0].ipv4: must be a string"},
    {"AddressPool", POOL("{'subnets':[{},{'ipv6':['x']}]}"),
     "!spec.subnets[1].ipv6: must be a string"},

    /* ---- AddressBlock ---- */
    {"AddressBlock",
     "{'metadata':{'name':'default-4','labels':{'coil.cybozu.com/pool':'default',"
     "'coil.cybozu.com/node':'node2','coil.cybozu.com/request':'uid-1'}},'index':4,"
     "'ipv4':'10.3.0.0/31','ipv6':'fd02::300/127'}",
     "default-4 #4 10.3.0.0/31|fd02::300/127 pool=default node=node2 request=uid-1 reserved=0"},
    {"AddressBlock", "{'metadata':{'labels':{'coil.cybozu.com/reserved':'true'}},'index':0}",
     " #0 -|- pool=- node=- request=- reserved=1"},
    {"AddressBlock", "{'metadata':{'labels':{'coil.cybozu.com/reserved':'yes'}},'index':0}",
     " #0 -|- pool=- node=- request=- reserved=0"},
    {"AddressBlock", BLOCK(",'index':2147483647,'ipv6':null"),
     "b-1 #2147483647 -|- pool=- node=- request=- reserved=0"},
    {"AddressBlock", "{'metadata':{'name':'b'}}", "!index: Required value"},
    {"AddressBlock", "{'index':null}", "!index: Required value"},
    {"AddressBlock", "{'index':-1}",
     "!index: Invalid value: -1: must be greater than or equal to 0"},
    {"AddressBlock", "{'index':'1'}", "!index: must be a 32-bit integer"},
    {"AddressBlock", "{'index':2147483648}", "!index: must be a 32-bit integer"},
    {"AddressBlock", BLOCK(",'ipv4':7"), "!ipv4: must be a string"},
    {"AddressBlock", BLOCK(",'ipv6':{}"), "!ipv6: must be a string"},
    {"AddressBlock", "{'metadata':{'labels':'x'},'index':1}",
     "!metadata.labels: must be an object"},
    {"AddressBlock", "{'metadata':{'labels':{'coil.cybozu.com/node':5}},'index':1}",
     "!metadata.labels[coil.cybozu.com/node]: must be a string"},

    /* ---- BlockRequest ---- */
    {"BlockRequest", REQ(""), "r uid=u1 spec=1 n1/p block=- [] in progress"},
    {"BlockRequest",
     REQ(",'status':{'addressBlockName':'p-0','conditions':[{'type':'Complete','status':'True',"
	 "'reason':'allocated','message':'allocated a block p-0','lastProbeTime':"
	 "'2026-07-16T01:02:03Z','lastTransitionTime':'2026-07-16T01:02:03Z'}]}"),
     "r uid=u1 spec=1 n1/p block=p-0 [Complete=True allocated/allocated a block p-0 "
     "2026-07-16T01:02:03Z/2026-07-16T01:02:03Z] complete"},
    {"BlockRequest",
     REQ(",'status':{'conditions':[" COND("Complete", "True",
					  "done") "," COND("Failed", "True", "out of blocks") "]}"),
     "r uid=u1 spec=1 n1/p block=- [Complete=True done/- -/-,Failed=True out of blocks/- -/-] "
     "failed (out of blocks)"},
    {"BlockRequest",
     REQ(",'status':{'addressBlockName':'b','conditions':[" COND("Failed", "False", "x") "," COND(
	 "Complete", "True", "y") "]}"),
     "r uid=u1 spec=1 n1/p block=b [Failed=False x/- -/-,Complete=True y/- -/-] complete"},
    {"BlockRequest", REQ(",'status':{'conditions':[" COND("Complete", "Unknown", "z") "]}"),
     "r uid=u1 spec=1 n1/p block=- [Complete=Unknown z/- -/-] in progress"},
    {"BlockRequest", REQ(",'status':{'conditions':[]}"),
     "r uid=u1 spec=1 n1/p block=- [] in progress"},
    {"BlockRequest", "{'metadata':{'name':'x'}}", "x uid= spec=0 -/- block=- [] in progress"},
    {"BlockRequest", "{'spec':{'poolName':'p'}}", "!spec.nodeName: Required value"},
    {"BlockRequest", "{'spec':{'nodeName':'','poolName':'p'}}", "!spec.nodeName: Required value"},
    {"BlockRequest", "{'spec':{'nodeName':'n','poolName':5}}", "!spec.poolName: must be a string"},
    {"BlockRequest", "{'metadata':{'uid':7}}", "!metadata.uid: must be a string"},
    {"BlockRequest", REQ(",'status':[]"), "!status: must be an object"},
    {"BlockRequest", REQ(",'status':{'addressBlockName':1}"),
     "!status.addressBlockName: must be a string"},
    {"BlockRequest", REQ(",'status':{'conditions':{}}"), "!status.conditions: must be an array"},
    {"BlockRequest", REQ(",'status':{'conditions':[1]}"),
     "!status.conditions[0]: must be an object"},
    {"BlockRequest", REQ(",'status':{'conditions':[{'type':'Complete'}]}"),
     "!status.conditions[0].status: Required value"},
    {"BlockRequest",
     REQ(",'status':{'conditions':[" COND("Complete", "True", "a") ",{'type':'Failed',"
								   "'status':'True','reason':5}]}"),
     "!status.conditions[1].reason: must be a string"},

    /* ---- Egress ---- */
    {"Egress",
     "{'metadata':{'namespace':'internet','name':'egress'},"
     "'spec':{'destinations':['0.0.0.0/0','::/0']}}",
     "internet/egress spec=1 [0.0.0.0/0,::/0] replicas=1 affinity=ClientIP fou=0 strategy=- "
     "template=- affinityConfig=- pdb=- status=0/-"},
    {"Egress",
     EG(",'replicas':2,'sessionAffinity':'None','fouSourcePortAuto':true,"
	"'strategy':{'type':'RollingUpdate','rollingUpdate':{'maxSurge':'25%','maxUnavailable':1}},"
	"'template':{'metadata':{'labels':{'a':'b'},'annotations':{'c':'d'}},'spec':{"
	"'nodeSelector':{'k':'v'},'containers':[{'name':'egress','image':'x'}],'tolerations':[{}]}}"
	","
	"'sessionAffinityConfig':{'clientIP':{'timeoutSeconds':43200}},"
	"'podDisruptionBudget':{'maxUnavailable':1}},'status':{'replicas':2,'selector':'a=b'"),
     "ns/e spec=1 [0.0.0.0/0] replicas=2 affinity=None fou=1 strategy={\"rollingUpdate\":{"
     "\"maxSurge\":\"25%\",\"maxUnavailable\":1},\"type\":\"RollingUpdate\"} template={"
     "\"metadata\":{\"annotations\":{\"c\":\"d\"},\"labels\":{\"a\":\"b\"}},\"spec\":{"
     "\"containers\":[{\"image\":\"x\",\"name\":\"egress\"}],\"nodeSelector\":{\"k\":\"v\"},"
     "\"tolerations\":[{}]}} affinityConfig={\"clientIP\":{\"timeoutSeconds\":43200}} "
     "pdb={\"maxUnavailable\":1} status=2/a=b"},
    {"Egress", EG(",'replicas':null,'sessionAffinity':null,'fouSourcePortAuto':false"),
     EG_PLAIN "affinityConfig=- pdb=- status=0/-"},
    {"Egress", "{'metadata':{'name':'e'}}",
     "/e spec=0 [] replicas=1 affinity=ClientIP fou=0 strategy=- template=- affinityConfig=- "
     "pdb=- status=0/-"},
    {"Egress", "{'spec':{}}", "!spec.destinations: Required value"},
    {"Egress", "{'spec':{'destinations':[]}}", "!spec.destinations: must have at least 1 item"},
    {"Egress", "{'spec':{'destinations':[1]}}", "!spec.destinations[0]: must be a string"},
    {"Egress", "{'metadata':{'namespace':5}}", "!metadata.namespace: must be a string"},
    {"Egress", EG(",'replicas':0"),
     "!spec.replicas: Invalid value: 0: must be greater than or equal to 1"},
    {"Egress", EG(",'replicas':'2'"), "!spec.replicas: must be a 32-bit integer"},
    {"Egress", EG(",'sessionAffinity':'Sticky'"),
     "!spec.sessionAffinity: Unsupported value: \"Sticky\": supported values: \"ClientIP\", "
     "\"None\""},
    {"Egress", EG(",'strategy':[]"), "!spec.strategy: must be an object"},
    {"Egress", EG(",'strategy':{'type':5}"), "!spec.strategy.type: must be a string"},
    {"Egress", EG(",'strategy':{'rollingUpdate':{'maxSurge':true}}"),
     "!spec.strategy.rollingUpdate.maxSurge: must be a 32-bit integer or a string"},
    {"Egress", EG(",'template':{'metadata':{'labels':{'a':1}}}"),
     "!spec.template.metadata.labels[a]: must be a string"},
    {"Egress", EG(",'template':{'metadata':{'annotations':[]}}"),
     "!spec.template.metadata.annotations: must be an object"},
    {"Egress", EG(",'template':{'spec':{}}"), "!spec.template.spec.containers: Required value"},
    {"Egress", EG(",'template':{'spec':{'containers':[{}]}}"),
     "!spec.template.spec.containers[0].name: Required value"},
    {"Egress", EG(",'template':{'spec':{'containers':[{'name':'egress','image':5}]}}"),
     "!spec.template.spec.containers[0].image: must be a string"},
    {"Egress", EG(",'template':{'spec':{'containers':[{'name':'a'}],'nodeSelector':{'k':1}}}"),
     "!spec.template.spec.nodeSelector[k]: must be a string"},
    {"Egress", EG(",'sessionAffinityConfig':{'clientIP':{'timeoutSeconds':'x'}}"),
     "!spec.sessionAffinityConfig.clientIP.timeoutSeconds: must be a 32-bit integer"},
    {"Egress", EG(",'fouSourcePortAuto':'true'"), "!spec.fouSourcePortAuto: must be a boolean"},
    {"Egress", EG(",'podDisruptionBudget':{'minAvailable':1.5}"),
     "!spec.podDisruptionBudget.minAvailable: must be a 32-bit integer or a string"},
    {"Egress", EG(",'podDisruptionBudget':{'maxUnavailable':null,'minAvailable':'50%'}"),
     EG_PLAIN "affinityConfig=- pdb={\"maxUnavailable\":null,\"minAvailable\":\"50%\"} "
	      "status=0/-"},
    {"Egress", "{'status':{'replicas':'x'}}", "!status.replicas: must be a 32-bit integer"},
    {"Egress", "{'status':{'selector':1}}", "!status.selector: must be a string"},
};

START_TEST(test_decode)
{
	const struct decode_case *c = &cases[_i];
	const struct codec *codec = codec_find(c->kind);
	json_t *obj = load(c->json);
	char got[2048] = "", err[256] = "";
	int ret = codec->run(obj, got, sizeof(got), NULL, err, sizeof(err));
	if (c->want[0] == '!') {
		ck_assert_msg(ret == -EINVAL, "%s %s: decoded as \"%s\"", c->kind, c->json, got);
		ck_assert_msg(strcmp(err, c->want + 1) == 0, "%s %s: got \"%s\" want \"%s\"",
			      c->kind, c->json, err, c->want + 1);
	} else {
		ck_assert_msg(ret == 0, "%s %s: %s", c->kind, c->json, err);
		ck_assert_msg(strcmp(got, c->want) == 0, "%s %s: got \"%s\" want \"%s\"", c->kind,
			      c->json, got, c->want);
	}
	json_decref(obj);
}
END_TEST

/* encode(decode(x)) decodes to the same struct, and encoding that again gives the same JSON. */
START_TEST(test_round_trip)
{
	const struct decode_case *c = &cases[_i];
	if (c->want[0] == '!')
		return;
	const struct codec *codec = codec_find(c->kind);
	json_t *obj = load(c->json), *first = NULL, *second = NULL;
	char once[2048] = "", twice[2048] = "", err[256] = "";
	ck_assert_int_eq(codec->run(obj, once, sizeof(once), &first, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(first);
	ck_assert_str_eq(json_string_value(json_object_get(first, "apiVersion")),
			 "coil.cybozu.com/v2");
	ck_assert_str_eq(json_string_value(json_object_get(first, "kind")), c->kind);
	ck_assert_msg(codec->run(first, twice, sizeof(twice), &second, err, sizeof(err)) == 0,
		      "%s: the encoding does not decode: %s", c->json, err);
	ck_assert_msg(strcmp(once, twice) == 0, "%s: \"%s\" became \"%s\"", c->json, once, twice);
	ck_assert(json_equal(first, second));
	json_decref(obj);
	json_decref(first);
	json_decref(second);
}
END_TEST

/* The encoders write blockSizeBits and replicas even when they were defaulted, as upstream's
 * Go types serialize them, and leave absent what was absent. */
START_TEST(test_encoded_defaults)
{
	json_t *obj = load("{'metadata':{'name':'p'},'spec':{'subnets':[{'ipv4':'10.0.0.0/24'}]}}");
	struct coilapi_pool pool;
	ck_assert_int_eq(coilapi_pool_decode(obj, &pool, NULL, 0), 0);
	json_t *enc = coilapi_pool_encode(&pool);
	json_t *want =
	    load("{'apiVersion':'coil.cybozu.com/v2','kind':'AddressPool','metadata':{"
		 "'name':'p'},'spec':{'blockSizeBits':5,'subnets':[{'ipv4':'10.0.0.0/24'}]}}");
	ck_assert(json_equal(enc, want));
	coilapi_pool_clear(&pool);
	coilapi_pool_clear(&pool); /* twice is harmless */
	json_decref(enc);
	json_decref(want);
	json_decref(obj);

	obj = load("{'metadata':{'namespace':'n','name':'e'},'spec':{'destinations':['::/0']}}");
	struct coilapi_egress eg;
	ck_assert_int_eq(coilapi_egress_decode(obj, &eg, NULL, 0), 0);
	enc = coilapi_egress_encode(&eg);
	want = load("{'apiVersion':'coil.cybozu.com/v2','kind':'Egress','metadata':{'name':'e',"
		    "'namespace':'n'},'spec':{'destinations':['::/0'],'replicas':1,"
		    "'sessionAffinity':'ClientIP'}}");
	ck_assert(json_equal(enc, want));
	coilapi_egress_clear(&eg);
	json_decref(enc);
	json_decref(want);
	json_decref(obj);
}
END_TEST

/* The BlockRequest the daemon creates and the status the controller writes. */
START_TEST(test_request_encoding)
{
	struct coilapi_condition done = {"Complete",
					 "True",
					 "allocated",
					 "allocated a block p-0",
					 "2026-07-16T01:02:03Z",
					 "2026-07-16T01:02:03Z"};
	struct coilapi_request req = {.name = "req-p-n1",
				      .has_spec = true,
				      .node_name = "n1",
				      .pool_name = "p",
				      .block_name = "p-0",
				      .conditions = &done,
				      .n_conditions = 1};
	json_t *status = coilapi_request_status_encode(&req);
	json_t *want = load("{'addressBlockName':'p-0','conditions':[{'type':'Complete','status':"
			    "'True','reason':'allocated','message':'allocated a block p-0',"
			    "'lastProbeTime':'2026-07-16T01:02:03Z','lastTransitionTime':"
			    "'2026-07-16T01:02:03Z'}]}");
	ck_assert(json_equal(status, want));
	json_decref(status);
	json_decref(want);
	req.block_name = NULL;
	req.n_conditions = 0;
	json_t *obj = coilapi_request_encode(&req);
	want = load("{'apiVersion':'coil.cybozu.com/v2','kind':'BlockRequest','metadata':{'name':"
		    "'req-p-n1'},'spec':{'nodeName':'n1','poolName':'p'}}");
	ck_assert(json_equal(obj, want));
	json_decref(obj);
	json_decref(want);
}
END_TEST

START_TEST(test_error_buffer_optional)
{
	json_t *obj = load("{'index':-1}");
	struct coilapi_block b;
	char small[8];
	ck_assert_int_eq(coilapi_block_decode(obj, &b, NULL, 0), -EINVAL);
	ck_assert_int_eq(coilapi_block_decode(obj, &b, small, sizeof(small)), -EINVAL);
	ck_assert_str_eq(small, "index: ");
	json_decref(obj);
}
END_TEST

static const struct {
	const struct kube_resource *res;
	const char *ns, *name, *want;
} path_cases[] = {
    {&COILAPI_RES_ADDRESSPOOLS, NULL, "default", "/apis/coil.cybozu.com/v2/addresspools/default"},
    {&COILAPI_RES_ADDRESSBLOCKS, "ignored", "default-0",
     "/apis/coil.cybozu.com/v2/addressblocks/default-0"},
    {&COILAPI_RES_BLOCKREQUESTS, NULL, NULL, "/apis/coil.cybozu.com/v2/blockrequests"},
    {&COILAPI_RES_EGRESSES, "internet", "egress",
     "/apis/coil.cybozu.com/v2/namespaces/internet/egresses/egress"},
    {&COILAPI_RES_EGRESSES, NULL, NULL, "/apis/coil.cybozu.com/v2/egresses"},
};

START_TEST(test_resource_paths)
{
	char buf[256];
	ck_assert_int_eq(kube_path(path_cases[_i].res, path_cases[_i].ns, path_cases[_i].name, NULL,
				   buf, sizeof(buf)),
			 0);
	ck_assert_str_eq(buf, path_cases[_i].want);
}
END_TEST

/* The names are a compatibility contract with upstream's objects. */
START_TEST(test_vocabulary)
{
	ck_assert_str_eq(COILAPI_API_VERSION, "coil.cybozu.com/v2");
	ck_assert_str_eq(COILAPI_LABEL_POOL, "coil.cybozu.com/pool");
	ck_assert_str_eq(COILAPI_LABEL_NODE, "coil.cybozu.com/node");
	ck_assert_str_eq(COILAPI_LABEL_REQUEST, "coil.cybozu.com/request");
	ck_assert_str_eq(COILAPI_LABEL_RESERVED, "coil.cybozu.com/reserved");
	ck_assert_str_eq(COILAPI_ANNOTATION_POOL, "coil.cybozu.com/pool");
	ck_assert_str_eq(COILAPI_EGRESS_ANNOTATION_PREFIX, "egress.coil.cybozu.com/");
	ck_assert_str_eq(COILAPI_FINALIZER, "coil.cybozu.com");
	ck_assert_str_eq(COILAPI_RES_ADDRESSPOOLS.kind, "AddressPool");
	ck_assert_str_eq(COILAPI_RES_ADDRESSBLOCKS.kind, "AddressBlock");
	ck_assert_str_eq(COILAPI_RES_BLOCKREQUESTS.kind, "BlockRequest");
	ck_assert_str_eq(COILAPI_RES_EGRESSES.kind, "Egress");
	ck_assert(!COILAPI_RES_ADDRESSPOOLS.namespaced && COILAPI_RES_EGRESSES.namespaced);
}
END_TEST

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

Suite *coilapi_suite(void)
{
	Suite *s = suite_create("coilapi");
	TCase *tc = tcase_create("codecs");
	tcase_add_loop_test(tc, test_decode, 0, N(cases));
	tcase_add_loop_test(tc, test_round_trip, 0, N(cases));
	tcase_add_test(tc, test_encoded_defaults);
	tcase_add_test(tc, test_request_encoding);
	tcase_add_test(tc, test_error_buffer_optional);
	tcase_add_loop_test(tc, test_resource_paths, 0, N(path_cases));
	tcase_add_test(tc, test_vocabulary);
	suite_add_tcase(s, tc);
	return s;
}
