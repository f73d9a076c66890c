/* Requests: one HTTP exchange at a time through a pooled handle, retried with jittered
 * exponential backoff on 429, 5xx and connection failures (honouring Retry-After) until
 * max_tries or the deadline; other errors surface with the Status reason and message.
 * Warning headers (deprecations, finalizer names, ...) are logged, never an error, as
 * client-go's default warning handler does. */
#include "internal.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KUBE_RESPONSE_MAX ((size_t)1 << 30)

struct response {
	long status;
	char *body; /* owned; NUL-terminated */
	size_t len, cap;
	long retry_after_s;	   /* -1 = none */
	const char *method, *path; /* borrowed: what the warnings logged are about */
};

static size_t collect_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct response *resp = arg;
	size_t n = size * nmemb;
	if (resp->len + n + 1 > resp->cap) {
		size_t cap = resp->cap ? resp->cap : 4096;
		while (cap < resp->len + n + 1)
			cap *= 2;
		char *bigger = cap > KUBE_RESPONSE_MAX ? NULL : realloc(resp->body, cap);
		if (!bigger)
			return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
		resp->body = bigger;
		resp->cap = cap;
	}
	memcpy(resp->body + resp->len, data, n);
	resp->len += n;
	resp->body[resp->len] = '\0';
	return n;
}

static void log_warning_header(const struct response *resp, const char *value, size_t len)
{
	char text[1024];
	while (len > 0 && (value[len - 1] == '\r' || value[len - 1] == '\n'))
		len--;
	if (kube_parse_warning(value, len, text, sizeof(text)) < 0)
		snprintf(text, sizeof(text), "%.*s", (int)len, value); /* as it came */
	log_warn("API server warning", "method", resp->method, "path", resp->path, "warning", text);
}

static size_t collect_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct response *resp = arg;
	size_t n = size * nmemb;
	static const char retry[] = "retry-after:", warning[] = "warning:";
	if (n > sizeof(retry) - 1 && strncasecmp(data, retry, sizeof(retry) - 1) == 0)
		resp->retry_after_s =
		    kube_parse_retry_after(data + sizeof(retry) - 1, n - (sizeof(retry) - 1));
	else if (n > sizeof(warning) - 1 && strncasecmp(data, warning, sizeof(warning) - 1) == 0)
		log_warning_header(resp, data + sizeof(warning) - 1, n - (sizeof(warning) - 1));
	return n;
}

static void response_reset(struct response *resp)
{
	free(resp->body);
	*resp = (struct response){.retry_after_s = -1, .method = resp->method, .path = resp->path};
}

/* One exchange. Returns 0 when an HTTP response arrived (any status), else a negative errno. */
static int perform_once(struct kube_client *client, const char *method, const char *url,
			const char *body, const char *content_type, struct response *resp,
			char *err, size_t errlen)
{
	struct curl_slist *headers = NULL;
	char curl_err[CURL_ERROR_SIZE] = "";
	int ret = kube_request_headers(client, body ? content_type : NULL, &headers, err, errlen);
	if (ret)
		return ret;
	CURL *curl = kube_handle_get(client);
	if (!curl) {
		curl_slist_free_all(headers);
		return errorf(err, errlen, -ENOMEM, "%s %s: out of memory", method, url);
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, client->opts.timeout_ms);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, resp);
	if (body) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	}
	CURLcode code = curl_easy_perform(curl);
	if (code == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
	else
		ret = errorf(err, errlen, kube_curl_errno(code), "%s %s: %s", method, url,
			     curl_err[0] ? curl_err : curl_easy_strerror(code));
	/* The handle's options point at our headers and buffers: unhook them before pooling. */
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
	kube_handle_put(client, curl);
	curl_slist_free_all(headers);
	return ret;
}

static bool errno_retryable(int ret)
{
	return ret == -ECONNREFUSED || ret == -ECONNRESET || ret == -ETIMEDOUT ||
	       ret == -EHOSTUNREACH;
}

static int decode_body(const struct response *resp, const char *method, const char *path,
		       json_t **out, char *err, size_t errlen)
{
	if (!out)
		return 0;
	if (resp->len == 0) {
		*out = json_null();
		return 0;
	}
	json_error_t jerr;
	*out = json_loadb(resp->body, resp->len, 0, &jerr);
	if (!*out)
		return errorf(err, errlen, -EBADMSG, "%s %s: response is not JSON: %s", method,
			      path, jerr.text);
	return 0;
}

/* How long to wait before the next try, or -1 to give up. */
static long retry_delay(const struct kube_client *client, int attempt, long started_ms,
			long retry_after_s)
{
	if (attempt + 1 >= client->opts.max_tries)
		return -1;
	long delay =
	    kube_backoff_ms(attempt, client->opts.backoff_base_ms, client->opts.backoff_max_ms);
	if (retry_after_s >= 0 && retry_after_s * 1000 > delay)
		delay = retry_after_s * 1000;
	if (kube_now_ms() + delay - started_ms > client->opts.deadline_ms)
		return -1;
	return delay;
}

int kube_request(struct kube_client *client, const char *method, const char *path,
		 const char *query, const json_t *body, const char *content_type, json_t **out,
		 char *err, size_t errlen)
{
	char *body_text = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	char *url = kube_url(client, path, query);
	struct response resp = {.retry_after_s = -1, .method = method, .path = path};
	long started = kube_now_ms();
	int ret = -ENOMEM;
	if (!url || (body && !body_text))
		goto done;
	for (int attempt = 0;; attempt++) {
		response_reset(&resp);
		ret = perform_once(client, method, url, body_text,
				   content_type ? content_type : "application/json", &resp, err,
				   errlen);
		if (ret == 0 && resp.status >= 200 && resp.status < 300) {
			ret = decode_body(&resp, method, path, out, err, errlen);
			break;
		}
		if (ret == 0)
			ret = kube_status_error(resp.status, resp.body, resp.len, method, path, err,
						errlen);
		bool retryable =
		    resp.status ? kube_status_retryable(resp.status) : errno_retryable(ret);
		long delay =
		    retryable ? retry_delay(client, attempt, started, resp.retry_after_s) : -1;
		if (delay < 0)
			break;
		struct timespec ts = {delay / 1000, (delay % 1000) * 1000000L};
		while (nanosleep(&ts, &ts) != 0)
			;
	}
done:
	response_reset(&resp);
	free(body_text);
	free(url);
	if (ret == -ENOMEM && (!url || (body && !body_text)))
		errorf(err, errlen, ret, "%s %s: out of memory", method, path);
	return ret;
}

static const struct kube_client_options default_options = {
    .max_tries = 5,
    .deadline_ms = 60000,
    .backoff_base_ms = 200,
    .backoff_max_ms = 10000,
    .timeout_ms = 30000,
};

static void fill_options(struct kube_client_options *dst, const struct kube_client_options *src)
{
	*dst = src ? *src : default_options;
	if (dst->max_tries <= 0)
		dst->max_tries = default_options.max_tries;
	if (dst->deadline_ms <= 0)
		dst->deadline_ms = default_options.deadline_ms;
	if (dst->backoff_base_ms <= 0)
		dst->backoff_base_ms = default_options.backoff_base_ms;
	if (dst->backoff_max_ms <= 0)
		dst->backoff_max_ms = default_options.backoff_max_ms;
	if (dst->timeout_ms <= 0)
		dst->timeout_ms = default_options.timeout_ms;
	dst->user_agent = NULL; /* copied into the client's own buffer */
}

static int copy_field(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -ENOMEM : 0;
}

static struct kube_config *config_copy(const struct kube_config *src)
{
	struct kube_config *dst = calloc(1, sizeof(*dst));
	if (!dst)
		return NULL;
	dst->insecure_skip_tls_verify = src->insecure_skip_tls_verify;
	int ret = copy_field(&dst->server, src->server) | copy_field(&dst->ca_file, src->ca_file) |
		  copy_field(&dst->ca_pem, src->ca_pem) |
		  copy_field(&dst->client_cert_file, src->client_cert_file) |
		  copy_field(&dst->client_key_file, src->client_key_file) |
		  copy_field(&dst->client_cert_pem, src->client_cert_pem) |
		  copy_field(&dst->client_key_pem, src->client_key_pem) |
		  copy_field(&dst->token, src->token) |
		  copy_field(&dst->token_file, src->token_file) |
		  copy_field(&dst->namespace, src->namespace ? src->namespace : "default");
	if (ret) {
		kube_config_free(dst);
		return NULL;
	}
	return dst;
}

int kube_client_new(const struct kube_config *config, const struct kube_client_options *opts,
		    struct kube_client **out, char *err, size_t errlen)
{
	if (!config || !config->server || !*config->server)
		return errorf(err, errlen, -EINVAL, "kube client: no server configured");
	kube_curl_global_init();
	struct kube_client *client = calloc(1, sizeof(*client));
	if (!client || !(client->config = config_copy(config))) {
		free(client);
		return errorf(err, errlen, -ENOMEM, "kube client: out of memory");
	}
	fill_options(&client->opts, opts);
	snprintf(client->user_agent, sizeof(client->user_agent), "%s",
		 opts && opts->user_agent ? opts->user_agent : "coil/" COIL_BUILD_VERSION);
	pthread_mutex_init(&client->pool_lock, NULL);
	pthread_mutex_init(&client->token.lock, NULL);
	/* A token file wins over a fixed token: it is the one that gets rotated. */
	if (config->token_file)
		client->token.file = strdup(config->token_file);
	else if (config->token)
		client->token.value = strdup(config->token);
	if ((config->token_file && !client->token.file) ||
	    (!config->token_file && config->token && !client->token.value)) {
		kube_client_free(client);
		return errorf(err, errlen, -ENOMEM, "kube client: out of memory");
	}
	*out = client;
	return 0;
}

void kube_client_free(struct kube_client *client)
{
	if (!client)
		return;
	for (int i = 0; i < client->nidle; i++)
		curl_easy_cleanup(client->idle[i]);
	pthread_mutex_destroy(&client->pool_lock);
	pthread_mutex_destroy(&client->token.lock);
	if (client->token.value)
		explicit_bzero(client->token.value, strlen(client->token.value));
	free(client->token.value);
	free(client->token.file);
	kube_config_free(client->config);
	free(client);
}

const char *kube_client_namespace(const struct kube_client *client)
{
	return client->config->namespace;
}
