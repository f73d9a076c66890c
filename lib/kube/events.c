/* events.k8s.io/v1 Events: what a controller did to which object, for `kubectl events`. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

void kube_object_ref_from(const json_t *obj, struct kube_object_ref *ref)
{
	ref->api_version = kube_json_string(obj, "apiVersion");
	ref->kind = kube_json_string(obj, "kind");
	ref->ns = kube_obj_namespace(obj);
	ref->name = kube_obj_name(obj);
	ref->uid = kube_obj_uid(obj);
	ref->resource_version = kube_obj_resource_version(obj);
}

static void set_if(json_t *obj, const char *key, const char *value)
{
	if (value && *value)
		json_object_set_new(obj, key, json_string(value));
}

static json_t *reference_json(const struct kube_object_ref *ref)
{
	json_t *out = json_object();
	set_if(out, "apiVersion", ref->api_version);
	set_if(out, "kind", ref->kind);
	set_if(out, "namespace", ref->ns);
	set_if(out, "name", ref->name);
	set_if(out, "uid", ref->uid);
	set_if(out, "resourceVersion", ref->resource_version);
	return out;
}

json_t *kube_event_build(const struct kube_event *ev, const struct timespec *now)
{
	if (!ev->regarding.name || !*ev->regarding.name || !ev->reason || !*ev->reason ||
	    !ev->type || (strcmp(ev->type, "Normal") != 0 && strcmp(ev->type, "Warning") != 0))
		return NULL;
	const char *ns = ev->ns					 ? ev->ns
			 : ev->regarding.ns && *ev->regarding.ns ? ev->regarding.ns
								 : "default";
	char time_text[KUBE_TIME_LEN], name[300];
	kube_time_format_micro(now, time_text);
	/* Unique like client-go's "<object>.<unix nanoseconds in hex>". */
	unsigned long long nanos =
	    (unsigned long long)now->tv_sec * 1000000000ULL + (unsigned long long)now->tv_nsec;
	snprintf(name, sizeof(name), "%.240s.%llx", ev->regarding.name, nanos);
	json_t *event = json_pack(
	    "{s:s,s:s,s:{s:s,s:s},s:s,s:o,s:s,s:s}", "apiVersion", "events.k8s.io/v1", "kind",
	    "Event", "metadata", "name", name, "namespace", ns, "eventTime", time_text, "regarding",
	    reference_json(&ev->regarding), "reason", ev->reason, "type", ev->type);
	if (!event)
		return NULL;
	set_if(event, "note", ev->note);
	set_if(event, "action", ev->action ? ev->action : ev->reason);
	set_if(event, "reportingController", ev->reporting_controller);
	set_if(event, "reportingInstance", ev->reporting_instance);
	return event;
}

int kube_event_create(struct kube_client *client, const struct kube_event *ev, json_t **out,
		      char *err, size_t errlen)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	json_t *event = kube_event_build(ev, &now);
	if (!event)
		return errorf(err, errlen, -EINVAL,
			      "event %s for %s: needs a regarding name, a reason and type Normal "
			      "or Warning",
			      ev->reason ? ev->reason : "(no reason)",
			      ev->regarding.name ? ev->regarding.name : "(no name)");
	int ret = kube_create(client, &KUBE_RES_EVENTS, NULL, event, out, err, errlen);
	json_decref(event);
	return ret;
}
