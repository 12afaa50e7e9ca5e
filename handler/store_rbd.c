/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "store_rbd.h"
#include "cfg.h"
#include "iov.h"
#include "limits.h"
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <rados/librados.h>
#include <rbd/librbd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RBD_PREFIX	 "rbd/"
#define RBD_DEFAULT_CONF "/etc/ceph/ceph.conf"
#define RBD_DEFAULT_ID	 "admin"

struct svm_rbd {
	/*
	 * atomic: calls using cluster, io and image now (io_begin to io_end, an
	 * asynchronous one until its completion). A reconnect sets down, then
	 * waits for this to reach 0 (idle, under rc_lock) before it replaces them.
	 */
	unsigned inflight;
	rados_t cluster;
	rados_ioctx_t io;
	rbd_image_t image;
	bool connected;
	char *spec;
	char *conf, *id, *pool, *name; /* what svm_rbd_open connected with, for a reconnect */
	bool locked;		       /* svm_rbd_lock holds the exclusive lock: taken again */
	char old_owner[32];	       /* "client.<gid>" of the connection a reconnect closed */
	char old_addr[96];	       /* and its address, to blocklist ("" when none) */
	/*
	 * atomic: -EIO once an acknowledged write may be lost, kept for the next svm_rbd_flush.
	 * librbd's writearound cache hands a later failure of an acknowledged write to exactly
	 * one flush, the first to complete after it: when that is a FUA write's (or the one a
	 * reconnect makes), the host's next SYNCHRONIZE CACHE must still fail.
	 */
	int lost_write;
	uint64_t stripe_unit; /* librbd splits I/O at multiples of this (the object size) */
	bool stable;	      /* librbd caches no write: an acknowledged write is stable */
	char cache_why[96];   /* what the probe at open found, for the log */
	/* atomic: 1 while the connection is lost or being replaced: I/O fails -ENOTCONN at once */
	int down;
	/* the reconnect thread (svm_rbd_open's stores only): kicked by an I/O that lost the cluster */
	pthread_mutex_t rc_lock;
	pthread_cond_t rc_cond;
	pthread_cond_t idle; /* inflight reached 0 while down */
	pthread_t rc_thread;
	bool rc_started, rc_kick, rc_stop; /* under rc_lock */
};

bool svm_rbd_is_spec(const char *spec)
{
	return spec && !strncmp(spec, RBD_PREFIX, sizeof(RBD_PREFIX) - 1);
}

/* One name of the spec: [p, p + n). 0, or -EINVAL with *reason. */
static int check_name(const char *spec, const char *what, const char *p, size_t n, char **reason)
{
	if (!n)
		return svm_reason(
		    reason, -EINVAL,
		    "RBD store '%s' has an empty %s name (expected rbd/<pool>/<image>)", spec,
		    what);
	if (n > SVM_RBD_NAME_MAX)
		return svm_reason(reason, -EINVAL,
				  "RBD store '%s': the %s name is longer than %d bytes", spec, what,
				  SVM_RBD_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '@')
			return svm_reason(reason, -EINVAL,
					  "RBD store '%s': '@' in the %s name (snapshots are "
					  "read-only and not served)",
					  spec, what);
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return svm_reason(reason, -EINVAL,
					  "RBD store '%s': a control character in the %s name",
					  spec, what);
	}
	return 0;
}

int svm_rbd_parse(const char *spec, char **pool, char **image, char **reason)
{
	const char *p, *slash;
	char *pl = NULL, *im = NULL;
	int ret;

	if (!svm_rbd_is_spec(spec))
		return svm_reason(reason, -EINVAL, "'%s' is not an RBD store (rbd/<pool>/<image>)",
				  spec ? spec : "");
	p = spec + sizeof(RBD_PREFIX) - 1;
	slash = strchr(p, '/');
	if (!slash)
		return svm_reason(reason, -EINVAL,
				  "RBD store '%s' names no image (expected rbd/<pool>/<image>)",
				  spec);
	ret = check_name(spec, "pool", p, (size_t)(slash - p), reason);
	if (ret)
		return ret;
	if (strchr(slash + 1, '/'))
		return svm_reason(
		    reason, -EINVAL,
		    "RBD store '%s': '/' in the image name (expected rbd/<pool>/<image>; "
		    "RBD namespaces are not supported)",
		    spec);
	ret = check_name(spec, "image", slash + 1, strlen(slash + 1), reason);
	if (ret)
		return ret;
	if (pool && !(pl = strndup(p, (size_t)(slash - p))))
		goto oom;
	if (image && !(im = strdup(slash + 1)))
		goto free_pool;
	if (pool)
		*pool = pl;
	if (image)
		*image = im;
	return 0;

free_pool:
	free(pl);
oom:
	return svm_reason(reason, -ENOMEM, "out of memory");
}

/*
 * An OSD that stops answering fails an I/O with -ETIMEDOUT after
 * SVM_RBD_OSD_OP_TIMEOUT_S instead of holding it for ever: a migration's
 * destination that hangs then breaks the mirror, and the LUN goes on from
 * its source (tests/e2e/t_rbd_migrate_fail.sh).
 */
static int set_op_timeout(struct svm_rbd *r)
{
	char timeout[16];

	snprintf(timeout, sizeof(timeout), "%d", SVM_RBD_OSD_OP_TIMEOUT_S);
	return rados_conf_set(r->cluster, "rados_osd_op_timeout", timeout);
}

/* Connect r->cluster: the conf file, bounded waits, then rados_connect. */
static int connect_cluster(struct svm_rbd *r, const char *conf, const char *id, char **reason)
{
	char timeout[16];
	int ret;

	ret = rados_create(&r->cluster, id);
	if (ret < 0)
		return svm_reason(reason, ret, "cannot create a Ceph client '%s': %s", id,
				  strerror(-ret));
	r->connected = true; /* a handle to shut down, connected or not */
	ret = rados_conf_read_file(r->cluster, conf);
	if (ret < 0)
		return svm_reason(reason, ret, "cannot read Ceph configuration '%s': %s", conf,
				  strerror(-ret));
	snprintf(timeout, sizeof(timeout), "%d", SVM_RBD_CONNECT_TIMEOUT_S);
	/*
	 * rbd_skip_partial_discard=false: librbd's default (true) skips the
	 * parts of a discard that do not cover rbd_discard_granularity_bytes
	 * (64 KiB) whole, and those would read back their old data; the LUN
	 * reports LBPRZ, so every discarded byte must read back zero.
	 */
	if ((ret = rados_conf_set(r->cluster, "client_mount_timeout", timeout)) < 0 ||
	    (ret = rados_conf_set(r->cluster, "rados_mon_op_timeout", timeout)) < 0 ||
	    (ret = rados_conf_set(r->cluster, "rbd_skip_partial_discard", "false")) < 0 ||
	    (ret = set_op_timeout(r)) < 0)
		return svm_reason(reason, ret, "cannot set Ceph client options: %s",
				  strerror(-ret));
	ret = rados_connect(r->cluster);
	if (ret < 0)
		return svm_reason(reason, ret,
				  "cannot connect to the Ceph cluster of '%s' as client.%s (within "
				  "%d s): %s",
				  conf, id, SVM_RBD_CONNECT_TIMEOUT_S, strerror(-ret));
	return 0;
}

/* Connect and open spec's pool only (no image): r->image stays NULL. *image: malloc'd name. */
static int connect_pool(const char *spec, const char *conf, const char *id, struct svm_rbd **out,
			char **image, char **reason)
{
	char *pool = NULL;
	struct svm_rbd *r;
	int ret;

	ret = svm_rbd_parse(spec, &pool, image, reason);
	if (ret)
		return ret;
	r = calloc(1, sizeof(*r));
	if (!r) {
		free(pool);
		free(*image);
		*image = NULL;
		return svm_reason(reason, -ENOMEM, "out of memory");
	}
	pthread_mutex_init(&r->rc_lock, NULL);
	pthread_cond_init(&r->rc_cond, NULL);
	pthread_cond_init(&r->idle, NULL);
	r->pool = pool;
	if (!(r->spec = strdup(spec))) {
		ret = svm_reason(reason, -ENOMEM, "out of memory");
		goto close_rbd;
	}
	ret = connect_cluster(r, conf ? conf : RBD_DEFAULT_CONF, id ? id : RBD_DEFAULT_ID, reason);
	if (ret)
		goto close_rbd;
	ret = rados_ioctx_create(r->cluster, pool, &r->io);
	if (ret < 0) {
		r->io = NULL;
		ret = svm_reason(reason, ret, "cannot open pool '%s' of RBD store '%s': %s", pool,
				 spec, strerror(-ret));
		goto close_rbd;
	}
	*out = r;
	return 0;

close_rbd:
	svm_rbd_close(r);
	free(*image);
	*image = NULL;
	return ret;
}

/*
 * The effective value of librbd option name for r's image: the image's
 * own override, else the pool's, else the client's configuration
 * (rbd_config_image_list gives the one that applies); the client's
 * (rados_conf_get) when the list cannot be had. 0, or -errno.
 */
static int image_option(struct svm_rbd *r, const char *name, char *val, size_t len)
{
	rbd_config_option_t *opts = NULL;
	int n = 0, ret;

	ret = rbd_config_image_list(r->image, NULL, &n);
	if (ret == -ERANGE && n > 0 && (opts = calloc((size_t)n, sizeof(*opts)))) {
		ret = rbd_config_image_list(r->image, opts, &n);
		for (int i = 0; !ret && i < n; i++) {
			if (strcmp(opts[i].name, name))
				continue;
			snprintf(val, len, "%s", opts[i].value);
			rbd_config_image_list_cleanup(opts, n);
			free(opts);
			return 0;
		}
		if (!ret)
			rbd_config_image_list_cleanup(opts, n);
		free(opts);
	}
	return rados_conf_get(r->cluster, name, val, len);
}

/*
 * Whether librbd holds acknowledged writes in a volatile cache: rbd_cache
 * true and a rbd_cache_policy other than writethrough (writearound, the
 * default, and writeback acknowledge before the OSDs have the data). When
 * it does not, r->stable. The stripe unit too: librbd's compare_and_write
 * works within one object. Blocks on nothing remote (the image is open).
 */
static void probe_cache(struct svm_rbd *r)
{
	char cache[16] = "", policy[32] = "";
	uint64_t su = 0;

	r->stable = false; /* a reconnect probes again */
	if (!rbd_get_stripe_unit(r->image, &su))
		r->stripe_unit = su;
	if (image_option(r, "rbd_cache", cache, sizeof(cache)) < 0) {
		snprintf(r->cache_why, sizeof(r->cache_why), "librbd cache unknown: taken as on");
		return;
	}
	if (!strcmp(cache, "false") || !strcmp(cache, "0")) {
		r->stable = true;
		snprintf(r->cache_why, sizeof(r->cache_why), "librbd does not cache (rbd_cache=%s)",
			 cache);
		return;
	}
	if (image_option(r, "rbd_cache_policy", policy, sizeof(policy)) < 0)
		snprintf(policy, sizeof(policy), "unknown");
	r->stable = !strcmp(policy, "writethrough");
	snprintf(r->cache_why, sizeof(r->cache_why),
		 "librbd %s (rbd_cache=%s, rbd_cache_policy=%s)",
		 r->stable ? "does not cache writes" : "caches writes", cache, policy);
}

/*
 * Remember the address of r's connection (rados_getaddrs: "[v2:IP:port/nonce,...]"), as
 * "IP:port/nonce", the form `ceph osd blocklist add` takes, for blocklist_old.
 */
static void note_old_addr(struct svm_rbd *r)
{
	char *addrs = NULL, *p;
	size_t n;

	r->old_addr[0] = '\0';
	if (rados_getaddrs(r->cluster, &addrs) < 0 || !addrs)
		return;
	p = addrs + (addrs[0] == '[');
	if (!strncmp(p, "v2:", 3) || !strncmp(p, "v1:", 3))
		p += 3;
	else if (!strncmp(p, "any:", 4))
		p += 4;
	n = strcspn(p, ",]");
	if (n && n < sizeof(r->old_addr))
		snprintf(r->old_addr, sizeof(r->old_addr), "%.*s", (int)n, p);
	rados_buffer_free(addrs);
}

/*
 * Blocklist the connection a reconnect closed, as Ceph does to a dead lock
 * owner: a write of it still on its way (a network that comes back
 * delivers what TCP kept) must not land after the new connection's writes
 * to the same blocks, and its lock release must not hold the image's header.
 * A blocklisted client's requests are refused by the OSDs. That connection
 * is shut down: nothing of ours is lost. A failure (no mon caps for it) is
 * logged, and the open tried.
 */
static void blocklist_old(struct svm_rbd *r)
{
	int ret = rados_blocklist_add(r->cluster, r->old_addr, SVM_RBD_BLOCKLIST_S);

	svm_log(ret < 0 ? SVM_LOG_WARN : SVM_LOG_INFO,
		"RBD store %s: the closed connection %s %s%s", r->spec, r->old_addr,
		ret < 0 ? "could not be blocklisted: " : "blocklisted",
		ret < 0 ? strerror(-ret) : "");
	if (!ret)
		r->old_addr[0] = '\0';
}

/* Connect, open the pool and the image r names. 0, or -errno with *reason. */
static int attach(struct svm_rbd *r, char **reason)
{
	int ret = connect_cluster(r, r->conf, r->id, reason);

	if (ret)
		return ret;
	if (r->old_addr[0])
		blocklist_old(r);
	ret = rados_ioctx_create(r->cluster, r->pool, &r->io);
	if (ret < 0) {
		r->io = NULL;
		return svm_reason(reason, ret, "cannot open pool '%s' of RBD store '%s': %s",
				  r->pool, r->spec, strerror(-ret));
	}
	ret = rbd_open(r->io, r->name, &r->image, NULL);
	if (ret < 0) {
		r->image = NULL;
		return svm_reason(reason, ret, "cannot open RBD image '%s': %s", r->spec,
				  strerror(-ret));
	}
	probe_cache(r);
	return 0;
}

/*
 * Close the image, the pool and the cluster connection. With librbd's cache
 * acknowledging writes early, a flush first: when it fails, an acknowledged
 * write may be lost, and the next svm_rbd_flush says so.
 */
static void detach(struct svm_rbd *r)
{
	int ret, none = 0;

	if (r->image) {
		if (!r->stable && (ret = rbd_flush(r->image)) < 0 &&
		    __atomic_compare_exchange_n(&r->lost_write, &none, -EIO, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			svm_log(SVM_LOG_ERR,
				"RBD store %s: writes librbd acknowledged may be lost (flush: %s): "
				"the next SYNCHRONIZE CACHE fails",
				r->spec, strerror(-ret));
		rbd_close(r->image);
		r->image = NULL;
	}
	if (r->io)
		rados_ioctx_destroy(r->io);
	r->io = NULL;
	if (r->connected)
		rados_shutdown(r->cluster);
	r->connected = false;
}

static void free_rbd(struct svm_rbd *r)
{
	pthread_mutex_destroy(&r->rc_lock);
	pthread_cond_destroy(&r->rc_cond);
	pthread_cond_destroy(&r->idle);
	free(r->spec);
	free(r->conf);
	free(r->id);
	free(r->pool);
	free(r->name);
	free(r);
}

static void *reconnect_main(void *arg);

int svm_rbd_open(const char *spec, const char *conf, const char *id, struct svm_rbd **out,
		 uint64_t *size, char **reason)
{
	struct svm_rbd *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return svm_reason(reason, -ENOMEM, "out of memory");
	pthread_mutex_init(&r->rc_lock, NULL);
	pthread_cond_init(&r->rc_cond, NULL);
	pthread_cond_init(&r->idle, NULL);
	ret = svm_rbd_parse(spec, &r->pool, &r->name, reason);
	if (ret)
		goto free_rbd;
	if (!(r->spec = strdup(spec)) || !(r->conf = strdup(conf ? conf : RBD_DEFAULT_CONF)) ||
	    !(r->id = strdup(id ? id : RBD_DEFAULT_ID))) {
		ret = svm_reason(reason, -ENOMEM, "out of memory");
		goto free_rbd;
	}
	ret = attach(r, reason);
	if (ret)
		goto detach;
	ret = rbd_get_size(r->image, size);
	if (ret < 0) {
		ret =
		    svm_reason(reason, ret, "cannot size RBD image '%s': %s", spec, strerror(-ret));
		goto detach;
	}
	ret = -pthread_create(&r->rc_thread, NULL, reconnect_main, r);
	if (ret) {
		ret = svm_reason(reason, ret, "cannot start the reconnect thread: %s",
				 strerror(-ret));
		goto detach;
	}
	r->rc_started = true;
	svm_log(SVM_LOG_INFO, "RBD store %s opened (%s, client.%s): %llu bytes, %s", spec, r->conf,
		r->id, (unsigned long long)*size, r->cache_why);
	*out = r;
	return 0;

detach:
	detach(r);
free_rbd:
	free_rbd(r);
	return ret;
}

void svm_rbd_close(struct svm_rbd *r)
{
	if (!r)
		return;
	if (r->rc_started) {
		pthread_mutex_lock(&r->rc_lock);
		r->rc_stop = true;
		pthread_cond_broadcast(&r->rc_cond);
		pthread_mutex_unlock(&r->rc_lock);
		pthread_join(r->rc_thread, NULL);
	}
	detach(r);
	free_rbd(r);
}

/* ---- losing the cluster, and reconnecting -------------------------------------------- */

/*
 * The errors that say the cluster (or this client's session with it) is
 * gone rather than the request being wrong: an OSD that did not answer
 * within rados_osd_op_timeout, a client the cluster blocklisted
 * (EBLOCKLISTED is ESHUTDOWN), a session that is not connected.
 */
static bool conn_lost(int err)
{
	switch (-err) {
	case ETIMEDOUT:
	case ESHUTDOWN:
	case ENOTCONN:
	case ECONNRESET:
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
		return true;
	default:
		return false;
	}
}

/* Leave r's connection (counted out of inflight); the last call out wakes a waiting reconnect. */
static void io_leave(struct svm_rbd *r)
{
	if (!__atomic_sub_fetch(&r->inflight, 1, __ATOMIC_SEQ_CST) &&
	    __atomic_load_n(&r->down, __ATOMIC_SEQ_CST)) {
		pthread_mutex_lock(&r->rc_lock);
		pthread_cond_broadcast(&r->idle);
		pthread_mutex_unlock(&r->rc_lock);
	}
}

/*
 * Enter r's connection for one call: 0, counted in inflight, or -ENOTCONN
 * (not connected now). Counted first, down read after: a reconnect that sets
 * down then reads inflight sees this call, or this call sees down.
 */
static int io_begin(struct svm_rbd *r)
{
	__atomic_add_fetch(&r->inflight, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&r->down, __ATOMIC_SEQ_CST) || !r->image) {
		io_leave(r);
		return -ENOTCONN;
	}
	return 0;
}

/* Leave it with the call's result; one that lost the cluster wakes the reconnect thread. */
static int io_end(struct svm_rbd *r, int ret)
{
	io_leave(r);
	if (conn_lost(ret) && r->rc_started && !__atomic_load_n(&r->down, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&r->rc_lock);
		r->rc_kick = true;
		pthread_cond_broadcast(&r->rc_cond);
		pthread_mutex_unlock(&r->rc_lock);
	}
	return ret;
}

/* Sleep up to s seconds; true when svm_rbd_close asked the thread to stop. */
static bool rc_sleep(struct svm_rbd *r, unsigned s)
{
	struct timespec until;
	bool stop;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += s;
	pthread_mutex_lock(&r->rc_lock);
	while (!r->rc_stop && pthread_cond_timedwait(&r->rc_cond, &r->rc_lock, &until) != ETIMEDOUT)
		;
	stop = r->rc_stop;
	pthread_mutex_unlock(&r->rc_lock);
	return stop;
}

/* Take the exclusive lock again after a reconnect, breaking the closed connection's own. */
static void relock(struct svm_rbd *r)
{
	rbd_lock_mode_t mode;
	char *owners[8];
	size_t n = 8;
	int ret = rbd_lock_acquire(r->image, RBD_LOCK_MODE_EXCLUSIVE);

	if (ret < 0 && rbd_lock_get_owners(r->image, &mode, owners, &n) >= 0) {
		for (size_t i = 0; i < n; i++)
			if (!strcmp(owners[i], r->old_owner))
				rbd_lock_break(r->image, RBD_LOCK_MODE_EXCLUSIVE, owners[i]);
		rbd_lock_get_owners_cleanup(owners, n);
		ret = rbd_lock_acquire(r->image, RBD_LOCK_MODE_EXCLUSIVE);
	}
	svm_log(ret < 0 ? SVM_LOG_ERR : SVM_LOG_INFO,
		"RBD store %s: exclusive lock %s%s after the reconnect", r->spec,
		ret < 0 ? "NOT taken again: " : "taken again", ret < 0 ? strerror(-ret) : "");
}

/*
 * Replace r's connection: new I/O fails at once (-ENOTCONN: NOT READY, the
 * initiator retries) while the calls in flight end (each within
 * rados_osd_op_timeout), then the old connection is closed and a new one
 * made, every SVM_RBD_RECONNECT_INTERVAL_S until the cluster answers or the
 * store is closed.
 */
static void reconnect(struct svm_rbd *r)
{
	struct timespec t0, t1;
	char *reason = NULL;
	unsigned attempt;
	int ret;

	__atomic_store_n(&r->down, 1, __ATOMIC_SEQ_CST);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	svm_log(SVM_LOG_WARN, "RBD store %s: the cluster does not answer: reconnecting", r->spec);
	pthread_mutex_lock(&r->rc_lock);
	while (__atomic_load_n(&r->inflight, __ATOMIC_SEQ_CST))
		pthread_cond_wait(&r->idle, &r->rc_lock);
	pthread_mutex_unlock(&r->rc_lock);
	if (r->image) { /* the lock owner a relock may have to break: this connection */
		snprintf(r->old_owner, sizeof(r->old_owner), "client.%llu",
			 (unsigned long long)rados_get_instance_id(r->cluster));
		note_old_addr(r);
	}
	detach(r);
	for (attempt = 1;; attempt++) {
		ret = attach(r, &reason);
		if (!ret)
			break;
		detach(r);
		svm_log(SVM_LOG_WARN, "RBD store %s: reconnect %u failed: %s; again in %d s",
			r->spec, attempt, reason ? reason : strerror(-ret),
			SVM_RBD_RECONNECT_INTERVAL_S);
		free(reason);
		reason = NULL;
		if (rc_sleep(r, SVM_RBD_RECONNECT_INTERVAL_S))
			return; /* closing: stays down */
	}
	if (r->locked)
		relock(r);
	/* kicks by calls that failed on the old connection are answered */
	pthread_mutex_lock(&r->rc_lock);
	r->rc_kick = false;
	pthread_mutex_unlock(&r->rc_lock);
	__atomic_store_n(&r->down, 0, __ATOMIC_RELEASE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	svm_log(SVM_LOG_WARN, "RBD store %s: reconnected (attempt %u, %lld s after the loss)",
		r->spec, attempt, (long long)(t1.tv_sec - t0.tv_sec));
}

static void *reconnect_main(void *arg)
{
	struct svm_rbd *r = arg;

	pthread_mutex_lock(&r->rc_lock);
	for (;;) {
		while (!r->rc_kick && !r->rc_stop)
			pthread_cond_wait(&r->rc_cond, &r->rc_lock);
		if (r->rc_stop)
			break;
		r->rc_kick = false;
		pthread_mutex_unlock(&r->rc_lock);
		reconnect(r);
		pthread_mutex_lock(&r->rc_lock);
	}
	pthread_mutex_unlock(&r->rc_lock);
	return NULL;
}

/*
 * Issue one aio call through start (which gets the completion) and wait for
 * it. The result: 0, or the call's or the completion's -errno.
 */
typedef int (*aio_start_fn)(struct svm_rbd *r, rbd_completion_t c, void *arg);

static int aio_wait(struct svm_rbd *r, aio_start_fn start, void *arg)
{
	rbd_completion_t c;
	ssize_t n;
	int ret = io_begin(r);

	if (ret)
		return ret;
	ret = rbd_aio_create_completion(NULL, NULL, &c);
	if (ret < 0)
		goto leave;
	ret = start(r, c, arg);
	if (ret < 0)
		goto release;
	rbd_aio_wait_for_complete(c);
	n = rbd_aio_get_return_value(c);
	ret = n < 0 ? (int)n : 0;
release:
	rbd_aio_release(c);
leave:
	return io_end(r, ret);
}

struct xfer_args {
	const struct iovec *iov;
	int cnt;
	uint64_t off;
	uint64_t len;
};

static int start_readv(struct svm_rbd *r, rbd_completion_t c, void *arg)
{
	struct xfer_args *x = arg;

	return rbd_aio_readv(r->image, x->iov, x->cnt, x->off, c);
}

static int start_writev(struct svm_rbd *r, rbd_completion_t c, void *arg)
{
	struct xfer_args *x = arg;

	return rbd_aio_writev(r->image, x->iov, x->cnt, x->off, c);
}

static int start_flush(struct svm_rbd *r, rbd_completion_t c, void *arg)
{
	(void)arg;
	return rbd_aio_flush(r->image, c);
}

static int start_discard(struct svm_rbd *r, rbd_completion_t c, void *arg)
{
	struct xfer_args *x = arg;

	return rbd_aio_discard(r->image, x->off, x->len, c);
}

static int start_write_zeroes(struct svm_rbd *r, rbd_completion_t c, void *arg)
{
	struct xfer_args *x = arg;

	return rbd_aio_write_zeroes(r->image, x->off, x->len, c, 0, 0);
}

/*
 * A vectored transfer of exactly len bytes. librbd takes at most IOV_MAX
 * iovecs a call; a longer iovec goes through one bounce buffer.
 */
static int xfer(struct svm_rbd *r, const struct iovec *iov, size_t iov_cnt, uint64_t off,
		size_t len, bool write)
{
	struct svm_iov_window w;
	struct xfer_args x = {.off = off, .len = len};
	struct iovec one;
	int ret;

	if (!len)
		return 0;
	ret = svm_iov_window_init(&w, iov, iov_cnt, len);
	if (ret)
		return ret;
	if (w.cnt <= IOV_MAX) {
		x.iov = w.iov;
		x.cnt = w.cnt;
		ret = aio_wait(r, write ? start_writev : start_readv, &x);
		goto free_window;
	}
	one.iov_len = len;
	one.iov_base = malloc(len);
	if (!one.iov_base) {
		ret = -ENOMEM;
		goto free_window;
	}
	x.iov = &one;
	x.cnt = 1;
	if (write)
		svm_iov_to_buf(w.iov, (size_t)w.cnt, 0, one.iov_base, len);
	ret = aio_wait(r, write ? start_writev : start_readv, &x);
	if (!ret && !write)
		svm_iov_from_buf(w.iov, (size_t)w.cnt, one.iov_base, len);
	free(one.iov_base);
free_window:
	svm_iov_window_free(&w);
	return ret;
}

int svm_rbd_readv(struct svm_rbd *r, const struct iovec *iov, size_t iov_cnt, uint64_t off,
		  size_t len)
{
	return xfer(r, iov, iov_cnt, off, len, false);
}

int svm_rbd_writev(struct svm_rbd *r, const struct iovec *iov, size_t iov_cnt, uint64_t off,
		   size_t len, bool fua)
{
	int none = 0, ret = xfer(r, iov, iov_cnt, off, len, true);

	/*
	 * Without librbd's cache the write completed once the OSDs committed it:
	 * no flush, which would also wait for every write in flight before it.
	 */
	if (ret || !fua || r->stable)
		return ret;
	ret = aio_wait(r, start_flush, NULL);
	/* perhaps an earlier acknowledged write's failure: the next flush reports it too */
	if (ret && !r->stable)
		__atomic_compare_exchange_n(&r->lost_write, &none, -EIO, false, __ATOMIC_ACQ_REL,
					    __ATOMIC_ACQUIRE);
	return ret;
}

/*
 * With writes acknowledged early, a failed flush may have lost some for
 * good (librbd does not send them again): -EIO, never an error the
 * initiator retries into a GOOD.
 */
static int flush_result(struct svm_rbd *r, int ret);

int svm_rbd_flush(struct svm_rbd *r)
{
	return flush_result(r, aio_wait(r, start_flush, NULL));
}

/* One asynchronous command (svm_rbd_aio): its window of the iovec lives until done. */
struct rbd_aio {
	struct svm_rbd *r;
	enum svm_rbd_aio_kind kind;
	bool sync;	  /* a write: a flush after it */
	bool flushing;	  /* that flush is the one in flight */
	struct svm_iov_window w;
	svm_rbd_aio_done_fn done;
	void *arg;
};

/* A flush's result as svm_rbd_flush reports it (lost writes, early acknowledgement). */
static int flush_result(struct svm_rbd *r, int ret)
{
	int lost = __atomic_exchange_n(&r->lost_write, 0, __ATOMIC_ACQ_REL);

	if (lost || (ret && !r->stable && ret != -ENOTCONN))
		return -EIO;
	return ret;
}

static void aio_finish(struct rbd_aio *a, int ret)
{
	svm_rbd_aio_done_fn done = a->done;
	void *arg = a->arg;

	io_end(a->r, ret);
	if (a->kind != SVM_RBD_AIO_FLUSH)
		svm_iov_window_free(&a->w);
	free(a);
	done(arg, ret);
}

/* librbd's callback (its finisher thread): the next step, or the command's end. */
static void aio_cb(rbd_completion_t c, void *arg)
{
	struct rbd_aio *a = arg;
	ssize_t n = rbd_aio_get_return_value(c);
	int ret = n < 0 ? (int)n : 0, none = 0;

	rbd_aio_release(c);
	if (a->kind == SVM_RBD_AIO_FLUSH || a->flushing) {
		if (a->flushing && ret && !a->r->stable) /* as svm_rbd_writev */
			__atomic_compare_exchange_n(&a->r->lost_write, &none, -EIO, false,
						    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
		aio_finish(a, a->kind == SVM_RBD_AIO_FLUSH ? flush_result(a->r, ret) : ret);
		return;
	}
	if (!ret && a->sync) {
		a->flushing = true;
		if (rbd_aio_create_completion(a, aio_cb, &c) < 0) {
			aio_finish(a, -ENOMEM);
			return;
		}
		ret = rbd_aio_flush(a->r->image, c);
		if (ret < 0) {
			rbd_aio_release(c);
			aio_finish(a, ret);
		}
		return;
	}
	aio_finish(a, ret);
}

int svm_rbd_aio(struct svm_rbd *r, enum svm_rbd_aio_kind kind, const struct iovec *iov,
		size_t iov_cnt, uint64_t off, size_t len, bool sync, svm_rbd_aio_done_fn done,
		void *arg)
{
	struct rbd_aio *a = calloc(1, sizeof(*a));
	rbd_completion_t c;
	int ret;

	if (!a)
		return -EAGAIN;
	/* a write of a stable store is stable once done: no flush after it (svm_rbd_writev) */
	*a = (struct rbd_aio){
	    .r = r, .kind = kind, .sync = sync && !r->stable, .done = done, .arg = arg};
	if (kind != SVM_RBD_AIO_FLUSH) {
		if (!len || svm_iov_window_init(&a->w, iov, iov_cnt, len) || a->w.cnt > IOV_MAX) {
			if (len)
				svm_iov_window_free(&a->w);
			free(a);
			return -EAGAIN; /* the blocking calls serve it */
		}
	}
	ret = io_begin(r);
	if (ret)
		goto free_aio;
	ret = rbd_aio_create_completion(a, aio_cb, &c);
	if (ret < 0)
		goto leave;
	switch (kind) {
	case SVM_RBD_AIO_READ:
		ret = rbd_aio_readv(r->image, a->w.iov, a->w.cnt, off, c);
		break;
	case SVM_RBD_AIO_WRITE:
		ret = rbd_aio_writev(r->image, a->w.iov, a->w.cnt, off, c);
		break;
	case SVM_RBD_AIO_FLUSH:
		ret = rbd_aio_flush(r->image, c);
		break;
	}
	if (ret >= 0)
		return 0;
	rbd_aio_release(c);
leave:
	io_leave(r);
free_aio:
	if (kind != SVM_RBD_AIO_FLUSH)
		svm_iov_window_free(&a->w);
	free(a);
	return -EAGAIN;
}

int svm_rbd_discard(struct svm_rbd *r, uint64_t off, uint64_t len)
{
	struct xfer_args x = {.off = off, .len = len};

	return len ? aio_wait(r, start_discard, &x) : 0;
}

int svm_rbd_write_zeroes(struct svm_rbd *r, uint64_t off, uint64_t len)
{
	struct xfer_args x = {.off = off, .len = len};

	return len ? aio_wait(r, start_write_zeroes, &x) : 0;
}

bool svm_rbd_stable_writes(const struct svm_rbd *r)
{
	return r->stable;
}

struct same_args {
	uint64_t off;
	size_t len;
	const char *data, *cmp;
	size_t data_len;
	uint64_t mismatch; /* compare_and_write: the image offset librbd reports */
};

static int start_write_same(struct svm_rbd *r, rbd_completion_t c, void *arg)
{
	struct same_args *x = arg;

	return rbd_aio_writesame(r->image, x->off, x->len, x->data, x->data_len, c, 0);
}

int svm_rbd_write_same(struct svm_rbd *r, uint64_t off, uint64_t len, const void *block,
		       size_t block_len)
{
	struct same_args x = {.off = off, .len = (size_t)len, .data = block, .data_len = block_len};

	if (!len)
		return 0;
	if (!block_len || len % block_len || len > SIZE_MAX)
		return -EINVAL;
	svm_log(SVM_LOG_DBG, "RBD store %s: writesame of %llu bytes at %llu (a %zu-byte block)",
		r->spec, (unsigned long long)len, (unsigned long long)off, block_len);
	return aio_wait(r, start_write_same, &x);
}

static int start_compare_and_write(struct svm_rbd *r, rbd_completion_t c, void *arg)
{
	struct same_args *x = arg;
	ssize_t ret = rbd_aio_compare_and_write(r->image, x->off, x->len, x->cmp, x->data, c,
						&x->mismatch, 0);

	return ret < 0 ? (int)ret : 0;
}

/*
 * Where in [off, off + len) librbd's mismatch offset m points. librbd
 * reports an image offset; some releases map the OSD's offset within the
 * compared extent as if it were one within the object (the extent's
 * object start plus the index). The range lies within one stripe unit,
 * so the two readings never overlap unless they agree (off at the unit's
 * start).
 */
static uint64_t mismatch_index(const struct svm_rbd *r, uint64_t off, uint64_t len, uint64_t m)
{
	uint64_t start = r->stripe_unit ? off - off % r->stripe_unit : off;

	if (m >= off && m - off < len)
		return m - off;
	if (m >= start && m - start < len)
		return m - start;
	return 0; /* out of both: the compare failed somewhere in the block */
}

int svm_rbd_compare_and_write(struct svm_rbd *r, uint64_t off, uint64_t len, const void *cmp,
			      const void *buf, uint64_t *mismatch)
{
	struct same_args x = {.off = off, .len = (size_t)len, .data = buf, .cmp = cmp};
	int ret;

	if (!len)
		return 0;
	if (r->stripe_unit && off / r->stripe_unit != (off + len - 1) / r->stripe_unit)
		return -EOPNOTSUPP; /* librbd would refuse a range over two objects (-EINVAL) */
	ret = aio_wait(r, start_compare_and_write, &x);
	if (ret == -EILSEQ) {
		*mismatch = mismatch_index(r, off, len, x.mismatch);
		svm_log(SVM_LOG_DBG,
			"RBD store %s: compare_and_write of %llu bytes at %llu miscompared at "
			"image offset %llu (byte %llu)",
			r->spec, (unsigned long long)len, (unsigned long long)off,
			(unsigned long long)x.mismatch, (unsigned long long)*mismatch);
		return 1;
	}
	svm_log(SVM_LOG_DBG, "RBD store %s: compare_and_write of %llu bytes at %llu: %d", r->spec,
		(unsigned long long)len, (unsigned long long)off, ret);
	return ret;
}

/*
 * rbd_diff_iterate2 does not call back in offset order (its object
 * requests run concurrently): the extents of a window are collected, then
 * sorted.
 */
struct extent_list {
	struct svm_rbd_extent {
		uint64_t off, len;
	} *v;
	size_t n, cap;
};

static int extent_cb(uint64_t o, size_t l, int exists, void *arg)
{
	struct extent_list *el = arg;
	void *p;

	if (!exists || !l)
		return 0; /* discarded since the image began: not allocated */
	if (el->n == el->cap) {
		el->cap = el->cap ? el->cap * 2 : 64;
		p = realloc(el->v, el->cap * sizeof(*el->v));
		if (!p)
			return -ENOMEM;
		el->v = p;
	}
	el->v[el->n++] = (struct svm_rbd_extent){.off = o, .len = l};
	return 0;
}

static int extent_cmp(const void *a, const void *b)
{
	const struct svm_rbd_extent *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

int svm_rbd_extent(struct svm_rbd *r, uint64_t off, uint64_t size, bool *mapped,
		   uint64_t *end)
{
	struct extent_list el = {0};
	uint64_t from = off, win, cur;
	int ret = 0;

	*mapped = true;
	*end = size;
	/*
	 * Windows of SVM_RBD_EXTENT_WINDOW bytes from off: the run that holds
	 * off ends inside one (found), or goes on into the next.
	 */
	for (bool first = true; from < size; first = false) {
		win = size - from < SVM_RBD_EXTENT_WINDOW ? size - from : SVM_RBD_EXTENT_WINDOW;
		el.n = 0;
		ret = io_begin(r);
		if (!ret)
			ret = io_end(r, rbd_diff_iterate2(r->image, NULL, from, win, 1, 0,
							  extent_cb, &el));
		if (ret < 0)
			goto free_list;
		ret = 0;
		qsort(el.v, el.n, sizeof(*el.v), extent_cmp);
		cur = from; /* allocated up to here, from the run's start */
		for (size_t i = 0; i < el.n; i++) {
			if (el.v[i].off + el.v[i].len <= cur)
				continue;
			if (el.v[i].off > cur)
				break; /* a gap */
			cur = el.v[i].off + el.v[i].len;
		}
		if (first)
			*mapped = cur > from;
		if (!*mapped) {
			/* unallocated from off to the first extent at or after it */
			for (size_t i = 0; i < el.n; i++) {
				if (el.v[i].off + el.v[i].len > from) {
					*end = el.v[i].off > off ? el.v[i].off : off;
					goto free_list;
				}
			}
		} else if (cur < from + win) {
			*end = cur;
			goto free_list;
		}
		from += win; /* the run goes on past the window */
	}
	*end = size;
free_list:
	free(el.v);
	return ret;
}

int svm_rbd_size(struct svm_rbd *r, uint64_t *size)
{
	int ret = io_begin(r);

	return ret ? ret : io_end(r, rbd_get_size(r->image, size));
}

/* ---- a migration's destination: create, lock, resize, remove ------------------------ */


int svm_rbd_create(const char *spec, const char *conf, const char *id, uint64_t size,
		   char **reason)
{
	uint64_t features = RBD_FEATURE_LAYERING | RBD_FEATURE_EXCLUSIVE_LOCK |
			    RBD_FEATURE_OBJECT_MAP | RBD_FEATURE_FAST_DIFF;
	char *image = NULL;
	struct svm_rbd *r;
	int order = 0, ret;

	ret = connect_pool(spec, conf, id, &r, &image, reason);
	if (ret)
		return ret;
	ret = rbd_create2(r->io, image, size, features, &order);
	if (ret == -EEXIST)
		ret = svm_reason(reason, -EEXIST, "RBD image '%s' exists", spec);
	else if (ret < 0)
		ret = svm_reason(reason, ret, "cannot create RBD image '%s' of %llu bytes: %s",
				 spec, (unsigned long long)size, strerror(-ret));
	else
		svm_log(SVM_LOG_INFO,
			"RBD image %s created: %llu bytes, layering,exclusive-lock,object-map,"
			"fast-diff",
			spec, (unsigned long long)size);
	svm_rbd_close(r);
	free(image);
	return ret < 0 ? ret : 0;
}

int svm_rbd_remove(const char *spec, const char *conf, const char *id, char **reason)
{
	char *image = NULL;
	struct svm_rbd *r;
	int ret;

	ret = connect_pool(spec, conf, id, &r, &image, reason);
	if (ret)
		return ret;
	ret = rbd_remove(r->io, image);
	if (ret < 0)
		ret = svm_reason(reason, ret, "cannot remove RBD image '%s': %s", spec,
				 strerror(-ret));
	else
		svm_log(SVM_LOG_INFO, "RBD image %s removed", spec);
	svm_rbd_close(r);
	free(image);
	return ret < 0 ? ret : 0;
}

/* Who holds r's exclusive lock, as "owner1, owner2" (malloc'd), or NULL when none is told. */
static char *lock_owners(struct svm_rbd *r)
{
	rbd_lock_mode_t mode;
	char *owners[8], *out = NULL;
	size_t n = 8, len = 0;

	if (rbd_lock_get_owners(r->image, &mode, owners, &n) < 0 || !n)
		return NULL;
	for (size_t i = 0; i < n; i++)
		len += strlen(owners[i]) + 2;
	out = malloc(len + 1);
	if (out) {
		out[0] = '\0';
		for (size_t i = 0; i < n; i++) {
			strcat(out, i ? ", " : "");
			strcat(out, owners[i]);
		}
	}
	rbd_lock_get_owners_cleanup(owners, n);
	return out;
}

/*
 * Break the exclusive lock of every owner r's image has (librbd blocklists
 * each first: a dead client's late writes cannot land after ours). For a
 * resumed migration, whose destination's owner is the crashed runner.
 */
static void break_owners(struct svm_rbd *r)
{
	rbd_lock_mode_t mode;
	char *owners[8];
	size_t n = 8;
	int ret;

	if (rbd_lock_get_owners(r->image, &mode, owners, &n) < 0 || !n)
		return;
	for (size_t i = 0; i < n; i++) {
		ret = rbd_lock_break(r->image, RBD_LOCK_MODE_EXCLUSIVE, owners[i]);
		svm_log(ret < 0 ? SVM_LOG_WARN : SVM_LOG_INFO,
			"RBD image %s: the exclusive lock of %s (a crashed runner) %s%s", r->spec,
			owners[i], ret < 0 ? "could not be broken: " : "broken",
			ret < 0 ? strerror(-ret) : "");
	}
	rbd_lock_get_owners_cleanup(owners, n);
}

int svm_rbd_lock(struct svm_rbd *r, unsigned wait_s, bool break_stale, char **reason)
{
	char *owners;
	int ret;

	if (break_stale)
		break_owners(r);
	for (unsigned waited = 0;; waited += 2) {
		ret = rbd_lock_acquire(r->image, RBD_LOCK_MODE_EXCLUSIVE);
		if (ret >= 0) {
			r->locked = true;
			return 0;
		}
		if (ret == -EINVAL || ret == -EOPNOTSUPP)
			return svm_reason(reason, ret,
					  "RBD image '%s' cannot be held exclusively (it needs the "
					  "exclusive-lock feature: rbd feature enable %s "
					  "exclusive-lock): %s",
					  r->spec, r->spec + sizeof(RBD_PREFIX) - 1,
					  strerror(-ret));
		if (waited >= wait_s)
			break;
		sleep(2); /* a dead owner's lock is broken once its watch has expired */
	}
	owners = lock_owners(r);
	svm_reason(reason, -EBUSY,
		   "RBD image '%s' is in use: another client holds its exclusive lock (%s%s; "
		   "rbd_lock_acquire: %s)",
		   r->spec, owners ? "lock owner " : "owner unknown", owners ? owners : "",
		   strerror(-ret));
	free(owners);
	return -EBUSY;
}

int svm_rbd_resize(struct svm_rbd *r, uint64_t size, char **reason)
{
	int ret = rbd_resize(r->image, size);

	if (ret < 0)
		return svm_reason(reason, ret, "cannot resize RBD image '%s' to %llu bytes: %s",
				  r->spec, (unsigned long long)size, strerror(-ret));
	return 0;
}
