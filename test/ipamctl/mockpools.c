#include "mockpools.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *syncs, *drops, *calls; /* pool → count, guarded by lock */
static int allocations;
static bool used;

static void bump(json_t *map, const char *pool)
{
	json_object_set_new(map, pool,
			    json_integer(json_integer_value(json_object_get(map, pool)) + 1));
}

static int count(json_t *map, const char *pool)
{
	pthread_mutex_lock(&lock);
	int n = (int)json_integer_value(json_object_get(map, pool));
	pthread_mutex_unlock(&lock);
	return n;
}

void mock_reset(void)
{
	pthread_mutex_lock(&lock);
	json_decref(syncs);
	json_decref(drops);
	json_decref(calls);
	syncs = json_object();
	drops = json_object();
	calls = json_object();
	allocations = 0;
	used = false;
	pthread_mutex_unlock(&lock);
}

static int sync_pool(void *arg, const char *pool, char *err, size_t errlen)
{
	pthread_mutex_lock(&lock);
	bump(syncs, pool);
	pthread_mutex_unlock(&lock);
	return 0;
}

static void drop_pool(void *arg, const char *pool)
{
	pthread_mutex_lock(&lock);
	bump(drops, pool);
	pthread_mutex_unlock(&lock);
}

static int is_used(void *arg, const char *pool, bool *out, char *err, size_t errlen)
{
	pthread_mutex_lock(&lock);
	*out = used;
	pthread_mutex_unlock(&lock);
	return 0;
}

static int allocate(void *arg, const char *pool, const char *node, const char *uid,
		    char *block_name, char *err, size_t errlen)
{
	int ret = 0;
	pthread_mutex_lock(&lock);
	bump(calls, pool);
	if (strcmp(pool, "broken") == 0) {
		snprintf(err, errlen, "mock: pool %s is broken", pool);
		ret = -EIO;
	} else if (allocations >= 2) {
		snprintf(err, errlen, "mock: out of blocks");
		ret = IPAMCTL_ERR_NO_BLOCK;
	} else {
		snprintf(block_name, IPAMCTL_BLOCK_NAME_MAX, "%s-%d", pool, allocations++);
	}
	pthread_mutex_unlock(&lock);
	return ret;
}

struct ipamctl_pools mock_pools(void)
{
	return (struct ipamctl_pools){.sync_pool = sync_pool,
				      .drop_pool = drop_pool,
				      .is_used = is_used,
				      .allocate = allocate};
}

int mock_syncs(const char *pool)
{
	return count(syncs, pool);
}

int mock_drops(const char *pool)
{
	return count(drops, pool);
}

int mock_allocate_calls(const char *pool)
{
	return count(calls, pool);
}

int mock_allocations(void)
{
	pthread_mutex_lock(&lock);
	int n = allocations;
	pthread_mutex_unlock(&lock);
	return n;
}

void mock_set_used(bool value)
{
	pthread_mutex_lock(&lock);
	used = value;
	pthread_mutex_unlock(&lock);
}
