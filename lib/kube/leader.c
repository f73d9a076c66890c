/* Leader election on a coordination.k8s.io/v1 Lease, following client-go's algorithm: a
 * candidate may take the lease when its holder is empty or when the lease record has not
 * changed for leaseDurationSeconds of *local* time (so clocks need not agree); the leader
 * renews every retry period and gives up once renewing has failed for the renew deadline. */
#include "internal.h"
#include "flags/flags.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

struct election {
	struct kube_client *client;
	struct kube_leader_opts o; /* with defaults filled in */
	struct kube_stop *stop;
	char *observed;	  /* owned: the last lease spec seen, as compact JSON */
	long observed_ms; /* when it last changed, monotonic */
	long observed_lease_ms;
	char holder[256]; /* of the observed record */
	char *err;
	size_t errlen;
};

static long lease_seconds(long ms)
{
	long s = (ms + 999) / 1000;
	return s > 0 ? s : 1;
}

static void now_micro(char buf[KUBE_TIME_LEN])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	kube_time_format_micro(&ts, buf);
}

/* Remembers spec as observed now if it differs from the last observation. */
static void observe(struct election *e, const json_t *spec)
{
	char *text = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return;
	if (e->observed && strcmp(text, e->observed) == 0) {
		free(text);
		return;
	}
	free(e->observed);
	e->observed = text;
	e->observed_ms = kube_now_ms();
	json_int_t secs = json_integer_value(json_object_get(spec, "leaseDurationSeconds"));
	e->observed_lease_ms = secs > 0 ? (long)secs * 1000 : e->o.lease_duration_ms;
	const char *holder = json_string_value(json_object_get(spec, "holderIdentity"));
	if (holder && *holder && strcmp(holder, e->holder) != 0 && e->o.on_new_leader)
		e->o.on_new_leader(e->o.arg, holder);
	snprintf(e->holder, sizeof(e->holder), "%s", holder ? holder : "");
}

/* A fresh spec naming us, carrying over acquireTime and transitions when we already hold it. */
static json_t *our_spec(struct election *e, const json_t *old)
{
	char now[KUBE_TIME_LEN];
	now_micro(now);
	const char *holder = json_string_value(json_object_get(old, "holderIdentity"));
	bool ours = holder && strcmp(holder, e->o.identity) == 0;
	json_int_t transitions = json_integer_value(json_object_get(old, "leaseTransitions"));
	const char *acquired = json_string_value(json_object_get(old, "acquireTime"));
	if (!ours && holder && *holder)
		transitions++;
	return json_pack("{s:s,s:I,s:s,s:s,s:I}", "holderIdentity", e->o.identity,
			 "leaseDurationSeconds", (json_int_t)lease_seconds(e->o.lease_duration_ms),
			 "acquireTime", ours && acquired ? acquired : now, "renewTime", now,
			 "leaseTransitions", transitions);
}

static int create_lease(struct election *e)
{
	json_t *spec = our_spec(e, NULL);
	json_t *lease =
	    json_pack("{s:s,s:s,s:{s:s,s:s},s:O}", "apiVersion", "coordination.k8s.io/v1", "kind",
		      "Lease", "metadata", "name", e->o.name, "namespace", e->o.ns, "spec", spec);
	int ret = kube_create(e->client, &KUBE_RES_LEASES, e->o.ns, lease, NULL, e->err, e->errlen);
	if (ret == 0)
		observe(e, spec);
	json_decref(spec);
	json_decref(lease);
	return ret;
}

/* One try; returns 1 when we hold the lease afterwards, 0 when someone else does, or a
 * negative errno. */
static int try_acquire_or_renew(struct election *e)
{
	json_t *lease = NULL;
	int ret =
	    kube_get(e->client, &KUBE_RES_LEASES, e->o.ns, e->o.name, &lease, e->err, e->errlen);
	if (ret == -ENOENT)
		return create_lease(e) == 0 ? 1 : 0;
	if (ret)
		return ret;
	json_t *spec = json_object_get(lease, "spec");
	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(lease, "spec", spec);
	}
	observe(e, spec);
	const char *holder = json_string_value(json_object_get(spec, "holderIdentity"));
	bool held_by_other = holder && *holder && strcmp(holder, e->o.identity) != 0;
	if (held_by_other && kube_now_ms() - e->observed_ms < e->observed_lease_ms) {
		json_decref(lease);
		return 0;
	}
	json_t *fresh = our_spec(e, spec);
	json_object_set_new(lease, "spec", fresh); /* lease keeps metadata.resourceVersion */
	ret = kube_update(e->client, &KUBE_RES_LEASES, lease, NULL, e->err, e->errlen);
	if (ret == 0)
		observe(e, fresh);
	json_decref(lease);
	return ret == 0 ? 1 : ret == KUBE_ERR_CONFLICT ? 0 : ret;
}

static long jittered(long ms)
{
	return ms + kube_backoff_ms(0, ms / 5 + 1, ms / 5 + 1); /* up to +20% */
}

/* Tries every retry period until the lease is ours (1) or stop (0). */
static int acquire(struct election *e)
{
	for (;;) {
		if (kube_stop_requested(e->stop))
			return 0;
		int ret = try_acquire_or_renew(e);
		if (ret == 1)
			return 1;
		if (ret < 0)
			log_warn("leader election: cannot get lease", "lease", e->o.name, "error",
				 e->err);
		if (kube_stop_sleep(e->stop, jittered(e->o.retry_period_ms)))
			return 0;
	}
}

/* Renews every retry period; returns when renewing failed for the renew deadline (-ENOLINK),
 * someone else took the lease (-ENOLINK), or stop (0). */
static int renew(struct election *e)
{
	long last_renew = kube_now_ms();
	while (!kube_stop_sleep(e->stop, e->o.retry_period_ms)) {
		int ret = try_acquire_or_renew(e);
		if (ret == 1) {
			last_renew = kube_now_ms();
			continue;
		}
		if (ret == 0 && strcmp(e->holder, e->o.identity) != 0)
			return -ENOLINK; /* taken over */
		if (kube_now_ms() - last_renew >= e->o.renew_deadline_ms)
			return -ENOLINK;
	}
	return 0;
}

/* Clears the holder so that others need not wait for the lease to expire. */
static void release(struct election *e)
{
	json_t *lease = NULL;
	char now[KUBE_TIME_LEN];
	if (kube_get(e->client, &KUBE_RES_LEASES, e->o.ns, e->o.name, &lease, e->err, e->errlen))
		return;
	const char *holder = kube_json_string(lease, "spec.holderIdentity");
	if (holder && strcmp(holder, e->o.identity) == 0) {
		now_micro(now);
		json_t *spec = json_object_get(lease, "spec");
		json_object_set_new(spec, "holderIdentity", json_string(""));
		json_object_set_new(spec, "leaseDurationSeconds", json_integer(1));
		json_object_set_new(spec, "renewTime", json_string(now));
		kube_update(e->client, &KUBE_RES_LEASES, lease, NULL, e->err, e->errlen);
	}
	json_decref(lease);
}

static int fill_defaults(struct kube_leader_opts *o, char *err, size_t errlen)
{
	if (!o->ns || !o->name || !o->identity || !*o->identity)
		return errorf(err, errlen, -EINVAL,
			      "leader election: lease namespace, name and identity are required");
	if (o->lease_duration_ms <= 0)
		o->lease_duration_ms = KUBE_LEADER_LEASE_DURATION_MS;
	if (o->renew_deadline_ms <= 0)
		o->renew_deadline_ms = KUBE_LEADER_RENEW_DEADLINE_MS;
	if (o->retry_period_ms <= 0)
		o->retry_period_ms = KUBE_LEADER_RETRY_PERIOD_MS;
	if (o->renew_deadline_ms >= o->lease_duration_ms ||
	    o->retry_period_ms >= o->renew_deadline_ms)
		return errorf(err, errlen, -EINVAL,
			      "leader election: need retry period < renew "
			      "deadline < lease duration");
	return 0;
}

int kube_leader_run(struct kube_client *client, const struct kube_leader_opts *opts,
		    struct kube_stop *stop, char *err, size_t errlen)
{
	struct election e = {
	    .client = client, .o = *opts, .stop = stop, .err = err, .errlen = errlen};
	int ret = fill_defaults(&e.o, err, errlen);
	if (ret)
		return ret;
	struct kube_stop *lost = kube_stop_new();
	if (!lost)
		return errorf(err, errlen, -ENOMEM, "leader election: out of memory");
	if (acquire(&e)) {
		log_info("leader election: became leader", "lease", e.o.name, "identity",
			 e.o.identity);
		if (e.o.on_started_leading)
			e.o.on_started_leading(e.o.arg, lost);
		ret = renew(&e);
		kube_stop_signal(lost);
		if (ret == 0 && e.o.release_on_cancel)
			release(&e);
		if (ret) {
			log_warn("leader election: lost the lease", "lease", e.o.name, "error",
				 err);
			errorf(err, errlen, ret, "leader election: lost lease %s/%s", e.o.ns,
			       e.o.name);
		}
		log_info("leader election: stopped leading", "lease", e.o.name, "identity",
			 e.o.identity);
		if (e.o.on_stopped_leading)
			e.o.on_stopped_leading(e.o.arg);
	}
	kube_stop_free(lost);
	free(e.observed);
	return ret;
}

/* COIL_POD_NAME, else the host name plus a random suffix (like client-go's hostname_uuid), so
 * two candidates on one host never share an identity. */
static void candidate_identity(char *buf, size_t len)
{
	const char *pod = getenv("COIL_POD_NAME");
	char host[256] = "coil";
	unsigned char rnd[8] = {0};
	if (pod && *pod) {
		snprintf(buf, len, "%s", pod);
		return;
	}
	gethostname(host, sizeof(host) - 1);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		unsigned long mix =
		    (unsigned long)getpid() * 2654435761u ^ (unsigned long)time(NULL);
		memcpy(rnd, &mix, sizeof(rnd) < sizeof(mix) ? sizeof(rnd) : sizeof(mix));
	}
	snprintf(buf, len, "%s_%02x%02x%02x%02x%02x%02x%02x%02x", host, rnd[0], rnd[1], rnd[2],
		 rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
}

/* A Go duration from the environment in ms, or 0 (the default) when unset. */
static int env_duration_ms(const char *name, long *out, char *err, size_t errlen)
{
	const char *text = getenv(name);
	double seconds;
	*out = 0;
	if (!text || !*text)
		return 0;
	if (flags_parse_duration(text, &seconds) < 0 || seconds <= 0)
		return errorf(err, errlen, -EINVAL, "invalid %s: %s", name, text);
	*out = (long)(seconds * 1000);
	return 0;
}

/* Requests of the election must fail fast: a renew that hangs past the deadline is a loss. */
static int election_client(const struct kube_config *config, const struct kube_leader_opts *o,
			   struct kube_client **out, char *err, size_t errlen)
{
	long deadline = o->renew_deadline_ms > 0 ? o->renew_deadline_ms : 10000;
	struct kube_client_options co = {.max_tries = 1,
					 .timeout_ms = deadline / 2 > 1000 ? deadline / 2 : 1000};
	return kube_client_new(config, &co, out, err, errlen);
}

int kube_leader_campaign(const struct kube_config *config, const struct kube_leader_opts *opts,
			 struct kube_stop *stop, char *err, size_t errlen)
{
	char identity[320];
	struct kube_leader_opts o = *opts;
	struct kube_client *client = NULL;
	candidate_identity(identity, sizeof(identity));
	o.identity = identity;
	int ret = env_duration_ms("COIL_LEADER_LEASE_DURATION", &o.lease_duration_ms, err, errlen);
	if (ret == 0)
		ret = env_duration_ms("COIL_LEADER_RENEW_DEADLINE", &o.renew_deadline_ms, err,
				      errlen);
	if (ret == 0)
		ret = env_duration_ms("COIL_LEADER_RETRY_PERIOD", &o.retry_period_ms, err, errlen);
	if (ret == 0)
		ret = election_client(config, &o, &client, err, errlen);
	if (ret)
		return ret;
	log_info("waiting for leadership", "lease", o.name, "namespace", o.ns, "identity",
		 identity);
	ret = kube_leader_run(client, &o, stop, err, errlen);
	kube_client_free(client);
	return ret;
}
