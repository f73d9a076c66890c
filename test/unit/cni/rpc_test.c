#include "suites.h"

#include "cni/cni.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static const char netconf[] = "{\"cniVersion\":\"1.1.0\",\"name\":\"k\",\"type\":\"coil\"}";

static void fill_request(struct cni_rpc_request *req)
{
	static struct cni_rpc_iface ifaces[] = {{"eth0", true}, {"veth1", false}};
	static struct cni_attachment atts[] = {{"c1", "eth0"}, {"c2", "net1"}};
	memset(req, 0, sizeof(*req));
	req->command = CNI_CMD_ADD;
	req->container_id = "c1";
	req->netns = "/run/netns/x";
	req->ifname = "eth0";
	req->path = "/opt/cni/bin";
	req->stdin_data = netconf;
	req->stdin_len = strlen(netconf);
	req->pod_namespace = "ns1";
	req->pod_name = "foo";
	req->pod_infra_container_id = "infra";
	req->pod_uid = "uid-1";
	req->is_chained = "true";
	req->ips = calloc(2, sizeof(*req->ips));
	strcpy(req->ips[0], "10.0.0.5");
	strcpy(req->ips[1], "fd02::5");
	req->n_ips = 2;
	req->interfaces = malloc(sizeof(ifaces));
	memcpy(req->interfaces, ifaces, sizeof(ifaces));
	req->n_interfaces = 2;
	req->valid_attachments = malloc(sizeof(atts));
	memcpy(req->valid_attachments, atts, sizeof(atts));
	req->n_valid_attachments = 2;
}

START_TEST(test_request_round_trip)
{
	struct cni_rpc_request req, back;
	fill_request(&req);
	char *text, why[256];
	size_t len;
	ck_assert_int_eq(cni_rpc_request_encode(&req, &text, &len, why, sizeof(why)), 0);
	ck_assert_int_eq(cni_rpc_request_decode(text, len, &back, why, sizeof(why)), 0);
	ck_assert_int_eq(back.command, CNI_CMD_ADD);
	ck_assert_str_eq(back.container_id, "c1");
	ck_assert_str_eq(back.netns, "/run/netns/x");
	ck_assert_str_eq(back.ifname, "eth0");
	ck_assert_str_eq(back.path, "/opt/cni/bin");
	ck_assert_uint_eq(back.stdin_len, 0); /* the daemon never reads it: not sent */
	ck_assert_str_eq(back.stdin_data, "");
	ck_assert_str_eq(back.pod_namespace, "ns1");
	ck_assert_str_eq(back.pod_name, "foo");
	ck_assert_str_eq(back.pod_infra_container_id, "infra");
	ck_assert_str_eq(back.pod_uid, "uid-1");
	ck_assert_str_eq(back.is_chained, "true");
	ck_assert_uint_eq(back.n_ips, 2);
	ck_assert_str_eq(back.ips[1], "fd02::5");
	ck_assert_uint_eq(back.n_interfaces, 2);
	for (size_t i = 0; i < 2; i++) {
		bool is_eth0 = strcmp(back.interfaces[i].name, "eth0") == 0;
		ck_assert_int_eq(back.interfaces[i].in_sandbox, is_eth0);
	}
	ck_assert_uint_eq(back.n_valid_attachments, 2);
	ck_assert_str_eq(back.valid_attachments[1].container_id, "c2");
	ck_assert_str_eq(back.valid_attachments[1].ifname, "net1");
	free(text);
	cni_rpc_request_free(&back);
	cni_rpc_request_free(&req);

	/* a DEL carries no empty member and no list; args are always there (older daemons) */
	req = (struct cni_rpc_request){
	    .command = CNI_CMD_DEL, .container_id = "c1", .ifname = "eth0"};
	ck_assert_int_eq(cni_rpc_request_encode(&req, &text, &len, why, sizeof(why)), 0);
	ck_assert_str_eq(text, "{\"command\":\"DEL\",\"container_id\":\"c1\",\"ifname\":\"eth0\","
			       "\"args\":{\"K8S_POD_NAMESPACE\":\"\",\"K8S_POD_NAME\":\"\","
			       "\"K8S_POD_INFRA_CONTAINER_ID\":\"\",\"K8S_POD_UID\":\"\","
			       "\"IS_CHAINED\":\"\"}}");
	ck_assert_uint_eq(len, strlen(text));
	free(text);
	/* a netns path that is not UTF-8 fails the request instead of naming another path */
	req.netns = "/run/netns/\xff";
	ck_assert_int_lt(cni_rpc_request_encode(&req, &text, &len, why, sizeof(why)), 0);
	ck_assert_msg(why[0], "no message");

	/* a minimal request: absent args stay NULL, strings default to "" */
	const char *min = "{\"command\":\"GC\"}";
	ck_assert_int_eq(cni_rpc_request_decode(min, strlen(min), &back, why, sizeof(why)), 0);
	ck_assert_int_eq(back.command, CNI_CMD_GC);
	ck_assert_str_eq(back.container_id, "");
	ck_assert_ptr_null(back.pod_name);
	cni_rpc_request_free(&back);

	req = (struct cni_rpc_request){.command = CNI_CMD_VERSION};
	ck_assert_int_lt(cni_rpc_request_encode(&req, &text, &len, why, sizeof(why)), 0);
}
END_TEST

static const char *const bad_requests[] = {
    "",
    "[]",
    "{}",
    "{\"command\":\"VERSION\"}",
    "{\"command\":\"add\"}",
    "{\"command\":1}",
    "{\"command\":\"ADD\",\"netns\":1}",
    "{\"command\":\"ADD\",\"args\":[]}",
    "{\"command\":\"ADD\",\"args\":{\"K8S_POD_NAME\":1}}",
    "{\"command\":\"ADD\",\"ips\":\"10.0.0.1\"}",
    "{\"command\":\"ADD\",\"ips\":[\"10.0.0.1/32\"]}",
    "{\"command\":\"ADD\",\"ips\":[1]}",
    "{\"command\":\"ADD\",\"interfaces\":{\"eth0\":\"yes\"}}",
    "{\"command\":\"ADD\",\"interfaces\":[]}",
    "{\"command\":\"GC\",\"valid_attachments\":[{\"containerID\":1}]}",
    "{\"command\":\"GC\",\"valid_attachments\":[1]}",
};

START_TEST(test_bad_request)
{
	struct cni_rpc_request req;
	char why[256] = "";
	const char *text = bad_requests[_i];
	ck_assert_int_eq(cni_rpc_request_decode(text, strlen(text), &req, why, sizeof(why)),
			 -EBADMSG);
	ck_assert_msg(why[0], "no message for %s", text);
	cni_rpc_request_free(&req);
}
END_TEST

START_TEST(test_response_round_trip)
{
	char *text, why[256];
	size_t len;
	struct cni_rpc_response resp = {0}, back;

	resp.result = json_loads("{\"cniVersion\":\"1.1.0\"}", 0, NULL);
	ck_assert_int_eq(cni_rpc_response_encode(&resp, &text, &len, why, sizeof(why)), 0);
	ck_assert_str_eq(text, "{\"result\":{\"cniVersion\":\"1.1.0\"}}");
	ck_assert_int_eq(cni_rpc_response_decode(text, len, &back, why, sizeof(why)), 0);
	ck_assert(!back.failed);
	ck_assert_str_eq(back.status, "OK");
	ck_assert(json_equal(back.result, resp.result));
	free(text);
	cni_rpc_response_free(&back);
	cni_rpc_response_free(&resp);

	ck_assert_int_eq(cni_rpc_response_encode(&resp, &text, &len, why, sizeof(why)), 0);
	ck_assert_str_eq(text, "{}");
	ck_assert_int_eq(cni_rpc_response_decode(text, len, &back, why, sizeof(why)), 0);
	ck_assert(!back.failed);
	ck_assert_ptr_null(back.result);
	free(text);
	cni_rpc_response_free(&back);

	cni_rpc_response_set_error(&resp, NULL, 999, "failed to get pod", "pod not found");
	ck_assert_int_eq(cni_rpc_response_encode(&resp, &text, &len, why, sizeof(why)), 0);
	ck_assert_str_eq(text, "{\"error\":{\"code\":999,\"msg\":\"failed to get pod\","
			       "\"details\":\"pod not found\"},\"status\":\"Internal\"}");
	ck_assert_int_eq(cni_rpc_response_decode(text, len, &back, why, sizeof(why)), 0);
	ck_assert(back.failed);
	ck_assert_int_eq(back.error.code, 999);
	ck_assert_str_eq(back.error.msg, "failed to get pod");
	ck_assert_str_eq(back.error.details, "pod not found");
	ck_assert_str_eq(back.status, "Internal");
	free(text);
	cni_rpc_response_free(&back);
	cni_rpc_response_free(&resp);

	/* a failure status without an error object still fails, with 999 */
	const char *bare = "{\"status\":\"Unknown\"}";
	ck_assert_int_eq(cni_rpc_response_decode(bare, strlen(bare), &back, why, sizeof(why)), 0);
	ck_assert(back.failed);
	ck_assert_int_eq(back.error.code, 999);
	cni_rpc_response_free(&back);

	const char *const bad[] = {"",
				   "[]",
				   "{\"error\":1}",
				   "{\"error\":{\"code\":\"x\"}}",
				   "{\"error\":{\"msg\":1}}",
				   "{\"status\":1}"};
	for (size_t i = 0; i < N(bad); i++) {
		ck_assert_int_eq(
		    cni_rpc_response_decode(bad[i], strlen(bad[i]), &back, why, sizeof(why)),
		    -EBADMSG);
		cni_rpc_response_free(&back);
	}
}
END_TEST

/* ---- client against an in-test server ---- */

struct server {
	char dir[64], path[128];
	int listen_fd;
	const char *reply; /* NULL: accept nothing (timeout test) */
	char *request;	   /* what the server read */
	pthread_t thread;
};

static void *serve_one(void *arg)
{
	struct server *srv = arg;
	int fd = accept(srv->listen_fd, NULL, NULL);
	if (fd < 0)
		return NULL;
	size_t len;
	if (cni_rpc_read_all(fd, CNI_RPC_MAX_MESSAGE, cni_monotonic_ms() + 5000, &srv->request,
			     &len) == 0)
		cni_rpc_write_all(fd, srv->reply, strlen(srv->reply), cni_monotonic_ms() + 5000);
	close(fd);
	return NULL;
}

static void server_start(struct server *srv, const char *reply, bool listen_too)
{
	memset(srv, 0, sizeof(*srv));
	strcpy(srv->dir, "/tmp/coil-cni-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(srv->dir));
	snprintf(srv->path, sizeof(srv->path), "%s/coild.sock", srv->dir);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	strcpy(addr.sun_path, srv->path);
	srv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(bind(srv->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	srv->reply = reply;
	if (listen_too)
		ck_assert_int_eq(listen(srv->listen_fd, 8), 0);
	if (reply)
		ck_assert_int_eq(pthread_create(&srv->thread, NULL, serve_one, srv), 0);
}

static void server_stop(struct server *srv)
{
	if (srv->reply)
		pthread_join(srv->thread, NULL);
	close(srv->listen_fd);
	unlink(srv->path);
	rmdir(srv->dir);
	free(srv->request);
}

/* Reads one request with recvmsg, keeping the first descriptor sent with it. */
struct fd_server {
	struct server srv;
	int passed_fd; /* -1: none arrived */
	size_t len;
};

static void *serve_one_keeping_fd(void *arg)
{
	struct fd_server *fs = arg;
	int fd = accept(fs->srv.listen_fd, NULL, NULL);
	char buf[65536];
	fs->passed_fd = -1;
	for (ssize_t n = 1; fd >= 0 && n > 0;) {
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} control;
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr msg = {.msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = control.buf,
				     .msg_controllen = sizeof(control.buf)};
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
		struct cmsghdr *cm = n >= 0 ? CMSG_FIRSTHDR(&msg) : NULL;
		if (cm && cm->cmsg_type == SCM_RIGHTS && fs->passed_fd < 0)
			memcpy(&fs->passed_fd, CMSG_DATA(cm), sizeof(int));
		if (n > 0)
			fs->len += (size_t)n;
	}
	if (fd >= 0) {
		cni_rpc_write_all(fd, "{}", 2, cni_monotonic_ms() + 5000);
		close(fd);
	}
	return NULL;
}

/* call_passing COMMAND: the descriptor the server received for a call with netns
 * /proc/self/ns/net (-1 if none); fails the test on a transport error. */
static int call_passing(enum cni_command command)
{
	struct fd_server fs = {0};
	server_start(&fs.srv, NULL, true);
	ck_assert_int_eq(pthread_create(&fs.srv.thread, NULL, serve_one_keeping_fd, &fs), 0);
	struct cni_rpc_request req;
	fill_request(&req);
	req.command = command;
	req.netns = "/proc/self/ns/net";
	struct cni_rpc_response resp;
	struct cni_error err = {0};
	ck_assert_int_eq(cni_rpc_call(fs.srv.path, &req, 5000, &resp, &err), 0);
	pthread_join(fs.srv.thread, NULL);
	ck_assert_uint_gt(fs.len, 0);
	server_stop(&fs.srv);
	cni_rpc_response_free(&resp);
	cni_rpc_request_free(&req);
	return fs.passed_fd;
}

START_TEST(test_call_add_passes_netns)
{
	int fd = call_passing(CNI_CMD_ADD);
	ck_assert_int_ge(fd, 0);
	struct stat sent, own;
	ck_assert_int_eq(fstat(fd, &sent), 0);
	ck_assert_int_eq(stat("/proc/self/ns/net", &own), 0);
	ck_assert(sent.st_dev == own.st_dev && sent.st_ino == own.st_ino);
	close(fd);
	/* DEL needs no netns: nothing is sent. */
	ck_assert_int_eq(call_passing(CNI_CMD_DEL), -1);
}
END_TEST

START_TEST(test_call_success)
{
	struct server srv;
	server_start(
	    &srv, "{\"result\":{\"cniVersion\":\"1.1.0\",\"ips\":[{\"address\":\"10.1.2.3/32\"}]}}",
	    true);
	struct cni_rpc_request req;
	fill_request(&req);
	struct cni_rpc_response resp;
	struct cni_error err = {0};
	ck_assert_int_eq(cni_rpc_call(srv.path, &req, 5000, &resp, &err), 0);
	ck_assert(!resp.failed);
	ck_assert_ptr_nonnull(resp.result);
	ck_assert_str_eq(json_string_value(json_object_get(resp.result, "cniVersion")), "1.1.0");
	server_stop(&srv);
	cni_rpc_response_free(&resp);
	cni_rpc_request_free(&req);
}
END_TEST

START_TEST(test_call_server_sees_request)
{
	struct server srv;
	server_start(&srv, "{}", true);
	struct cni_rpc_request req;
	fill_request(&req);
	req.command = CNI_CMD_DEL;
	struct cni_rpc_response resp;
	struct cni_error err = {0};
	ck_assert_int_eq(cni_rpc_call(srv.path, &req, 5000, &resp, &err), 0);
	ck_assert(!resp.failed);
	ck_assert_ptr_null(resp.result);
	pthread_join(srv.thread, NULL);
	srv.reply = NULL;
	struct cni_rpc_request seen;
	char why[256];
	ck_assert_ptr_nonnull(srv.request);
	ck_assert_int_eq(
	    cni_rpc_request_decode(srv.request, strlen(srv.request), &seen, why, sizeof(why)), 0);
	ck_assert_int_eq(seen.command, CNI_CMD_DEL);
	ck_assert_str_eq(seen.pod_name, "foo");
	cni_rpc_request_free(&seen);
	server_stop(&srv);
	cni_rpc_response_free(&resp);
	cni_rpc_request_free(&req);
}
END_TEST

START_TEST(test_call_error_reply)
{
	struct server srv;
	server_start(&srv,
		     "{\"error\":{\"code\":999,\"msg\":\"failed to allocate address\","
		     "\"details\":\"pool exhausted\"},\"status\":\"Internal\"}",
		     true);
	struct cni_rpc_request req;
	fill_request(&req);
	struct cni_rpc_response resp;
	struct cni_error err = {0};
	ck_assert_int_eq(cni_rpc_call(srv.path, &req, 5000, &resp, &err), 0);
	ck_assert(resp.failed);
	ck_assert_int_eq(resp.error.code, 999);
	ck_assert_str_eq(resp.error.msg, "failed to allocate address");
	ck_assert_str_eq(resp.error.details, "pool exhausted");
	server_stop(&srv);
	cni_rpc_response_free(&resp);
	cni_rpc_request_free(&req);
}
END_TEST

START_TEST(test_call_garbage_reply)
{
	struct server srv;
	server_start(&srv, "not json", true);
	struct cni_rpc_request req;
	fill_request(&req);
	struct cni_rpc_response resp;
	struct cni_error err = {0};
	ck_assert_int_eq(cni_rpc_call(srv.path, &req, 5000, &resp, &err), -EBADMSG);
	ck_assert_int_eq(err.code, 999);
	server_stop(&srv);
	cni_rpc_request_free(&req);
}
END_TEST

START_TEST(test_call_refused)
{
	struct server srv;
	server_start(&srv, NULL, false); /* bound, not listening */
	struct cni_rpc_request req;
	fill_request(&req);
	struct cni_rpc_response resp;
	struct cni_error err = {0};
	ck_assert_int_eq(cni_rpc_call(srv.path, &req, 5000, &resp, &err), -ECONNREFUSED);
	ck_assert_int_eq(err.code, CNI_ERR_TRY_AGAIN_LATER);
	char msg[256];
	snprintf(msg, sizeof(msg), "failed to connect to %s", srv.path);
	ck_assert_str_eq(err.msg, msg);
	ck_assert_str_eq(err.details, strerror(ECONNREFUSED));
	server_stop(&srv);

	ck_assert_int_eq(cni_rpc_call("/nonexistent/coild.sock", &req, 5000, &resp, &err), -ENOENT);
	ck_assert_int_eq(err.code, CNI_ERR_TRY_AGAIN_LATER);
	ck_assert_str_eq(err.msg, "failed to connect to /nonexistent/coild.sock");
	ck_assert_int_eq(cni_rpc_call("", &req, 5000, &resp, &err), -ENOENT);
	ck_assert_int_eq(err.code, CNI_ERR_TRY_AGAIN_LATER);
	cni_rpc_request_free(&req);
}
END_TEST

START_TEST(test_call_timeout)
{
	struct server srv;
	server_start(&srv, NULL, true); /* listens, never accepts nor answers */
	struct cni_rpc_request req;
	fill_request(&req);
	struct cni_rpc_response resp;
	struct cni_error err = {0};
	int64_t start = cni_monotonic_ms();
	ck_assert_int_eq(cni_rpc_call(srv.path, &req, 200, &resp, &err), -ETIMEDOUT);
	int64_t took = cni_monotonic_ms() - start;
	ck_assert_int_ge(took, 190);
	ck_assert_int_lt(took, 2000);
	ck_assert_int_eq(err.code, CNI_ERR_INTERNAL);
	ck_assert_str_eq(err.msg,
			 "rpc error: code = DeadlineExceeded desc = context deadline exceeded");
	server_stop(&srv);
	cni_rpc_request_free(&req);
}
END_TEST

Suite *rpc_suite(void)
{
	Suite *s = suite_create("rpc");
	TCase *tc = tcase_create("codec");
	tcase_add_test(tc, test_request_round_trip);
	tcase_add_loop_test(tc, test_bad_request, 0, N(bad_requests));
	tcase_add_test(tc, test_response_round_trip);
	suite_add_tcase(s, tc);
	tc = tcase_create("client");
	tcase_add_test(tc, test_call_success);
	tcase_add_test(tc, test_call_server_sees_request);
	tcase_add_test(tc, test_call_add_passes_netns);
	tcase_add_test(tc, test_call_error_reply);
	tcase_add_test(tc, test_call_garbage_reply);
	tcase_add_test(tc, test_call_refused);
	tcase_add_test(tc, test_call_timeout);
	suite_add_tcase(s, tc);
	return s;
}
