/* libcurl plumbing: a pool of easy handles (so kept-alive connections are reused by whichever
 * thread sends the next request), TLS and authentication settings, bearer tokens from files
 * that are re-read when they change, and mapping of failures to errnos. */
#include "internal.h"
#include "fileio/fileio.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_global(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void kube_curl_global_init(void)
{
	pthread_once(&curl_once, curl_global);
}

static void set_blob(CURL *curl, CURLoption option, const char *pem)
{
	struct curl_blob blob = {(void *)pem, strlen(pem), CURL_BLOB_COPY};
	curl_easy_setopt(curl, option, &blob);
}

/* Everything that stays the same across requests: TLS, client certificates, timeouts. */
static void apply_settings(const struct kube_client *client, CURL *curl)
{
	const struct kube_config *cfg = client->config;
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L); /* no SIGALRM in threaded programs */
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_USERAGENT, client->user_agent);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)KUBE_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, cfg->insecure_skip_tls_verify ? 0L : 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, cfg->insecure_skip_tls_verify ? 0L : 2L);
	if (cfg->ca_pem)
		set_blob(curl, CURLOPT_CAINFO_BLOB, cfg->ca_pem);
	else if (cfg->ca_file)
		curl_easy_setopt(curl, CURLOPT_CAINFO, cfg->ca_file);
	if (cfg->client_cert_pem) {
		set_blob(curl, CURLOPT_SSLCERT_BLOB, cfg->client_cert_pem);
		curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
	} else if (cfg->client_cert_file) {
		curl_easy_setopt(curl, CURLOPT_SSLCERT, cfg->client_cert_file);
	}
	if (cfg->client_key_pem) {
		set_blob(curl, CURLOPT_SSLKEY_BLOB, cfg->client_key_pem);
		curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
	} else if (cfg->client_key_file) {
		curl_easy_setopt(curl, CURLOPT_SSLKEY, cfg->client_key_file);
	}
}

CURL *kube_handle_get(struct kube_client *client)
{
	CURL *curl = NULL;
	pthread_mutex_lock(&client->pool_lock);
	if (client->nidle > 0)
		curl = client->idle[--client->nidle];
	pthread_mutex_unlock(&client->pool_lock);
	if (curl)
		curl_easy_reset(curl); /* options go, the connection cache stays */
	else
		curl = curl_easy_init();
	if (curl)
		apply_settings(client, curl);
	return curl;
}

void kube_handle_put(struct kube_client *client, CURL *curl)
{
	if (!curl)
		return;
	pthread_mutex_lock(&client->pool_lock);
	if (client->nidle < KUBE_MAX_IDLE_HANDLES) {
		client->idle[client->nidle++] = curl;
		curl = NULL;
	}
	pthread_mutex_unlock(&client->pool_lock);
	if (curl)
		curl_easy_cleanup(curl);
}

static bool same_file(const struct kube_token *token, const struct stat *st)
{
	return st->st_mtim.tv_sec == token->mtime.tv_sec &&
	       st->st_mtim.tv_nsec == token->mtime.tv_nsec && st->st_size == token->size &&
	       st->st_ino == token->ino;
}

#define KUBE_TOKEN_FILE_MAX 16383 /* service account tokens are about 1 KiB */

/* Re-reads the token file if it changed since the last read. Called with the lock held. A
 * failed read keeps the previous token: projected tokens are replaced atomically, so a
 * failure is transient or the old token is as good as any. */
static int refresh_token_file(struct kube_token *token, char *err, size_t errlen)
{
	struct stat st;
	if (stat(token->file, &st) != 0) {
		if (token->value)
			return 0;
		return errorf(err, errlen, -errno, "token file %s: %s", token->file,
			      strerror(errno));
	}
	if (token->value && same_file(token, &st))
		return 0;
	char *buf;
	size_t n;
	int rc = fileio_read_file_at(AT_FDCWD, token->file, KUBE_TOKEN_FILE_MAX, &buf, &n);
	if (rc < 0)
		return token->value ? 0
				    : errorf(err, errlen, rc, "token file %s: %s", token->file,
					     strerror(-rc));
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	free(token->value);
	token->value = buf; /* now owned by token */
	token->mtime = st.st_mtim;
	token->size = st.st_size;
	token->ino = st.st_ino;
	return 0;
}

int kube_token_current(struct kube_token *token, char *buf, size_t len, char *err, size_t errlen)
{
	int ret = 0;
	pthread_mutex_lock(&token->lock);
	if (token->file)
		ret = refresh_token_file(token, err, errlen);
	if (ret == 0 && snprintf(buf, len, "%s", token->value ? token->value : "") >= (int)len)
		ret = errorf(err, errlen, -E2BIG, "bearer token too long");
	pthread_mutex_unlock(&token->lock);
	return ret;
}

int kube_request_headers(struct kube_client *client, const char *content_type,
			 struct curl_slist **out, char *err, size_t errlen)
{
	char token[16384], line[16448];
	int ret = kube_token_current(&client->token, token, sizeof(token), err, errlen);
	if (ret)
		return ret;
	struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
	/* No "Expect: 100-continue" round trip before large bodies. */
	if (headers)
		headers = curl_slist_append(headers, "Expect:");
	if (headers && content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", content_type);
		headers = curl_slist_append(headers, line);
	}
	if (headers && token[0]) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
		headers = curl_slist_append(headers, line);
	}
	explicit_bzero(token, sizeof(token));
	explicit_bzero(line, sizeof(line));
	if (!headers)
		return errorf(err, errlen, -ENOMEM, "request headers: out of memory");
	*out = headers;
	return 0;
}

char *kube_url(const struct kube_client *client, const char *path, const char *query)
{
	char *url;
	bool has_query = query && *query;
	if (asprintf(&url, "%s%s%s%s", client->config->server, path, has_query ? "?" : "",
		     has_query ? query : "") < 0)
		return NULL;
	return url;
}

int kube_curl_errno(CURLcode code)
{
	switch (code) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return -ECONNRESET;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_ABORTED_BY_CALLBACK:
	case CURLE_WRITE_ERROR:
		return -ECANCELED;
	default:
		return -EPROTO; /* TLS verification, bad URLs, …: retrying will not help */
	}
}

bool kube_status_retryable(long status)
{
	return status == 429 || (status >= 500 && status <= 599);
}

long kube_parse_retry_after(const char *value, size_t len)
{
	long seconds = 0;
	size_t i = 0, digits = 0;
	while (i < len && (value[i] == ' ' || value[i] == '\t'))
		i++;
	for (; i < len && value[i] >= '0' && value[i] <= '9'; i++, digits++) {
		if (seconds > 86400)
			return 86400;
		seconds = seconds * 10 + (value[i] - '0');
	}
	while (i < len &&
	       (value[i] == ' ' || value[i] == '\t' || value[i] == '\r' || value[i] == '\n'))
		i++;
	return digits > 0 && i == len ? seconds : -1;
}

int kube_parse_warning(const char *value, size_t len, char *text, size_t textlen)
{
	size_t i = 0, digits = 0, out = 0;
	if (textlen == 0)
		return -EINVAL;
	text[0] = '\0';
	while (i < len && (value[i] == ' ' || value[i] == '\t'))
		i++;
	for (; i < len && value[i] >= '0' && value[i] <= '9'; i++)
		digits++;
	if (digits != 3 || i >= len || value[i++] != ' ')
		return -EINVAL;
	while (i < len && value[i] != ' ') /* the agent: a host or "-" */
		i++;
	if (i + 1 >= len || value[i + 1] != '"')
		return -EINVAL;
	for (i += 2; i < len && value[i] != '"'; i++) {
		if (value[i] == '\\' && ++i >= len)
			return -EINVAL;
		if (out + 1 < textlen)
			text[out++] = value[i];
	}
	text[out] = '\0';
	return i < len ? 0 : -EINVAL; /* the closing quote */
}

static int status_errno(long status, const char *reason)
{
	switch (status) {
	case 400:
	case 415:
	case 422:
		return -EINVAL;
	case 401:
		return -EACCES;
	case 403:
		return -EPERM;
	case 404:
		return -ENOENT;
	case 405:
		return -EOPNOTSUPP;
	case 409:
		return reason && strcmp(reason, "AlreadyExists") == 0 ? -EEXIST : KUBE_ERR_CONFLICT;
	case 410:
		return KUBE_ERR_GONE;
	case 413:
		return -E2BIG;
	case 429:
		return -EBUSY;
	default:
		return status >= 500 ? -EIO : -EPROTO;
	}
}

int kube_status_error(long status, const char *body, size_t len, const char *method,
		      const char *path, char *err, size_t errlen)
{
	json_t *st = body && len ? json_loadb(body, len, 0, NULL) : NULL;
	const char *reason = json_string_value(json_object_get(st, "reason"));
	const char *message = json_string_value(json_object_get(st, "message"));
	int code = status_errno(status, reason);
	errorf(err, errlen, code, "%s %s: HTTP %ld%s%s: %s", method, path, status,
	       reason ? " " : "", reason ? reason : "",
	       message ? message : (st || !len ? "(no message)" : "(not a Status)"));
	json_decref(st);
	return code;
}
