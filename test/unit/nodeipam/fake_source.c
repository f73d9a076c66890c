#include "fake_source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct node_block *find(struct node_block *blocks, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(blocks[i].name, name) == 0)
			return &blocks[i];
	}
	return NULL;
}

static int fake_list(void *ctx, struct node_block **out, size_t *n, char *err, size_t errlen)
{
	struct fake_source *fake = ctx;
	pthread_mutex_lock(&fake->lock);
	fake->lists++;
	int ret = fake->list_error;
	if (ret < 0) {
		snprintf(err, errlen, "fake list failure");
	} else {
		*n = fake->n_owned;
		*out = malloc((*n ? *n : 1) * sizeof(**out));
		memcpy(*out, fake->owned, *n * sizeof(**out));
	}
	pthread_mutex_unlock(&fake->lock);
	return ret;
}

static int take_block(struct fake_source *fake, const char *pool, struct node_block *out, char *err,
		      size_t errlen)
{
	bool pool_known = false;
	for (size_t i = 0; i < fake->n_catalog; i++) {
		struct node_block *b = &fake->catalog[i];
		if (strcmp(b->pool, pool) != 0)
			continue;
		pool_known = true;
		if (find(fake->owned, fake->n_owned, b->name))
			continue;
		fake->owned[fake->n_owned++] = *b;
		*out = *b;
		return 0;
	}
	snprintf(err, errlen, pool_known ? "pool %s does not have free blocks" : "no pool %s",
		 pool);
	return pool_known ? -ENOSPC : -ENOENT;
}

static int *flight_of(struct fake_source *fake, const char *pool)
{
	for (size_t i = 0; i < 8; i++) {
		if (strcmp(fake->flights[i].pool, pool) == 0)
			return &fake->flights[i].n;
		if (fake->flights[i].pool[0] == '\0') {
			snprintf(fake->flights[i].pool, sizeof(fake->flights[i].pool), "%s", pool);
			return &fake->flights[i].n;
		}
	}
	abort();
}

static int fake_acquire(void *ctx, const char *pool, struct node_block *out, char *err,
			size_t errlen)
{
	struct fake_source *fake = ctx;
	pthread_mutex_lock(&fake->lock);
	fake->acquires++;
	int *flight = flight_of(fake, pool);
	if (++*flight > fake->max_in_flight_same_pool)
		fake->max_in_flight_same_pool = *flight;
	if (++fake->in_flight > fake->max_in_flight)
		fake->max_in_flight = fake->in_flight;
	unsigned delay = fake->acquire_delay_us;
	while (strcmp(fake->gate_pool, pool) == 0 && !fake->gate_open)
		pthread_cond_wait(&fake->gate, &fake->lock);
	pthread_mutex_unlock(&fake->lock);

	if (delay)
		usleep(delay);

	pthread_mutex_lock(&fake->lock);
	int ret = fake->acquire_error;
	if (ret < 0)
		snprintf(err, errlen, "fake acquire failure for pool %s", pool);
	else
		ret = take_block(fake, pool, out, err, errlen);
	fake->in_flight--;
	(*flight)--;
	pthread_mutex_unlock(&fake->lock);
	return ret;
}

static int fake_release(void *ctx, const struct node_block *block, char *err, size_t errlen)
{
	struct fake_source *fake = ctx;
	pthread_mutex_lock(&fake->lock);
	int ret = fake->release_error;
	if (ret < 0) {
		snprintf(err, errlen, "fake release failure for %s", block->name);
	} else {
		fake->releases++;
		struct node_block *b = find(fake->owned, fake->n_owned, block->name);
		if (b)
			*b = fake->owned[--fake->n_owned];
	}
	pthread_mutex_unlock(&fake->lock);
	return ret;
}

static int fake_pool_for_namespace(void *ctx, const char *ns, char *pool, size_t poollen, char *err,
				   size_t errlen)
{
	snprintf(pool, poollen, "default");
	return 0;
}

static int fake_can_acquire(void *ctx, const char *pool)
{
	struct fake_source *fake = ctx;
	pthread_mutex_lock(&fake->lock);
	int can = 0;
	for (size_t i = 0; i < fake->n_catalog; i++) {
		if (strcmp(fake->catalog[i].pool, pool) == 0 &&
		    !find(fake->owned, fake->n_owned, fake->catalog[i].name))
			can = 1;
	}
	pthread_mutex_unlock(&fake->lock);
	return can;
}

static const struct block_source_ops fake_ops = {
    .list = fake_list,
    .acquire = fake_acquire,
    .release = fake_release,
    .pool_for_namespace = fake_pool_for_namespace,
    .can_acquire = fake_can_acquire,
};

void fake_source_init(struct fake_source *fake)
{
	memset(fake, 0, sizeof(*fake));
	pthread_mutex_init(&fake->lock, NULL);
	pthread_cond_init(&fake->gate, NULL);
	fake->source.ops = &fake_ops;
	fake->source.ctx = fake;
}

void fake_source_fini(struct fake_source *fake)
{
	pthread_mutex_destroy(&fake->lock);
	pthread_cond_destroy(&fake->gate);
}

void fake_source_open_gate(struct fake_source *fake)
{
	pthread_mutex_lock(&fake->lock);
	fake->gate_open = true;
	pthread_cond_broadcast(&fake->gate);
	pthread_mutex_unlock(&fake->lock);
}

void fake_source_wait_in_flight(struct fake_source *fake, const char *pool)
{
	for (;;) {
		pthread_mutex_lock(&fake->lock);
		int n = *flight_of(fake, pool);
		pthread_mutex_unlock(&fake->lock);
		if (n > 0)
			return;
		usleep(1000);
	}
}

void fake_source_add(struct fake_source *fake, const char *pool, const char *name, unsigned index,
		     const char *ipv4, const char *ipv6)
{
	struct node_block *b = &fake->catalog[fake->n_catalog++];
	memset(b, 0, sizeof(*b));
	snprintf(b->pool, sizeof(b->pool), "%s", pool);
	snprintf(b->name, sizeof(b->name), "%s", name);
	b->index = index;
	snprintf(b->ipv4, sizeof(b->ipv4), "%s", ipv4);
	snprintf(b->ipv6, sizeof(b->ipv6), "%s", ipv6);
}

void fake_source_own(struct fake_source *fake, const char *name, bool reserved)
{
	struct node_block *b = find(fake->catalog, fake->n_catalog, name);
	b->reserved = reserved;
	fake->owned[fake->n_owned++] = *b;
}

void fake_source_disown(struct fake_source *fake, const char *name)
{
	pthread_mutex_lock(&fake->lock);
	struct node_block *b = find(fake->owned, fake->n_owned, name);
	if (b)
		*b = fake->owned[--fake->n_owned];
	pthread_mutex_unlock(&fake->lock);
}

size_t fake_source_owned_count(struct fake_source *fake)
{
	pthread_mutex_lock(&fake->lock);
	size_t n = fake->n_owned;
	pthread_mutex_unlock(&fake->lock);
	return n;
}
