/* The standalone block source: the block_source_ops over a manifest and the
 * state file. One mutex guards the manifest and the state; every change of the
 * state is on disk before the op returns. */
#include "standalone/standalone.h"
#include "standalone/carve.h"
#include "standalone/state.h"
#include "coilapi/coilapi.h"
#include "log/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCK_FILE_NAME "lock"

struct standalone_source {
	pthread_mutex_t lock;
	struct standalone_manifest manifest; /* guarded by lock */
	struct block_state state;	     /* guarded by lock; mirrors blocks.json */
	int dirfd;			     /* the state directory */
	int lockfd;			     /* flock'd for as long as the source is open */
	char *dir;			     /* owned; the state directory's path */
	char node[NODE_NAME_MAX];
};

/* Logs the blocks the manifest no longer yields; they are kept until released. */
static void warn_stale_blocks(const struct standalone_source *src)
{
	for (size_t i = 0; i < src->state.n; i++) {
		const struct node_block *b = &src->state.blocks[i];
		if (!block_is_stale(&src->manifest, b))
			continue;
		bool gone = !standalone_manifest_pool(&src->manifest, b->pool);
		log_warn("standalone: keeping a block the manifest no longer yields until it is "
			 "released",
			 "block", b->name, "pool", b->pool, "ipv4", b->ipv4, "ipv6", b->ipv6,
			 "reason", gone ? "the pool is gone" : "the pool's CIDRs changed");
	}
}

static int op_list(void *ctx, struct node_block **out, size_t *n, char *err, size_t errlen)
{
	struct standalone_source *src = ctx;
	int ret = 0;
	pthread_mutex_lock(&src->lock);
	*out = NULL;
	*n = src->state.n;
	if (*n) {
		*out = malloc(*n * sizeof(**out));
		if (*out)
			memcpy(*out, src->state.blocks, *n * sizeof(**out));
		else
			ret = -ENOMEM;
	}
	pthread_mutex_unlock(&src->lock);
	if (ret < 0) {
		*n = 0;
		snprintf(err, errlen, "standalone: listing %s: out of memory", src->dir);
	}
	return ret;
}

/* With the lock held: carves, records and persists the next block of `pool`. */
static int acquire_locked(struct standalone_source *src, const char *pool_name,
			  struct node_block *out, char *err, size_t errlen)
{
	const struct standalone_pool *pool = standalone_manifest_pool(&src->manifest, pool_name);
	if (!pool) {
		snprintf(err, errlen, "pool %s not found in the manifest", pool_name);
		return -ENOENT;
	}
	int ret = carve_next(&src->manifest, pool, &src->state, out, err, errlen);
	if (ret < 0)
		return ret;
	if (state_add(&src->state, out) < 0) {
		snprintf(err, errlen, "pool %s: out of memory", pool_name);
		return -ENOMEM;
	}
	ret = state_save(src->dirfd, src->dir, src->node, &src->state, err, errlen);
	if (ret < 0)
		src->state.n--; /* not handed out, so not owned */
	return ret;
}

static int op_acquire(void *ctx, const char *pool, struct node_block *out, char *err, size_t errlen)
{
	struct standalone_source *src = ctx;
	pthread_mutex_lock(&src->lock);
	int ret = acquire_locked(src, pool, out, err, errlen);
	pthread_mutex_unlock(&src->lock);
	if (ret == 0)
		log_info("standalone: acquired a block", "block", out->name, "ipv4", out->ipv4,
			 "ipv6", out->ipv6);
	return ret;
}

static int op_release(void *ctx, const struct node_block *block, char *err, size_t errlen)
{
	struct standalone_source *src = ctx;
	int ret = 0;
	pthread_mutex_lock(&src->lock);
	long i = state_find(&src->state, block->pool, block->index);
	if (i >= 0) {
		struct node_block gone = src->state.blocks[i];
		state_remove_at(&src->state, (size_t)i);
		ret = state_save(src->dirfd, src->dir, src->node, &src->state, err, errlen);
		if (ret < 0) /* still on disk, so still owned; the slot is still allocated */
			state_add(&src->state, &gone);
	}
	pthread_mutex_unlock(&src->lock);
	if (i >= 0 && ret == 0)
		log_info("standalone: released a block", "block", block->name);
	return ret;
}

static int op_pool_for_namespace(void *ctx, const char *ns, char *pool, size_t poollen, char *err,
				 size_t errlen)
{
	struct standalone_source *src = ctx;
	int ret = 0;
	pthread_mutex_lock(&src->lock);
	const char *chosen = COILAPI_DEFAULT_POOL;
	for (size_t i = 0; i < src->manifest.nnamespaces; i++) {
		const struct standalone_namespace *n = &src->manifest.namespaces[i];
		if (strcmp(n->name, ns) == 0 && n->pool)
			chosen = n->pool;
	}
	if ((size_t)snprintf(pool, poollen, "%s", chosen) >= poollen) {
		snprintf(err, errlen, "namespace %s: pool name %.64s... is too long", ns, chosen);
		ret = -ENAMETOOLONG;
	}
	pthread_mutex_unlock(&src->lock);
	return ret;
}

static int op_can_acquire(void *ctx, const char *pool_name)
{
	struct standalone_source *src = ctx;
	struct node_block next;
	char err[256];
	pthread_mutex_lock(&src->lock);
	const struct standalone_pool *pool = standalone_manifest_pool(&src->manifest, pool_name);
	int ret =
	    pool ? carve_next(&src->manifest, pool, &src->state, &next, err, sizeof(err)) : -ENOENT;
	pthread_mutex_unlock(&src->lock);
	if (ret == 0)
		return 1;
	return ret == -ENOENT || ret == -ENOSPC ? 0 : ret;
}

static const struct block_source_ops standalone_ops = {
    .list = op_list,
    .acquire = op_acquire,
    .release = op_release,
    .pool_for_namespace = op_pool_for_namespace,
    .can_acquire = op_can_acquire,
};

/* Creates (if needed), opens and locks the state directory. */
static int open_state_dir(struct standalone_source *src, char *err, size_t errlen)
{
	if (mkdir(src->dir, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		snprintf(err, errlen, "state directory %s: cannot create: %s", src->dir,
			 strerror(e));
		return -e;
	}
	src->dirfd = open(src->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (src->dirfd < 0) {
		int e = errno;
		snprintf(err, errlen, "state directory %s: cannot open: %s", src->dir, strerror(e));
		return -e;
	}
	src->lockfd = openat(src->dirfd, LOCK_FILE_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (src->lockfd < 0 || flock(src->lockfd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		if (e == EWOULDBLOCK) {
			snprintf(err, errlen, "state directory %s is in use by another coil",
				 src->dir);
			return -EBUSY;
		}
		snprintf(err, errlen, "state directory %s: cannot lock: %s", src->dir, strerror(e));
		return -e;
	}
	return 0;
}

static void free_source(struct standalone_source *src)
{
	if (src->lockfd >= 0)
		close(src->lockfd); /* also drops the flock */
	if (src->dirfd >= 0)
		close(src->dirfd);
	state_free(&src->state);
	standalone_manifest_free(&src->manifest);
	free(src->dir);
	free(src);
}

static int open_source(struct standalone_source *src, const char *manifest_path,
		       const char *node_name, char *err, size_t errlen)
{
	if (!node_name[0] || strlen(node_name) >= sizeof(src->node)) {
		snprintf(err, errlen, "standalone: invalid node name \"%.64s\"", node_name);
		return -EINVAL;
	}
	snprintf(src->node, sizeof(src->node), "%s", node_name);
	int ret = standalone_manifest_load(manifest_path, &src->manifest, err, errlen);
	if (ret == 0)
		ret = open_state_dir(src, err, errlen);
	if (ret == 0)
		ret = state_load(src->dirfd, src->dir, src->node, &src->state, err, errlen);
	return ret;
}

int standalone_open(const char *manifest_path, const char *state_dir, const char *node_name,
		    struct block_source *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	struct standalone_source *src = calloc(1, sizeof(*src));
	if (!src || !(src->dir = strdup(state_dir))) {
		free(src);
		snprintf(err, errlen, "standalone: out of memory");
		return -ENOMEM;
	}
	src->dirfd = src->lockfd = -1;
	int ret = open_source(src, manifest_path, node_name, err, errlen);
	if (ret < 0) {
		free_source(src);
		return ret;
	}
	pthread_mutex_init(&src->lock, NULL);
	warn_stale_blocks(src);
	out->ops = &standalone_ops;
	out->ctx = src;
	return 0;
}

void standalone_close(struct block_source *bs)
{
	struct standalone_source *src = bs->ctx;
	if (!src)
		return;
	pthread_mutex_destroy(&src->lock);
	free_source(src);
	bs->ctx = NULL;
	bs->ops = NULL;
}

int standalone_reload(struct block_source *bs, const char *manifest_path, char *err, size_t errlen)
{
	struct standalone_source *src = bs->ctx;
	struct standalone_manifest fresh;
	int ret = standalone_manifest_load(manifest_path, &fresh, err, errlen);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&src->lock);
	struct standalone_manifest old = src->manifest;
	src->manifest = fresh;
	warn_stale_blocks(src);
	pthread_mutex_unlock(&src->lock);
	standalone_manifest_free(&old);
	log_info("standalone: reloaded the manifest", "path", manifest_path);
	return 0;
}
