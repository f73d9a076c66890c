/* One request from the plugin: decode, dispatch by command, observe, encode. */
#include "coild/internal.h"

#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *method_name(enum cni_command command)
{
	switch (command) {
	case CNI_CMD_ADD:
		return "Add";
	case CNI_CMD_DEL:
		return "Del";
	case CNI_CMD_CHECK:
		return "Check";
	case CNI_CMD_STATUS:
		return "Status";
	case CNI_CMD_GC:
		return "Gc";
	default:
		return "Unknown";
	}
}

static void dispatch(struct coild *d, const struct cni_rpc_request *req,
		     struct cni_rpc_response *resp)
{
	switch (req->command) {
	case CNI_CMD_ADD:
		return coild_add(d, req, resp);
	case CNI_CMD_DEL:
		return coild_del(d, req, resp);
	case CNI_CMD_CHECK:
		return coild_check(d, req, resp);
	case CNI_CMD_STATUS:
		return coild_status(d, req, resp);
	case CNI_CMD_GC:
		return coild_gc_attachments(d, req, resp);
	default:
		cni_rpc_response_set_error(resp, "Unimplemented", CNI_ERR_INTERNAL,
					   "unknown command", NULL);
	}
}

char *coild_handle_request(void *ctx, const char *text, size_t len, int passed_fd)
{
	struct coild *d = ctx;
	struct cni_rpc_request req = {0};
	struct cni_rpc_response resp = {0};
	char err[256], *out = NULL;
	size_t outlen;
	double start = now();

	if (cni_rpc_request_decode(text, len, &req, err, sizeof(err)) < 0) {
		cni_rpc_response_set_error(&resp, "InvalidArgument", CNI_ERR_DECODING,
					   "failed to decode request", err);
	} else {
		req.has_netns_fd = passed_fd >= 0;
		req.netns_fd = passed_fd;
		coild_observe_start(d, method_name(req.command));
		dispatch(d, &req, &resp);
		coild_observe_done(d, method_name(req.command), &req, &resp, now() - start);
	}
	if (cni_rpc_response_encode(&resp, &out, &outlen, err, sizeof(err)) < 0)
		out = NULL;
	cni_rpc_response_free(&resp);
	cni_rpc_request_free(&req);
	return out;
}
