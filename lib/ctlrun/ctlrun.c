/* The controller process: client, webhook server, HTTP servers, certificate rotator, then the
 * election until stop or loss. */
#include "ctlrun.h"

#include <errno.h>
#include <stdio.h>

#include "log/log.h"
#include "runtime/runtime.h"

#define LEASE_NAMESPACE "kube-system"

struct run {
	const struct ctlrun_spec *spec;
	struct kube_client *client;
	struct webhook_server *webhook;
	struct kube_stop *stop; /* the runtime's */
	struct certrotate *rotator;
	bool leader_failed, rotator_failed;
};

int ctlrun_fail(const char *what, const char *err)
{
	log_error(what, "error", err);
	return 1;
}

static int check_webhook(void *arg, char *err, size_t errlen)
{
	struct run *run = arg;
	return webhook_server_check_ready(run->webhook, err, errlen);
}

static void started_leading(void *arg, struct kube_stop *lost)
{
	struct run *run = arg;
	char err[1024] = "";
	if (run->spec->start_leading(run->spec->arg, run->client, err, sizeof(err)) < 0) {
		log_error("failed to start the controller", "error", err);
		run->leader_failed = true;
		kube_stop_signal(run->stop);
	}
}

static void stopped_leading(void *arg)
{
	struct run *run = arg;
	run->spec->stop_leading(run->spec->arg);
}

/* --enable-restart-on-cert-refresh: end the process (status 0) so the pod restarts and
 * mounts the new Secret, as upstream. Runs on the rotator thread. */
static void cert_refreshed(void *arg)
{
	struct run *run = arg;
	log_info("secrets have been updated; exiting so the pod can be restarted");
	kube_stop_signal(run->stop);
}

static void rotator_failed(void *arg, const char *err)
{
	struct run *run = arg;
	log_error("webhook certificate rotation failed", "error", err);
	run->rotator_failed = true;
	kube_stop_signal(run->stop);
}

/* Rotation mode (--enable-cert-rotation): runs on every replica, before and apart from the
 * election. */
static int start_cert_rotation(struct run *run, char *err, size_t errlen)
{
	struct certrotate_opts ro = {.client = run->client,
				     .names = run->spec->cert_names,
				     .cert_dir = run->spec->cert_dir,
				     .stop_after_secret_write = run->spec->restart_on_refresh,
				     .on_secret_written = cert_refreshed,
				     .on_failure = rotator_failed,
				     .arg = run};
	if (!run->spec->cert_rotation)
		return 0;
	return certrotate_start(&ro, &run->rotator, err, errlen);
}

static int connect_api(struct run *run, struct kube_config **config, char *err, size_t errlen)
{
	int ret = kube_config_load(run->spec->kubeconfig, NULL, config, err, errlen);
	if (ret == 0)
		ret = kube_client_new(*config, NULL, &run->client, err, errlen);
	if (ret == 0 && run->spec->prepare)
		ret = run->spec->prepare(run->spec->arg, run->client, err, errlen);
	return ret;
}

/* The certificate rotator, then the election until stop or loss; the exit status. */
static int rotate_and_lead(struct run *run, struct runtime *rt, const struct kube_config *config)
{
	char err[1024];
	run->stop = runtime_stop_token(rt);
	if (start_cert_rotation(run, err, sizeof(err)) < 0)
		return ctlrun_fail("failed to start the certificate rotator", err);
	int ret = runtime_lead(rt, config, LEASE_NAMESPACE, run->spec->lease_name, started_leading,
			       stopped_leading, run, err, sizeof(err));
	if (ret < 0)
		log_error(ret == -ENOLINK ? "leader election lost" : "leader election failed",
			  "error", err);
	certrotate_stop(run->rotator); /* joined: its failure flag is visible now */
	run->rotator = NULL;
	return ret < 0 || run->leader_failed || run->rotator_failed ? 1 : 0;
}

int ctlrun_main(const struct ctlrun_spec *spec)
{
	char err[1024];
	struct run run = {.spec = spec};
	struct kube_config *config = NULL;
	struct runtime *rt = NULL;
	struct runtime_opts ro = {.metrics_addr = spec->metrics_addr,
				  .health_addr = spec->health_addr,
				  .metrics = spec->metrics,
				  .ready = check_webhook,
				  .ready_arg = &run,
				  .check_name = "webhook"};
	int rc = 1;
	if (connect_api(&run, &config, err, sizeof(err)) < 0)
		ctlrun_fail("failed to set up the Kubernetes client", err);
	else if (webhook_server_start(spec->webhook_addr, spec->cert_dir, spec->webhooks,
				      spec->n_webhooks, &run.webhook, err, sizeof(err)) < 0)
		ctlrun_fail("failed to start the webhook server", err);
	else if (runtime_start(&ro, &rt, err, sizeof(err)) < 0)
		ctlrun_fail("failed to start the HTTP servers", err);
	else
		rc = rotate_and_lead(&run, rt, config);
	runtime_stop(rt);
	webhook_server_stop(run.webhook);
	kube_client_free(run.client);
	kube_config_free(config);
	return rc;
}
