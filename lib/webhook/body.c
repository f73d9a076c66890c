/* webhook_handle_body: HTTP request bytes to HTTP reply around
 * webhook_review(). */
#include "webhook.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reply_text(struct webhook_reply *reply, int status, const char *text)
{
	reply->status = status;
	reply->content_type = "text/plain; charset=utf-8";
	reply->body = strdup(text);
	if (!reply->body) {
		reply->status = 500;
		return -ENOMEM;
	}
	return 0;
}

int webhook_handle_body(enum webhook_kind kind, const char *body, size_t len,
			struct webhook_reply *reply)
{
	*reply = (struct webhook_reply){.status = 500};
	char err[512];
	if (len > WEBHOOK_MAX_BODY) {
		snprintf(err, sizeof(err),
			 "request body of %zu bytes exceeds the limit of %u bytes", len,
			 WEBHOOK_MAX_BODY);
		return reply_text(reply, 413, err);
	}
	if (len == 0)
		return reply_text(reply, 400, "request body is empty");
	json_error_t jerr;
	json_t *review = json_loadb(body, len, 0, &jerr);
	if (!review) {
		snprintf(err, sizeof(err), "invalid JSON in request body at line %d column %d: %s",
			 jerr.line, jerr.column, jerr.text);
		return reply_text(reply, 400, err);
	}
	json_t *answer = webhook_review(kind, review, err, sizeof(err));
	json_decref(review);
	if (!answer)
		return reply_text(reply, 400, err);
	reply->body = json_dumps(answer, JSON_COMPACT);
	json_decref(answer);
	if (!reply->body)
		return -ENOMEM;
	reply->status = 200;
	reply->content_type = "application/json";
	return 0;
}
