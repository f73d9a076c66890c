/* Servers, the signal thread and the stop token of a long-running program. */
#include "runtime/runtime.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "log/log.h"

struct runtime {
	struct runtime_opts o;
	struct http_server *metrics_srv, *health_srv;
	struct kube_stop *stop;
	pthread_t signal_thread;
	bool signal_started;
	pthread_mutex_t lock; /* guards closing; held while a callback runs */
	bool closing;	      /* runtime_stop began: callbacks no longer run */
};

static void serve_metrics(void *ctx, const char *method, const char *path, struct http_reply *reply)
{
	struct runtime *rt = ctx;
	if (strcmp(path, "/metrics") != 0)
		return http_reply_text(reply, 404, "404 page not found\n");
	reply->status = 200;
	reply->body = metrics_render(rt->o.metrics);
	reply->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

static void serve_ready(struct runtime *rt, struct http_reply *reply)
{
	char err[512], body[600];
	if (!rt->o.ready || rt->o.ready(rt->o.ready_arg, err, sizeof(err)) == 0)
		return http_reply_text(reply, 200, "ok");
	log_warn("readiness check failed", "check", rt->o.check_name ? rt->o.check_name : "ready",
		 "error", err);
	if (!rt->o.check_name)
		return http_reply_text(reply, 500, "not ready");
	snprintf(body, sizeof(body),
		 "[+]ping ok\n[-]%s failed: reason withheld\nreadyz check failed\n",
		 rt->o.check_name);
	http_reply_text(reply, 500, body);
}

static void serve_health(void *ctx, const char *method, const char *path, struct http_reply *reply)
{
	if (strcmp(path, "/healthz") == 0)
		return http_reply_text(reply, 200, "ok");
	if (strcmp(path, "/readyz") == 0)
		return serve_ready(ctx, reply);
	http_reply_text(reply, 404, "404 page not found\n");
}

/* Runs a callback unless runtime_stop has begun; the lock keeps runtime_stop (and so the
 * program's teardown) waiting until the callback is done. */
static void run_callback(struct runtime *rt, void (*fn)(void *arg))
{
	pthread_mutex_lock(&rt->lock);
	if (!rt->closing && fn)
		fn(rt->o.arg);
	pthread_mutex_unlock(&rt->lock);
}

static bool is_closing(struct runtime *rt)
{
	pthread_mutex_lock(&rt->lock);
	bool closing = rt->closing;
	pthread_mutex_unlock(&rt->lock);
	return closing;
}

static void *signal_main(void *arg)
{
	struct runtime *rt = arg;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	for (;;) {
		int sig;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (is_closing(rt))
			return NULL; /* runtime_stop's wake-up */
		if (sig == SIGHUP) {
			run_callback(rt, rt->o.on_hup);
			continue;
		}
		log_info("shutting down", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		kube_stop_signal(rt->stop);
		run_callback(rt, rt->o.on_stop);
		return NULL;
	}
}

static int start_servers(struct runtime *rt, char *err, size_t errlen)
{
	int rc =
	    http_server_start(rt->o.metrics_addr, serve_metrics, rt, &rt->metrics_srv, err, errlen);
	if (rc == 0)
		rc = http_server_start(rt->o.health_addr, serve_health, rt, &rt->health_srv, err,
				       errlen);
	return rc;
}

int runtime_start(const struct runtime_opts *opts, struct runtime **out, char *err, size_t errlen)
{
	*out = NULL;
	struct runtime *rt = calloc(1, sizeof(*rt));
	if (!rt || !(rt->stop = kube_stop_new())) {
		free(rt);
		snprintf(err, errlen, "runtime: out of memory");
		return -ENOMEM;
	}
	rt->o = *opts;
	pthread_mutex_init(&rt->lock, NULL);
	metrics_add_process(rt->o.metrics);
	int rc = start_servers(rt, err, errlen);
	if (rc == 0) {
		rc = -pthread_create(&rt->signal_thread, NULL, signal_main, rt);
		rt->signal_started = rc == 0;
		if (rc)
			snprintf(err, errlen, "cannot start the signal thread: %s", strerror(-rc));
	}
	if (rc) {
		runtime_stop(rt);
		return rc;
	}
	log_debug("runtime started", "metrics_addr", opts->metrics_addr, "health_addr",
		  opts->health_addr);
	*out = rt;
	return 0;
}

struct kube_stop *runtime_stop_token(struct runtime *rt)
{
	return rt->stop;
}

int runtime_lead(struct runtime *rt, const struct kube_config *config, const char *ns,
		 const char *name, void (*on_started_leading)(void *arg, struct kube_stop *lost),
		 void (*on_stopped_leading)(void *arg), void *arg, char *err, size_t errlen)
{
	struct kube_leader_opts lo = {.ns = ns,
				      .name = name,
				      .release_on_cancel = true,
				      .on_started_leading = on_started_leading,
				      .on_stopped_leading = on_stopped_leading,
				      .arg = arg};
	return kube_leader_campaign(config, &lo, rt->stop, err, errlen);
}

void runtime_stop(struct runtime *rt)
{
	if (!rt)
		return;
	pthread_mutex_lock(&rt->lock);
	rt->closing = true;
	pthread_mutex_unlock(&rt->lock);
	if (rt->signal_started) {
		/* SIGTERM is blocked in every thread, so this one stays pending for the signal
		 * thread alone, which sees closing and returns. */
		pthread_kill(rt->signal_thread, SIGTERM);
		pthread_join(rt->signal_thread, NULL);
	}
	http_server_stop(rt->health_srv);
	http_server_stop(rt->metrics_srv);
	kube_stop_free(rt->stop);
	pthread_mutex_destroy(&rt->lock);
	free(rt);
}
