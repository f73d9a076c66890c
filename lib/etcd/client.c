/* The etcd client: configuration, endpoint list, HTTP over libcurl and authentication. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err/err.h"
#include "internal.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_global(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

/* Splits "a,b,,c" into owned strings, dropping empty elements and trailing slashes. */
static int split_endpoints(struct etcd_client *c, const char *list, char *err, size_t errlen)
{
	const char *p = list ? list : "";
	while (*p) {
		size_t len = strcspn(p, ",");
		while (len > 0 && p[len - 1] == '/')
			len--;
		if (len > 0) {
			char **grown = realloc(c->endpoints, (c->n_endpoints + 1) * sizeof(*grown));
			if (!grown)
				return errorf(err, errlen, -ENOMEM, "out of memory");
			c->endpoints = grown;
			if (!(c->endpoints[c->n_endpoints] = strndup(p, len)))
				return errorf(err, errlen, -ENOMEM, "out of memory");
			c->n_endpoints++;
		}
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
	}
	return c->n_endpoints ? 0 : errorf(err, errlen, -EINVAL, "no endpoints");
}

static long to_ms(double seconds, long fallback)
{
	return seconds > 0 ? (long)(seconds * 1000.0 + 0.5) : fallback;
}

static size_t collect(char *data, size_t size, size_t nmemb, void *arg)
{
	struct {
		char *buf;
		size_t len;
	} *body = arg;
	size_t n = size * nmemb;
	char *grown = realloc(body->buf, body->len + n + 1);
	if (!grown)
		return 0; /* curl reports a write error */
	memcpy(grown + body->len, data, n);
	body->len += n;
	grown[body->len] = '\0';
	body->buf = grown;
	return n;
}

static void apply_tls(const struct etcd_client *c, CURL *curl)
{
	if (c->ca_file)
		curl_easy_setopt(curl, CURLOPT_CAINFO, c->ca_file);
	if (c->cert_file && c->key_file) {
		curl_easy_setopt(curl, CURLOPT_SSLCERT, c->cert_file);
		curl_easy_setopt(curl, CURLOPT_SSLKEY, c->key_file);
	}
}

/* A gateway error answer: {"error": "...", "message": "...", "code": N}. */
static int gateway_error(const char *url, long status, const char *text, char *err, size_t errlen)
{
	json_t *doc = json_loads(text ? text : "", 0, NULL);
	const char *msg = json_string_value(json_object_get(doc, "message"));
	if (!msg)
		msg = json_string_value(json_object_get(doc, "error"));
	int code = status == 401 || status == 403 ? -EACCES : status == 404 ? -ENOENT : -EIO;
	if (msg && strstr(msg, "authentication"))
		code = -EACCES;
	errorf(err, errlen, code, "etcd %s: HTTP %ld: %s", url, status,
	       msg ? msg : (text && *text ? text : "no message"));
	json_decref(doc);
	return code;
}

/* One POST to one endpoint. Returns 0, a gateway error (> HTTP 400) as -EACCES/-EIO, or
 * -ECONNREFUSED when the endpoint could not be reached (try the next one). */
static int post_one(struct etcd_client *c, const char *endpoint, const char *path,
		    const char *payload, json_t **out, char *err, size_t errlen)
{
	char url[1024], auth[2048];
	if (snprintf(url, sizeof(url), "%s%s", endpoint, path) >= (int)sizeof(url))
		return errorf(err, errlen, -ENAMETOOLONG, "etcd endpoint too long: %s", endpoint);
	CURL *curl = curl_easy_init();
	if (!curl)
		return errorf(err, errlen, -ENOMEM, "curl_easy_init failed");
	struct {
		char *buf;
		size_t len;
	} body = {NULL, 0};
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (c->token) {
		snprintf(auth, sizeof(auth), "Authorization: %s", c->token);
		headers = curl_slist_append(headers, auth);
	}
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, c->dial_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, c->request_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
	apply_tls(c, curl);
	CURLcode rc = curl_easy_perform(curl);
	long status = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	int ret = 0;
	if (rc != CURLE_OK) {
		ret =
		    errorf(err, errlen, -ECONNREFUSED, "etcd %s: %s", url, curl_easy_strerror(rc));
	} else if (status >= 400 || status < 200) {
		ret = gateway_error(url, status, body.buf, err, errlen);
	} else {
		json_error_t jerr;
		*out = json_loads(body.buf ? body.buf : "", 0, &jerr);
		if (!*out)
			ret = errorf(err, errlen, -EPROTO, "etcd %s: invalid JSON answer: %s", url,
				     jerr.text);
	}
	free(body.buf);
	return ret;
}

static int authenticate(struct etcd_client *c, char *err, size_t errlen);

/* etcd_post without the renewal of an expired token. */
static int post_any(struct etcd_client *client, const char *path, const json_t *body, json_t **out,
		    char *err, size_t errlen)
{
	char *payload = json_dumps(body, JSON_COMPACT);
	if (!payload)
		return errorf(err, errlen, -ENOMEM, "out of memory");
	int ret = -ECONNREFUSED;
	for (size_t i = 0; i < client->n_endpoints; i++) {
		ret = post_one(client, client->endpoints[i], path, payload, out, err, errlen);
		if (ret == -ENOENT && strncmp(path, "/v3/", 4) == 0) {
			/* etcd 3.3 serves the gateway only under /v3beta/. */
			char beta[256];
			snprintf(beta, sizeof(beta), "/v3beta/%s", path + 4);
			ret =
			    post_one(client, client->endpoints[i], beta, payload, out, err, errlen);
		}
		if (ret != -ECONNREFUSED)
			break; /* an answer, good or bad: other members would say the same */
	}
	free(payload);
	return ret;
}

#define AUTHENTICATE_PATH "/v3/auth/authenticate"

/* etcd's tokens expire after a while without use (--auth-token-ttl, 5 min by default), and a
 * dump waits for v1's objects to go between its two readings: a refused token is renewed
 * once with the password, then the request is repeated. */
int etcd_post(struct etcd_client *client, const char *path, const json_t *body, json_t **out,
	      char *err, size_t errlen)
{
	int ret = post_any(client, path, body, out, err, errlen);
	if (ret != -EACCES || !client->token || strcmp(path, AUTHENTICATE_PATH) == 0)
		return ret;
	free(client->token);
	client->token = NULL;
	ret = authenticate(client, err, errlen);
	return ret < 0 ? ret : post_any(client, path, body, out, err, errlen);
}

static int authenticate(struct etcd_client *c, char *err, size_t errlen)
{
	json_t *req = json_pack("{s:s, s:s}", "name", c->username, "password",
				c->password ? c->password : "");
	json_t *resp = NULL;
	int ret = req ? post_any(c, AUTHENTICATE_PATH, req, &resp, err, errlen)
		      : errorf(err, errlen, -ENOMEM, "out of memory");
	json_decref(req);
	if (ret < 0)
		return ret;
	const char *token = json_string_value(json_object_get(resp, "token"));
	if (!token || !*token)
		ret = errorf(err, errlen, -EPROTO, "etcd authentication: no token in the answer");
	else if (!(c->token = strdup(token)))
		ret = errorf(err, errlen, -ENOMEM, "out of memory");
	json_decref(resp);
	return ret;
}

int etcd_client_new(const struct etcd_config *config, struct etcd_client **out, char *err,
		    size_t errlen)
{
	pthread_once(&curl_once, curl_global);
	struct etcd_client *c = calloc(1, sizeof(*c));
	if (!c)
		return errorf(err, errlen, -ENOMEM, "out of memory");
	int ret = split_endpoints(c, config->endpoints, err, errlen);
	c->prefix = strdup(config->prefix ? config->prefix : "");
	c->dial_timeout_ms = to_ms(config->dial_timeout_s, 2000);
	c->request_timeout_ms = to_ms(config->request_timeout_s, 30000);
	c->username = dup_or_null(config->username);
	c->password = dup_or_null(config->password);
	c->ca_file = dup_or_null(config->ca_file);
	c->cert_file = dup_or_null(config->cert_file);
	c->key_file = dup_or_null(config->key_file);
	if (ret == 0 && !c->prefix)
		ret = errorf(err, errlen, -ENOMEM, "out of memory");
	if (ret == 0 && c->username)
		ret = authenticate(c, err, errlen);
	if (ret < 0) {
		etcd_client_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

void etcd_client_free(struct etcd_client *client)
{
	if (!client)
		return;
	for (size_t i = 0; i < client->n_endpoints; i++)
		free(client->endpoints[i]);
	free(client->endpoints);
	free(client->prefix);
	free(client->username);
	free(client->password);
	free(client->ca_file);
	free(client->cert_file);
	free(client->key_file);
	free(client->token);
	free(client);
}
