#include "metrics/metrics.h"

#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct series {
	char *labels;
	double value;
	struct series *next;
};

struct family {
	char *name;
	char *help;
	enum metric_type type;
	struct series *series; /* in creation order */
	struct family *next;
};

struct metrics {
	pthread_mutex_t lock;
	struct family *families; /* in declaration order */
	bool process;		 /* render the process_* metrics too */
};

struct metrics *metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(*m));
	if (m)
		pthread_mutex_init(&m->lock, NULL);
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (struct family *f = m->families, *fn; f; f = fn) {
		fn = f->next;
		for (struct series *s = f->series, *sn; s; s = sn) {
			sn = s->next;
			free(s->labels);
			free(s);
		}
		free(f->name);
		free(f->help);
		free(f);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static struct family *find_family(struct metrics *m, const char *name)
{
	for (struct family *f = m->families; f; f = f->next) {
		if (strcmp(f->name, name) == 0)
			return f;
	}
	return NULL;
}

int metrics_declare(struct metrics *m, const char *name, enum metric_type type, const char *help)
{
	pthread_mutex_lock(&m->lock);
	int rc = 0;
	if (!find_family(m, name)) {
		struct family *f = calloc(1, sizeof(*f)), **tail = &m->families;
		if (f) {
			f->name = strdup(name);
			f->help = strdup(help);
		}
		if (!f || !f->name || !f->help) {
			if (f) {
				free(f->name);
				free(f->help);
			}
			free(f);
			rc = -ENOMEM;
		} else {
			f->type = type;
			while (*tail)
				tail = &(*tail)->next;
			*tail = f;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* Finds or creates the series; called with the lock held. */
static struct series *get_series(struct family *f, const char *labels)
{
	struct series **tail = &f->series;
	for (; *tail; tail = &(*tail)->next) {
		if (strcmp((*tail)->labels, labels) == 0)
			return *tail;
	}
	struct series *s = calloc(1, sizeof(*s));
	if (!s || !(s->labels = strdup(labels))) {
		free(s);
		return NULL;
	}
	*tail = s;
	return s;
}

static int update(struct metrics *m, const char *name, const char *labels, double v, int add)
{
	pthread_mutex_lock(&m->lock);
	int rc = -ENOENT;
	struct family *f = find_family(m, name);
	if (f) {
		struct series *s = get_series(f, labels);
		rc = s ? 0 : -ENOMEM;
		if (s)
			s->value = add ? s->value + v : v;
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int metrics_add(struct metrics *m, const char *name, const char *labels, double delta)
{
	return update(m, name, labels, delta, 1);
}

int metrics_set(struct metrics *m, const char *name, const char *labels, double value)
{
	return update(m, name, labels, value, 0);
}

int metrics_delete(struct metrics *m, const char *name, const char *labels)
{
	pthread_mutex_lock(&m->lock);
	int rc = -ENOENT;
	struct family *f = find_family(m, name);
	for (struct series **p = f ? &f->series : NULL; p && *p; p = &(*p)->next) {
		if (strcmp((*p)->labels, labels) == 0) {
			struct series *gone = *p;
			*p = gone->next;
			free(gone->labels);
			free(gone);
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

void metrics_add_process(struct metrics *m)
{
	pthread_mutex_lock(&m->lock);
	m->process = true;
	pthread_mutex_unlock(&m->lock);
}

static void render_family(FILE *out, const struct family *f)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
		f->type == METRIC_COUNTER ? "counter" : "gauge");
	for (const struct series *s = f->series; s; s = s->next) {
		if (s->labels[0])
			fprintf(out, "%s{%s} %.17g\n", f->name, s->labels, s->value);
		else
			fprintf(out, "%s %.17g\n", f->name, s->value);
	}
}

char *metrics_render(struct metrics *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	if (!out)
		return NULL;
	pthread_mutex_lock(&m->lock);
	for (const struct family *f = m->families; f; f = f->next) {
		if (f->series)
			render_family(out, f);
	}
	bool process = m->process;
	pthread_mutex_unlock(&m->lock);
	if (process)
		metrics_render_process(out);
	if (fclose(out) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
