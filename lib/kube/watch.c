/* Watch streams: a chunked HTTP response carrying one JSON event per line. Lines may be split
 * across chunks, so bytes are buffered until a newline. The stream is reopened from the last
 * resourceVersion after server timeouts and dropped connections; 410 Gone ends it with
 * KUBE_ERR_GONE so the caller relists. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WATCH_LINE_MAX	  ((size_t)64 << 20)
#define WATCH_ERRBODY_MAX 4096

enum stream_end { STREAM_CONTINUE, STREAM_CALLBACK_DONE, STREAM_FAILED, STREAM_GONE };

struct stream {
	CURL *curl;
	struct kube_stop *stop;
	kube_watch_fn fn;
	void *arg;
	char *rv;
	size_t rvlen;
	char *buf; /* owned: bytes of an incomplete line, or an error response body */
	size_t len, cap;
	enum stream_end end;
	int result; /* the callback's return or an error */
	long events;
	long retry_after_s;
	char message[256];
};

static int grow(struct stream *s, size_t need)
{
	if (need <= s->cap)
		return 0;
	size_t cap = s->cap ? s->cap : 8192;
	while (cap < need)
		cap *= 2;
	char *bigger = cap > WATCH_LINE_MAX ? NULL : realloc(s->buf, cap);
	if (!bigger)
		return -ENOMEM;
	s->buf = bigger;
	s->cap = cap;
	return 0;
}

static int event_type(const char *text, enum kube_event_type *type)
{
	static const char *const names[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK"};
	for (int i = 0; i < 4; i++) {
		if (strcmp(text, names[i]) == 0) {
			*type = (enum kube_event_type)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* An ERROR event carries a Status; 410 means our resourceVersion fell out of the history. */
static void handle_error_event(struct stream *s, const json_t *status)
{
	json_int_t code = json_integer_value(json_object_get(status, "code"));
	const char *msg = json_string_value(json_object_get(status, "message"));
	snprintf(s->message, sizeof(s->message), "watch ERROR event %lld: %s", (long long)code,
		 msg ? msg : "(no message)");
	s->end = code == 410 ? STREAM_GONE : STREAM_FAILED;
	s->result = code == 410 ? KUBE_ERR_GONE : -EIO;
}

static void handle_line(struct stream *s, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *ev = json_loadb(line, len, 0, &jerr);
	const char *type_text = json_string_value(json_object_get(ev, "type"));
	json_t *obj = json_object_get(ev, "object");
	enum kube_event_type type;
	if (!type_text || !json_is_object(obj)) {
		snprintf(s->message, sizeof(s->message), "watch: malformed event: %s",
			 ev ? "no type or object" : jerr.text);
		s->end = STREAM_FAILED;
		s->result = -EBADMSG;
	} else if (strcmp(type_text, "ERROR") == 0) {
		handle_error_event(s, obj);
	} else if (event_type(type_text, &type) == 0) {
		const char *rv = kube_obj_resource_version(obj);
		if (rv && s->rv)
			snprintf(s->rv, s->rvlen, "%s", rv);
		s->events++;
		int ret = s->fn(s->arg, type, obj);
		if (ret != 0) {
			/* The caller's verdict ends the watch, whatever it is. */
			s->end = STREAM_CALLBACK_DONE;
			s->result = ret > 0 ? 0 : ret;
		}
	} /* unknown event types are skipped, as newer servers may add some */
	json_decref(ev);
}

/* Keeps at most WATCH_ERRBODY_MAX bytes of a non-200 response for its Status message. */
static size_t collect_error_body(struct stream *s, const char *data, size_t n)
{
	size_t keep = s->len + n > WATCH_ERRBODY_MAX ? WATCH_ERRBODY_MAX - s->len : n;
	if (keep && grow(s, s->len + keep + 1) == 0) {
		memcpy(s->buf + s->len, data, keep);
		s->len += keep;
		s->buf[s->len] = '\0';
	}
	return n;
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct stream *s = arg;
	size_t n = size * nmemb;
	long status = 0;
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return collect_error_body(s, data, n);
	if (grow(s, s->len + n + 1) < 0) {
		snprintf(s->message, sizeof(s->message), "watch: event line too long");
		s->end = STREAM_FAILED;
		s->result = -E2BIG;
		return 0;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	size_t start = 0;
	for (size_t i = 0; i < s->len && s->end == STREAM_CONTINUE; i++) {
		if (s->buf[i] != '\n')
			continue;
		if (i > start)
			handle_line(s, s->buf + start, i - start);
		start = i + 1;
	}
	memmove(s->buf, s->buf + start, s->len - start);
	s->len -= start;
	return s->end == STREAM_CONTINUE ? n : 0; /* 0 aborts the transfer */
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct stream *s = arg;
	size_t n = size * nmemb;
	if (n > 12 && strncasecmp(data, "retry-after:", 12) == 0)
		s->retry_after_s = kube_parse_retry_after(data + 12, n - 12);
	return n;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct stream *s = arg;
	return kube_stop_requested(s->stop) ? 1 : 0;
}

static char *watch_query(const struct kube_watch_opts *opts, const char *rv, long timeout_s)
{
	char *query = NULL;
	char timeout[24];
	snprintf(timeout, sizeof(timeout), "%ld", timeout_s);
	int ret = kube_query_add(&query, "watch", "true");
	if (!ret && opts->allow_bookmarks)
		ret = kube_query_add(&query, "allowWatchBookmarks", "true");
	if (!ret && rv && *rv)
		ret = kube_query_add(&query, "resourceVersion", rv);
	if (!ret)
		ret = kube_query_add(&query, "timeoutSeconds", timeout);
	if (!ret && opts->label_selector && *opts->label_selector)
		ret = kube_query_add(&query, "labelSelector", opts->label_selector);
	if (!ret && opts->field_selector && *opts->field_selector)
		ret = kube_query_add(&query, "fieldSelector", opts->field_selector);
	if (ret) {
		free(query);
		return NULL;
	}
	return query;
}

/* Runs one stream to its end. Returns 0 (details in s), or a negative errno when the request
 * could not be made. On return, *status is the HTTP status (0 if none) and *code the curl
 * result. */
static int run_stream(struct kube_client *client, const char *url, long timeout_s, struct stream *s,
		      long *status, CURLcode *code, char *err, size_t errlen)
{
	struct curl_slist *headers = NULL;
	int ret = kube_request_headers(client, NULL, &headers, err, errlen);
	if (ret)
		return ret;
	s->curl = kube_handle_get(client);
	if (!s->curl) {
		curl_slist_free_all(headers);
		return errorf(err, errlen, -ENOMEM, "watch %s: out of memory", url);
	}
	curl_easy_setopt(s->curl, CURLOPT_URL, url);
	curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(s->curl, CURLOPT_HTTPGET, 1L);
	/* A hard bound in case the server vanishes without closing the connection. */
	curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, (timeout_s + 30) * 1000L);
	curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(s->curl, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(s->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(s->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(s->curl, CURLOPT_XFERINFODATA, s);
	*code = curl_easy_perform(s->curl);
	*status = 0;
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, status);
	curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, NULL);
	/* A stream cut short leaves the connection in an unknown state: do not pool it. */
	if (*code == CURLE_OK)
		kube_handle_put(client, s->curl);
	else
		curl_easy_cleanup(s->curl);
	s->curl = NULL;
	curl_slist_free_all(headers);
	return 0;
}

enum next_step { STEP_RECONNECT, STEP_BACKOFF, STEP_RETURN };

/* Decides what follows a stream that ended; sets *ret for STEP_RETURN and the error text. */
static enum next_step after_stream(struct stream *s, long status, CURLcode code, const char *path,
				   int *ret, char *err, size_t errlen)
{
	if (s->end == STREAM_CALLBACK_DONE || kube_stop_requested(s->stop)) {
		*ret = s->end == STREAM_CALLBACK_DONE ? s->result : 0;
		if (*ret < 0)
			errorf(err, errlen, *ret, "watch %s: event handler failed: %s", path,
			       strerror(-*ret));
		return STEP_RETURN;
	}
	if (s->end == STREAM_GONE || status == 410) {
		*ret = errorf(err, errlen, KUBE_ERR_GONE, "watch %s: resourceVersion %s is gone",
			      path, s->rv && *s->rv ? s->rv : "(none)");
		return STEP_RETURN;
	}
	if (s->end == STREAM_FAILED) {
		*ret = errorf(err, errlen, s->result, "watch %s: %s", path, s->message);
		return STEP_BACKOFF;
	}
	if (status != 200 && status != 0) {
		*ret = kube_status_error(status, s->buf, s->len, "WATCH", path, err, errlen);
		return kube_status_retryable(status) ? STEP_BACKOFF : STEP_RETURN;
	}
	if (code != CURLE_OK) {
		*ret = errorf(err, errlen, kube_curl_errno(code), "watch %s: %s", path,
			      curl_easy_strerror(code));
		return STEP_BACKOFF;
	}
	return STEP_RECONNECT; /* the server closed the stream at its timeout */
}

static long default_timeout_s(void)
{
	return kube_backoff_ms(0, 600, 600); /* 300..600, like client-go's reflector */
}

int kube_watch(struct kube_client *client, const struct kube_resource *res, const char *ns,
	       const struct kube_watch_opts *opts, char *rv, size_t rvlen, kube_watch_fn fn,
	       void *arg, struct kube_stop *stop, char *err, size_t errlen)
{
	static const struct kube_watch_opts no_opts;
	char path[1024];
	int ret = kube_path(res, ns, NULL, NULL, path, sizeof(path));
	if (ret)
		return errorf(err, errlen, ret, "watch %s: invalid path", res->plural);
	if (!opts)
		opts = &no_opts;
	long timeout_s = opts->timeout_seconds > 0 ? opts->timeout_seconds : default_timeout_s();
	int failures = 0;
	for (;;) {
		char *query = watch_query(opts, rv, timeout_s);
		char *url = query ? kube_url(client, path, query) : NULL;
		free(query);
		if (!url)
			return errorf(err, errlen, -ENOMEM, "watch %s: out of memory", path);
		struct stream s = {.stop = stop,
				   .fn = fn,
				   .arg = arg,
				   .rv = rv,
				   .rvlen = rvlen,
				   .retry_after_s = -1};
		long status = 0, started = kube_now_ms();
		CURLcode code = CURLE_OK;
		ret = run_stream(client, url, timeout_s, &s, &status, &code, err, errlen);
		free(url);
		enum next_step step =
		    ret ? STEP_RETURN : after_stream(&s, status, code, path, &ret, err, errlen);
		free(s.buf);
		if (step == STEP_RETURN)
			return ret;
		/* A stream that delivered events or lasted a while was healthy. */
		bool healthy = s.events > 0 || kube_now_ms() - started > 1000;
		if (step == STEP_RECONNECT && healthy) {
			failures = 0;
			continue;
		}
		failures++;
		if (opts->max_failures > 0 && failures >= opts->max_failures)
			return ret ? ret
				   : errorf(err, errlen, -EIO, "watch %s: keeps failing", path);
		long delay = kube_backoff_ms(failures - 1, client->opts.backoff_base_ms,
					     client->opts.backoff_max_ms);
		if (s.retry_after_s >= 0 && s.retry_after_s * 1000 > delay)
			delay = s.retry_after_s * 1000;
		if (kube_stop_sleep(stop, delay))
			return 0;
	}
}
