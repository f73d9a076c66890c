/* What coild tells operators about each request: upstream's go-grpc-prometheus metrics
 * (so dashboards keep working) and one structured access log line. */
#include "coild/internal.h"

#include <stdio.h>
#include <string.h>

#include "log/log.h"

#define SERVICE "pkg.cnirpc.CNI"

static const char *const grpc_codes[] = {
    "OK",	"Canceled",	   "Unknown",	       "InvalidArgument",   "DeadlineExceeded",
    "NotFound", "AlreadyExists",   "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
    "Aborted",	"OutOfRange",	   "Unimplemented",    "Internal",	    "Unavailable",
    "DataLoss", "Unauthenticated",
};

static void method_labels(char *buf, size_t len, const char *method)
{
	metrics_labels(buf, len, "grpc_method", method, "grpc_service", SERVICE, "grpc_type",
		       "unary", NULL);
}

static void handled_labels(char *buf, size_t len, const char *method, const char *code)
{
	metrics_labels(buf, len, "grpc_code", code, "grpc_method", method, "grpc_service", SERVICE,
		       "grpc_type", "unary", NULL);
}

void coild_metrics_declare(struct metrics *m)
{
	static const char *const methods[] = {"Add", "Del", "Check"};
	metrics_declare(m, "grpc_server_started_total", METRIC_COUNTER,
			"Total number of RPCs started on the server.");
	metrics_declare(m, "grpc_server_handled_total", METRIC_COUNTER,
			"Total number of RPCs completed on the server, regardless of success or "
			"failure.");
	metrics_declare(m, "grpc_server_msg_received_total", METRIC_COUNTER,
			"Total number of RPC stream messages received on the server.");
	metrics_declare(m, "grpc_server_msg_sent_total", METRIC_COUNTER,
			"Total number of gRPC stream messages sent by the server.");
	coild_drift_declare(m);
	/* Upstream pre-creates the handled series of every code and method at 0. */
	char labels[256];
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		for (size_t c = 0; c < sizeof(grpc_codes) / sizeof(grpc_codes[0]); c++) {
			handled_labels(labels, sizeof(labels), methods[i], grpc_codes[c]);
			metrics_add(m, "grpc_server_handled_total", labels, 0);
		}
	}
}

void coild_observe_start(struct coild *d, const char *method)
{
	char labels[256];
	method_labels(labels, sizeof(labels), method);
	metrics_add(d->metrics, "grpc_server_started_total", labels, 1);
	metrics_add(d->metrics, "grpc_server_msg_received_total", labels, 1);
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

void coild_observe_done(struct coild *d, const char *method, const struct cni_rpc_request *req,
			const struct cni_rpc_response *resp, double seconds)
{
	const char *code = resp->failed ? resp->status : "OK";
	char labels[256], ms[32];
	handled_labels(labels, sizeof(labels), method, code);
	metrics_add(d->metrics, "grpc_server_handled_total", labels, 1);
	if (!resp->failed) {
		method_labels(labels, sizeof(labels), method);
		metrics_add(d->metrics, "grpc_server_msg_sent_total", labels, 1);
	}
	snprintf(ms, sizeof(ms), "%.3f", seconds * 1000);
	log_msg(resp->failed ? LOG_ERROR : LOG_INFO,
		resp->failed ? "finished call with error" : "finished call", "grpc.service",
		SERVICE, "grpc.method", method, "grpc.code", code, "grpc.time_ms", ms,
		"grpc.request.netns", or_empty(req->netns), "grpc.request.container_id",
		or_empty(req->container_id), "grpc.request.ifname", or_empty(req->ifname),
		"grpc.request.pod.name", or_empty(req->pod_name), "grpc.request.pod.namespace",
		or_empty(req->pod_namespace), "error", resp->failed ? resp->error.msg : NULL,
		"details", resp->failed ? resp->error.details : NULL, NULL);
}
