/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tcmu-runner glue: one ops table, one exported symbol (handler_init).
 *
 * nr_threads is 0: the runner calls us on its one command thread per LUN
 * (cmdproc) and we choose where each command runs (svm_scsi_route):
 *   - emulated commands execute at once, on cmdproc; so do READs the page
 *     cache holds and WRITEs it absorbs (no FUA, write cache on), which
 *     cost less than handing them to another thread (unless such writes
 *     turn slow: then they go to the pool for a while);
 *   - other READ/WRITE and SYNCHRONIZE CACHE that pass their checks are
 *     declined (TCMU_STS_NOT_HANDLED), so the runner's generic path calls
 *     svm_read / svm_write / svm_flush, which queue them on the LUN's queue
 *     of the worker pool (handler/pool.h: one pool per runner, shared by
 *     its LUNs); the worker completes them with tcmur_cmd_complete(). With
 *     SVM_ENGINE=uring they go to the process's io_uring instead
 *     (handler/uring.h) when that can take them without waiting (see
 *     uring_cmd), and its completion thread completes them;
 *   - other commands that block on a store are queued on the pool too,
 *     completed through the same callback the runner sets for its generic
 *     path (see runner_done).
 * Every command executes through handler/scsi.c, whichever thread runs it.
 */
#define _GNU_SOURCE
#include "tcmu_abi.h"
#include "cfg.h"
#include "iov.h"
#include "ctl.h"
#include "limits.h"
#include "lio.h"
#include "log.h"
#include "lun.h"
#include "migrate.h"
#include "pool.h"
#include "uring.h"
#include "registry.h"
#include "scsi.h"
#include "sense.h"
#include "store.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char svm_cfg_desc[] =
	"<source-path>[;dst=<dest-path>][;create=yes|no][;wce=yes|no][;mover=auto|bounce|"
	"kernel|reflink][;xcopy_group=<name>][;direct=yes|no][;svm_log=<path>]: absolute path "
	"of a regular file or block device holding the LUN (a missing file is created when its "
	"directory exists, unless create=no; an existing one is never truncated). Separate "
	"elements with ';', never ','. See docs/cfgstring.md.";

struct svm_slot;

/* What an open LUN holds. */
struct svm_dev {
	struct svm_lun *lun;
	struct svm_pool_queue *queue; /* this LUN's jobs on the runner's pool */
	struct svm_slot *slot;
	struct svm_cfg cfg;	     /* as accepted at open or by a later dev_config; slot's cfg_lock */
	char dir[PATH_MAX];	     /* the device's configfs directory, "" if unknown */
	const char *name;	     /* the backstore's name: dir's last component, or "" */
	pthread_mutex_t mig_lock;    /* serializes the control channel's migrate and abort */
	struct svm_migration *mig;   /* the last migration since open, or NULL; mig_lock */
	bool closing;		     /* atomic: close has begun; a commit stops waiting */
	/* Command thread only: */
	uint64_t pool_writes_until_ns; /* cached writes go to the pool until then */
	uint64_t write_avg_ns;	       /* moving average of cached writes' time here */
	uint64_t inline_rw;	       /* READs and WRITEs served on the command thread */
	uint64_t backoffs;	       /* times cached writes were sent to the pool */
	/* The io_uring engine's commands of this LUN: */
	uint64_t uring_inflight; /* atomic: submitted, not yet completed or handed to the pool */
	uint64_t store_cmds;	 /* atomic: issued by store_cmd (RBD, asynchronous) */
	uint64_t uring_cmds;	 /* command thread: submitted to the ring */
	uint64_t uring_to_pool;	 /* atomic: handed back to the pool after the ring failed them */
};

/*
 * What the runner's private pointer holds: one slot per tcmu_device,
 * which outlives close. tcmu-runner's timeout recovery (__tcmu_reopen_dev)
 * calls close and then open on its recovery thread; it waits for the ring
 * to drain and for tracked commands, but not for a handle_cmd still running
 * on the command thread, which may also pick up new commands meanwhile. So
 * every callout takes the slot's lock for reading while it uses the LUN,
 * and close takes it for writing to detach the LUN before freeing it; a
 * command that finds none answers BUSY and the initiator retries. Slots
 * are never freed (the runner does not say whether a close is a removal):
 * a removed device's slot is reused when a new device gets its address.
 */
struct svm_slot {
	struct svm_slot *next; /* registry, under registry_lock */
	struct tcmu_device *dev;
	pthread_rwlock_t lock;
	struct svm_dev *d;    /* under lock; NULL while closed */
	pthread_mutex_t cfg_lock;
	char *accepted;	      /* dev_config last accepted ("svm/..."), for reopens; cfg_lock */
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct svm_slot *registry;

/* Set by handler_init: the pool's workers, and how many of them one LUN may use at once. */
static unsigned svm_threads = SVM_THREADS_DEFAULT;
static unsigned svm_lun_threads = SVM_LUN_THREADS_DEFAULT;
/* The worker pool of this runner: made by the first open, freed by the last close. */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct svm_pool *pool;
static unsigned pool_users;
static bool ctl_started; /* the control socket is served (once per process) */
/*
 * SVM_ENGINE=uring (handler_init): the process's io_uring engine, shared
 * by every LUN, for the commands svm_read / svm_write / svm_flush receive;
 * NULL: they all go to the LUN's worker pool (SVM_ENGINE=pool, the default).
 */
static struct svm_uring *uring;

/* A queue of this runner's pool (started if need be) for a LUN. 0 or -errno. Blocks briefly. */
static int pool_queue_open(struct svm_pool_queue **out)
{
	int ret = 0;

	pthread_mutex_lock(&pool_lock);
	if (!pool)
		ret = svm_pool_create(svm_threads, "io", &pool);
	if (!ret)
		ret = svm_pool_queue_open(pool, svm_lun_threads, out);
	if (!ret)
		pool_users++;
	else if (!pool_users) {
		svm_pool_destroy(pool);
		pool = NULL;
	}
	pthread_mutex_unlock(&pool_lock);
	return ret;
}

/* Close a LUN's queue (runs what it still holds); the last one stops the pool. Blocks. */
static void pool_queue_close(struct svm_pool_queue *q, struct svm_pool_stats *pool_st)
{
	svm_pool_queue_close(q);
	pthread_mutex_lock(&pool_lock);
	svm_pool_get_stats(pool, pool_st);
	if (!--pool_users) {
		svm_pool_destroy(pool);
		pool = NULL;
	}
	pthread_mutex_unlock(&pool_lock);
}

/* The slot of dev, created on first use. NULL if out of memory. Main loop / recovery thread. */
static struct svm_slot *slot_get(struct tcmu_device *dev)
{
	struct svm_slot *s;

	pthread_mutex_lock(&registry_lock);
	for (s = registry; s && s->dev != dev; s = s->next)
		;
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (s) {
			s->dev = dev;
			pthread_rwlock_init(&s->lock, NULL);
			pthread_mutex_init(&s->cfg_lock, NULL);
			s->next = registry;
			registry = s;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	return s;
}

/* The open LUN of dev with its slot read-locked, or NULL (nothing locked). */
static struct svm_dev *dev_get(struct tcmu_device *dev, struct svm_slot **slot)
{
	struct svm_slot *s = tcmur_dev_get_private(dev);

	*slot = s;
	if (!s)
		return NULL;
	pthread_rwlock_rdlock(&s->lock);
	if (!s->d) {
		pthread_rwlock_unlock(&s->lock);
		return NULL;
	}
	return s->d;
}

static void dev_put(struct svm_slot *s)
{
	pthread_rwlock_unlock(&s->lock);
}

static bool svm_check_config(const char *cfgstring, char **reason)
{
	struct svm_cfg cfg;
	int ret;

	ret = svm_cfg_parse_dev_config(cfgstring, &cfg, reason);
	if (ret)
		return false;
	ret = svm_cfg_check_paths(&cfg, reason);
	svm_cfg_free(&cfg);
	return ret == 0;
}

/* The LUN's identity source (lun.h): configfs wwn/vpd_unit_serial, read when asked. */
static int lio_serial(void *arg, char *buf, size_t len)
{
	const struct svm_dev *d = arg;
	int ret;

	if (!d->dir[0])
		return -ENODATA;
	ret = svm_lio_serial(d->dir, buf, len);
	return ret ? ret : buf[0] ? 0 : -ENODATA;
}

/*
 * The write cache a LUN opens with. LIO's emulate_write_cache attribute is
 * what saveconfig records and what `set attribute` changes (through
 * svm_reconfig), so once the device is configured it is the truth: a
 * runner restart or a reopen keeps a change made live. While LIO is still
 * enabling the device (a create or restoreconfig), the cfgstring's wce=
 * decides, and is written into the attribute; the kernel stores it
 * without a netlink round trip then, since the device is not configured yet.
 */
static bool open_wce(struct tcmu_device *dev, const struct svm_dev *d)
{
	char v[16];
	int enabled = d->dir[0] ? svm_lio_enabled(d->dir) : -ENOENT, ret;

	if (enabled == 1 && !svm_lio_attr_get(d->dir, "emulate_write_cache", v, sizeof(v)) &&
	    (!strcmp(v, "0") || !strcmp(v, "1"))) {
		if ((v[0] == '1') != d->cfg.wce)
			tcmu_dev_info(dev, "svm: write cache %s, as emulate_write_cache says (the "
					   "cfgstring's wce= gave the value at creation)\n",
				      v[0] == '1' ? "on" : "off");
		return v[0] == '1';
	}
	if (enabled == 0) {
		ret = svm_lio_attr_set(d->dir, "emulate_write_cache", d->cfg.wce ? "1" : "0");
		if (ret)
			tcmu_dev_warn(dev, "svm: cannot record wce=%s in emulate_write_cache: %s\n",
				      d->cfg.wce ? "yes" : "no", strerror(-ret));
	}
	return d->cfg.wce;
}

/*
 * The dev_config a LUN opens with. A reopen takes what we accepted since
 * (libtcmu hands back the string of device creation, never a later one).
 * Otherwise LIO's own attribute, once the device is configured: after a
 * runner restart it holds what a migration wrote, which libtcmu's string
 * (from the UIO device's name, fixed at creation) does not. malloc'd.
 */
static char *open_config(struct tcmu_device *dev, const struct svm_dev *d, const char *accepted)
{
	const char *created = tcmu_dev_get_cfgstring(dev);
	char lio[SVM_DEV_CONFIG_MAX + 2];

	if (accepted)
		return strdup(accepted);
	if (d->dir[0] && svm_lio_enabled(d->dir) == 1 &&
	    !svm_lio_attr_get(d->dir, "dev_config", lio, sizeof(lio)) && !strncmp(lio, "svm/", 4)) {
		if (strcmp(lio, created))
			tcmu_dev_info(dev, "svm: opening with LIO's dev_config '%s' (created as '%s')\n",
				      lio, created);
		return strdup(lio);
	}
	return strdup(created);
}

/* ---- the migration's switchover in LIO's configuration ---------------------------------- */

/*
 * A dev_config write, on a thread of its own: the kernel hands it to the
 * runner's main loop (our reconfig) and the write returns only when that
 * has answered, so no thread the main loop may wait for can make it.
 */
struct commit_job {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int refs; /* the writer's and the waiter's */
	bool done;
	int ret;
	char dir[PATH_MAX];
	char value[SVM_DEV_CONFIG_MAX + 1];
};

static void commit_job_put(struct commit_job *j)
{
	bool last;

	pthread_mutex_lock(&j->lock);
	last = --j->refs == 0;
	pthread_mutex_unlock(&j->lock);
	if (last) {
		pthread_mutex_destroy(&j->lock);
		pthread_cond_destroy(&j->cond);
		free(j);
	}
}

static void *commit_writer(void *arg)
{
	struct commit_job *j = arg;
	int ret = svm_lio_attr_set(j->dir, "dev_config", j->value);

	pthread_mutex_lock(&j->lock);
	j->ret = ret;
	j->done = true;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&j->lock);
	commit_job_put(j);
	return NULL;
}

/*
 * d's configuration now names store `to` (dst= dropped when it named to):
 * update d->cfg and start writing it to LIO's dev_config. The job (a
 * reference held for the caller), or NULL with -errno in *err.
 */
static struct commit_job *commit_start(struct svm_dev *d, const char *to, int *err)
{
	struct commit_job *j = calloc(1, sizeof(*j));
	char *src = strdup(to);
	pthread_t t;

	*err = -ENOMEM;
	if (!j || !src)
		goto free_job;
	*err = -ENODEV;
	if (!d->dir[0])
		goto free_job;
	pthread_mutex_lock(&d->slot->cfg_lock);
	free(d->cfg.src);
	d->cfg.src = src;
	src = NULL;
	if (d->cfg.dst && svm_cfg_same_store(d->cfg.dst, to)) {
		free(d->cfg.dst);
		d->cfg.dst = NULL;
	}
	*err = svm_cfg_format(&d->cfg, j->value, sizeof(j->value));
	pthread_mutex_unlock(&d->slot->cfg_lock);
	if (*err)
		goto free_job;
	snprintf(j->dir, sizeof(j->dir), "%s", d->dir);
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	j->refs = 2;
	*err = -pthread_create(&t, NULL, commit_writer, j);
	if (*err) {
		pthread_mutex_destroy(&j->lock);
		pthread_cond_destroy(&j->cond);
		goto free_job;
	}
	pthread_detach(t);
	return j;

free_job:
	free(src);
	free(j);
	return NULL;
}

/* After an open that followed a moved store: record it in LIO, without waiting. */
static void commit_async(struct svm_dev *d)
{
	int err;
	struct commit_job *j = commit_start(d, d->cfg.src, &err);

	if (j)
		commit_job_put(j);
	else
		svm_log(SVM_LOG_WARN, "LUN %s: cannot record %s in dev_config: %s", d->name,
			d->cfg.src, strerror(-err));
}

/*
 * The migration's commit hook (migrate.h), on its thread: make dev_config
 * name the destination, and wait for LIO to take it (SVM_COMMIT_WAIT_S at
 * most, less if the LUN closes: the record then makes the next open
 * commit again).
 */
static int commit_hook(void *arg, const char *to, char **reason)
{
	const char *delay = getenv("SVM_FAULT_COMMIT_DELAY_MS");
	struct svm_dev *d = arg;
	struct commit_job *j;
	struct timespec until;
	int err, ret;

	/*
	 * Fault injection for the crash tests (tests/e2e/t_migrate_crash.sh): a
	 * window between the flip and the commit, to kill the runner in.
	 */
	if (delay && atoi(delay) > 0) {
		svm_log(SVM_LOG_WARN, "LUN %s: switched over; dev_config written in %d ms "
				      "(SVM_FAULT_COMMIT_DELAY_MS)",
			d->name, atoi(delay));
		for (int ms = 0; ms < atoi(delay) && !__atomic_load_n(&d->closing, __ATOMIC_ACQUIRE);
		     ms += 10)
			usleep(10000);
	}
	j = commit_start(d, to, &err);
	if (!j)
		return svm_reason(reason, err, "cannot write dev_config: %s", strerror(-err));
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += SVM_COMMIT_WAIT_S;
	pthread_mutex_lock(&j->lock);
	while (!j->done && !__atomic_load_n(&d->closing, __ATOMIC_ACQUIRE)) {
		struct timespec step;

		clock_gettime(CLOCK_REALTIME, &step);
		if (step.tv_sec >= until.tv_sec)
			break;
		step.tv_nsec += 100000000;
		if (step.tv_nsec >= 1000000000) {
			step.tv_sec++;
			step.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&j->cond, &j->lock, &step);
	}
	ret = j->done ? j->ret : -ETIMEDOUT;
	pthread_mutex_unlock(&j->lock);
	if (ret)
		svm_reason(reason, ret, "writing dev_config '%s' to %s/attrib: %s", j->value, d->dir,
			   ret == -ETIMEDOUT ? "no answer from tcmu-runner's main loop"
					     : strerror(-ret));
	commit_job_put(j);
	return ret;
}

/* The hooks of d's migrations; svmlog (PATH_MAX bytes) receives the svm_log= path. */
static void migrate_hooks(struct svm_dev *d, struct svm_migrate_hooks *h, char *svmlog)
{
	pthread_mutex_lock(&d->slot->cfg_lock);
	snprintf(svmlog, PATH_MAX, "%s", d->cfg.svm_log ? d->cfg.svm_log : "");
	pthread_mutex_unlock(&d->slot->cfg_lock);
	*h = (struct svm_migrate_hooks){
		.commit = commit_hook,
		.arg = d,
		.svmlog = svmlog[0] ? svmlog : NULL,
		.name = d->name[0] ? d->name : svm_lun_source(d->lun),
		/* fixed while the LUN is open (svm_cfg_check_live_change) */
		.rbd_conf = d->cfg.conf,
		.rbd_id = d->cfg.id,
	};
}

static int svm_open(struct tcmu_device *dev, bool reopen)
{
	struct svm_lun_params p = {
		.block_size = tcmu_dev_get_block_size(dev),
		.num_lbas = tcmu_dev_get_num_lbas(dev),
		.max_xfer_blocks = tcmu_dev_get_max_xfer_len(dev),
		.serial = lio_serial,
	};
	struct svm_slot *slot = slot_get(dev);
	struct svm_migrate_hooks hooks;
	char *reason = NULL, *config = NULL, store[PATH_MAX], svmlog[PATH_MAX];
	bool moved;
	struct svm_lun_geom g;
	struct svm_pool_stats pst;
	struct svm_dev *d = NULL;
	int ret;

	if (!slot)
		return -ENOMEM;
	ret = -ENOMEM;
	d = calloc(1, sizeof(*d));
	if (!d)
		goto free_dev;
	d->slot = slot;
	if (svm_lio_dev_dir(tcmu_dev_get_uio_name(dev), d->dir, sizeof(d->dir)))
		d->dir[0] = '\0'; /* no identity: the LUN answers NOT READY (scsi.c) */
	d->name = strrchr(d->dir, '/') ? strrchr(d->dir, '/') + 1 : d->dir;
	pthread_mutex_lock(&slot->cfg_lock);
	if (!reopen) {
		free(slot->accepted);
		slot->accepted = NULL;
	}
	config = open_config(dev, d, slot->accepted);
	pthread_mutex_unlock(&slot->cfg_lock);
	if (!config)
		goto free_dev;
	ret = svm_cfg_parse_dev_config(config, &d->cfg, &reason);
	if (ret)
		goto free_dev;
	/* a migration that switched over, or moved the store, decides where the data is */
	ret = svm_migration_store_to_open(d->cfg.src, store, sizeof(store), &reason);
	if (ret)
		goto free_cfg;
	moved = strcmp(store, d->cfg.src) != 0;
	if (moved) {
		char *to = strdup(store);

		ret = -ENOMEM;
		if (!to)
			goto free_cfg;
		tcmu_dev_info(dev, "svm: %s is now at %s (a migration moved it): opening that\n",
			      d->cfg.src, to);
		free(d->cfg.src);
		d->cfg.src = to;
		if (d->cfg.dst && svm_cfg_same_store(d->cfg.dst, to)) {
			free(d->cfg.dst);
			d->cfg.dst = NULL;
		}
	}
	ret = svm_cfg_check_paths(&d->cfg, &reason);
	if (ret)
		goto free_cfg;
	p.cfg = &d->cfg;
	p.wce = open_wce(dev, d);
	p.serial_arg = d;
	ret = svm_lun_open(&p, &d->lun, &reason);
	if (ret)
		goto free_cfg;
	ret = pool_queue_open(&d->queue);
	if (ret)
		goto close_lun;
	svm_lun_set_mover(d->lun, d->cfg.mover);
	ret = svm_registry_add(d->lun, d->cfg.xcopy_group);
	if (ret)
		goto close_queue;
	pthread_mutex_init(&d->mig_lock, NULL);
	migrate_hooks(d, &hooks, svmlog);
	ret = svm_migration_reopen(d->lun, &hooks, &d->mig, &reason);
	if (ret)
		goto remove_lun;
	if (moved && !d->mig)
		commit_async(d); /* LIO's configuration names the old path: record where it is */

	svm_lun_get_geom(d->lun, &g);
	/* off whatever p.wce says when the store caches no write (svm_lun_open logs why) */
	tcmu_dev_set_write_cache_enabled(dev, g.wce);
	tcmu_dev_set_unmap_enabled(dev, g.lbpu);
	tcmur_dev_set_private(dev, slot);
	pthread_rwlock_wrlock(&slot->lock);
	slot->d = d;
	pthread_rwlock_unlock(&slot->lock);
	tcmu_dev_info(dev, "svm: LUN %sopen on %s (%llu blocks of %u bytes, write cache %s%s%s)\n",
		      reopen ? "re" : "", d->cfg.src, (unsigned long long)p.num_lbas, p.block_size,
		      g.wce ? "on" : "off", d->cfg.dst ? ", destination " : "",
		      d->cfg.dst ? d->cfg.dst : "");
	free(config);
	return 0;

remove_lun:
	pthread_mutex_destroy(&d->mig_lock);
	svm_registry_remove(d->lun);
close_queue:
	pool_queue_close(d->queue, &pst);
close_lun:
	svm_lun_close(d->lun);
free_cfg:
	svm_cfg_free(&d->cfg);
free_dev:
	tcmu_dev_err(dev, "svm: cannot open LUN '%s': %s\n", config ? config : "?",
		     reason ? reason : strerror(-ret));
	free(reason);
	free(config);
	free(d);
	return ret;
}

static void svm_close(struct tcmu_device *dev)
{
	struct svm_slot *slot = tcmur_dev_get_private(dev);
	uint64_t moved[SVM_MOVER_KINDS];
	struct svm_pool_stats st, pst;
	struct svm_dev *d;

	if (!slot)
		return;
	pthread_rwlock_wrlock(&slot->lock); /* waits for a callout still using the LUN */
	d = slot->d;
	slot->d = NULL;
	pthread_rwlock_unlock(&slot->lock);
	if (!d)
		return;
	__atomic_store_n(&d->closing, true, __ATOMIC_RELEASE);
	/* a migration stops at a checkpoint; the next open resumes it */
	pthread_mutex_lock(&d->mig_lock);
	svm_migration_stop(d->mig);
	d->mig = NULL;
	pthread_mutex_unlock(&d->mig_lock);
	pthread_mutex_destroy(&d->mig_lock);
	svm_registry_remove(d->lun); /* waits for copies of other LUNs that use this one */
	/* the ring's commands of this LUN complete, or move to the pool, before it goes */
	while (__atomic_load_n(&d->uring_inflight, __ATOMIC_ACQUIRE))
		usleep(1000);
	svm_pool_queue_get_stats(d->queue, &st);
	pool_queue_close(d->queue, &pst); /* runs what is queued, waits for it */
	svm_lun_moves(d->lun, moved);
	/* tcmu-runner cuts a log line at 256 bytes: three short ones */
	tcmu_dev_info(dev,
		      "svm: LUN on %s closed; %llu reads/writes on the command thread (cached "
		      "writes moved to the pool %llu times), %llu commands on the worker pool, "
		      "at most %u at once\n",
		      svm_lun_source(d->lun), (unsigned long long)d->inline_rw,
		      (unsigned long long)d->backoffs, (unsigned long long)st.started, st.max_busy);
	tcmu_dev_info(dev, "svm: the runner's worker pool so far: %llu commands, %llu thread "
		      "wake-ups, at most %u at once\n",
		      (unsigned long long)pst.started, (unsigned long long)pst.wakeups,
		      pst.max_busy);
	tcmu_dev_info(dev, "svm: EXTENDED COPY moved %llu bytes by bounce, %llu by kernel, %llu by "
		      "reflink\n",
		      (unsigned long long)moved[SVM_MOVER_BOUNCE],
		      (unsigned long long)moved[SVM_MOVER_KERNEL],
		      (unsigned long long)moved[SVM_MOVER_REFLINK]);
	if (d->uring_cmds)
		/* counts first: tcmu-runner cuts long log lines */
		tcmu_dev_info(dev, "svm: io_uring: %llu commands, %llu handed back to the pool (LUN "
				   "on %s)\n",
			      (unsigned long long)d->uring_cmds,
			      (unsigned long long)__atomic_load_n(&d->uring_to_pool,
								  __ATOMIC_RELAXED),
			      svm_lun_source(d->lun));
	if (d->store_cmds)
		tcmu_dev_info(dev, "svm: %llu commands issued asynchronously to the store, %llu "
				   "handed back to the pool (LUN on %s)\n",
			      (unsigned long long)d->store_cmds,
			      (unsigned long long)__atomic_load_n(&d->uring_to_pool,
								  __ATOMIC_RELAXED),
			      svm_lun_source(d->lun));
	svm_lun_close(d->lun);
	svm_cfg_free(&d->cfg);
	free(d);
}

/* ---- the control channel (ctl.h, docs/control.md) ------------------------------------ */

/* STATUS of the open LUN d (its slot read-locked). */
static void lun_status(struct svm_dev *d, struct svm_json *out)
{
	struct svm_migrate_status st;
	struct svm_lun_geom g;
	struct svm_ctl_lun l = {.lun = d->name};
	char dst[PATH_MAX] = "";

	svm_lun_get_geom(d->lun, &g);
	l.size = g.num_lbas * g.block_size;
	pthread_mutex_lock(&d->mig_lock);
	if (d->mig) {
		svm_migration_status(d->mig, &st);
		l.mig = &st;
		l.source = st.switched ? st.destination : st.source;
	} else {
		l.source = svm_lun_source(d->lun);
	}
	pthread_mutex_lock(&d->slot->cfg_lock);
	if (d->cfg.dst)
		snprintf(dst, sizeof(dst), "%s", d->cfg.dst);
	l.mover = d->cfg.mover;
	pthread_mutex_unlock(&d->slot->cfg_lock);
	l.dst = dst[0] ? dst : NULL;
	svm_ctl_status_json(out, &l);
	pthread_mutex_unlock(&d->mig_lock);
}

/* The open LUN named lun, its slot read-locked; NULL with an error answer in out. */
static struct svm_dev *find_lun(const char *lun, struct svm_slot **slot, struct svm_json *out)
{
	struct svm_slot *s, *found = NULL;
	unsigned n = 0;

	pthread_mutex_lock(&registry_lock);
	for (s = registry; s; s = s->next) {
		pthread_rwlock_rdlock(&s->lock);
		if (s->d && s->d->name[0] && !strcmp(s->d->name, lun)) {
			if (found)
				pthread_rwlock_unlock(&found->lock);
			found = s;
			n++;
			continue;
		}
		pthread_rwlock_unlock(&s->lock);
	}
	pthread_mutex_unlock(&registry_lock);
	if (n == 1) {
		*slot = found;
		return found->d;
	}
	if (found)
		pthread_rwlock_unlock(&found->lock);
	if (n > 1)
		svm_json_error(out, -EEXIST, "more than one open user:svm LUN has that name");
	else
		svm_json_error(out, -ENOENT, "no open user:svm LUN of that name");
	return NULL;
}

static void serve_migrate(struct svm_dev *d, const struct svm_ctl_req *req, struct svm_json *out)
{
	struct svm_migrate_hooks hooks;
	struct svm_migration *m = NULL;
	char *reason = NULL, svmlog[PATH_MAX];
	int ret;

	pthread_mutex_lock(&d->mig_lock);
	if (d->mig && svm_migration_running(d->mig)) {
		pthread_mutex_unlock(&d->mig_lock);
		svm_json_error(out, -EBUSY, "a migration of this LUN is under way (svmctl abort)");
		return;
	}
	migrate_hooks(d, &hooks, svmlog);
	ret = svm_migration_start(d->lun, &req->migrate, &hooks, &m, &reason);
	if (!ret) {
		svm_migration_stop(d->mig); /* the one before, ended: its status goes */
		d->mig = m;
	}
	pthread_mutex_unlock(&d->mig_lock);
	if (ret) {
		svm_json_error(out, ret, reason ? reason : strerror(-ret));
		free(reason);
		return;
	}
	lun_status(d, out);
}

static void serve_abort(struct svm_dev *d, const struct svm_ctl_req *req, struct svm_json *out)
{
	int ret = -EALREADY;

	pthread_mutex_lock(&d->mig_lock);
	if (d->mig)
		ret = svm_migration_abort(d->mig, req->keep_dest);
	pthread_mutex_unlock(&d->mig_lock);
	switch (ret) {
	case 0:
		lun_status(d, out);
		break;
	case -EBUSY:
		svm_json_error(out, ret, "the switchover has begun: the destination already "
					 "serves the LUN, so the migration cannot be undone");
		break;
	case -EIO:
		svm_json_error(out, ret, "the switchover finished first: the migration is done");
		break;
	default:
		svm_json_error(out, ret, "no migration of this LUN is running");
		break;
	}
}

static void ctl_serve(const struct svm_ctl_req *req, struct svm_json *out)
{
	struct svm_slot *slot, *s;
	struct svm_dev *d;

	if (req->verb == SVM_CTL_LIST) {
		svm_json_open(out, '{');
		svm_json_key(out, "luns");
		svm_json_open(out, '[');
		pthread_mutex_lock(&registry_lock);
		for (s = registry; s; s = s->next) {
			pthread_rwlock_rdlock(&s->lock);
			if (s->d && s->d->name[0])
				lun_status(s->d, out);
			pthread_rwlock_unlock(&s->lock);
		}
		pthread_mutex_unlock(&registry_lock);
		svm_json_close(out, ']');
		svm_json_close(out, '}');
		return;
	}
	d = find_lun(req->lun, &slot, out);
	if (!d)
		return;
	switch (req->verb) {
	case SVM_CTL_MIGRATE:
		serve_migrate(d, req, out);
		break;
	case SVM_CTL_ABORT:
		serve_abort(d, req, out);
		break;
	default:
		lun_status(d, out);
		break;
	}
	dev_put(slot);
}

/*
 * A dev_config written on the running LUN (targetcli set attribute
 * dev_config=..., restoreconfig, later the migration's switchover).
 * Accepted when it changes nothing unsafely (svm_cfg_check_live_change);
 * the same string again is always accepted.
 */
static int reconfig_cfgstring(struct tcmu_device *dev, struct svm_slot *slot, struct svm_dev *d,
			      const char *str, char **reason)
{
	struct svm_cfg next, old;
	size_t len = strlen(str);
	bool changed;
	char *copy;
	int ret;

	ret = svm_cfg_parse_dev_config(str, &next, reason);
	if (ret)
		return ret;
	pthread_mutex_lock(&slot->cfg_lock);
	ret = svm_cfg_check_live_change(&d->cfg, &next, reason);
	if (len && str[len - 1] == '\n')
		len--;
	copy = ret ? NULL : strndup(str, len);
	if (!ret && !copy)
		ret = svm_reason(reason, -ENOMEM, "out of memory");
	if (ret) {
		pthread_mutex_unlock(&slot->cfg_lock);
		svm_cfg_free(&next);
		return ret;
	}
	if (svm_registry_set_group(d->lun, next.xcopy_group)) {
		pthread_mutex_unlock(&slot->cfg_lock);
		svm_cfg_free(&next);
		free(copy);
		return svm_reason(reason, -ENOMEM, "out of memory");
	}
	svm_lun_set_mover(d->lun, next.mover);
	changed = strcmp(copy, slot->accepted ? slot->accepted : tcmu_dev_get_cfgstring(dev));
	old = d->cfg;
	d->cfg = next;
	free(slot->accepted);
	slot->accepted = copy;
	pthread_mutex_unlock(&slot->cfg_lock);
	if (changed)
		tcmu_dev_info(dev, "svm: configuration now '%s'\n", copy);
	svm_cfg_free(&old);
	return 0;
}

/*
 * tcmu-runner's reconfig: a configfs attribute written on the running LUN.
 * Runs on the runner's main loop while commands flow; on failure the
 * configfs write fails and the attribute keeps its value. The reason goes
 * to the runner's log (the errno is all targetcli shows).
 */
static int svm_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg)
{
	struct svm_slot *slot;
	struct svm_dev *d = dev_get(dev, &slot);
	struct svm_lun_geom g;
	char *reason = NULL;
	const char *what = "?";
	bool wce;
	int ret;

	if (!d) {
		tcmu_dev_warn(dev, "svm: cannot reconfigure a LUN that is not open\n");
		return -EAGAIN;
	}
	svm_lun_get_geom(d->lun, &g);
	switch (cfg->type) {
	case TCMULIB_CFG_DEV_SIZE:
		what = "dev_size";
		if (cfg->data.dev_size % g.block_size) {
			ret = svm_reason(&reason, -EINVAL,
					 "%llu bytes is not a whole number of %u-byte blocks",
					 (unsigned long long)cfg->data.dev_size, g.block_size);
			break;
		}
		ret = svm_lun_grow(d->lun, cfg->data.dev_size / g.block_size, &reason);
		if (!ret)
			tcmu_dev_info(dev, "svm: LUN on %s grown from %llu to %llu blocks\n",
				      d->cfg.src, (unsigned long long)g.num_lbas,
				      (unsigned long long)(cfg->data.dev_size / g.block_size));
		break;
	case TCMULIB_CFG_WRITE_CACHE:
		what = "emulate_write_cache";
		ret = svm_lun_set_wce(d->lun, cfg->data.write_cache, &reason);
		wce = g.wce;
		svm_lun_get_geom(d->lun, &g); /* stays off on a store that caches nothing */
		tcmu_dev_set_write_cache_enabled(dev, g.wce);
		if (g.wce != wce || g.wce != cfg->data.write_cache)
			tcmu_dev_info(dev, "svm: write cache %s%s\n",
				      g.wce ? "on" : "off: every write is stable",
				      g.wce == cfg->data.write_cache ? "" : " (no store cache)");
		break;
	case TCMULIB_CFG_DEV_CFGSTR:
		what = "dev_config";
		ret = reconfig_cfgstring(dev, slot, d, cfg->data.dev_cfgstring, &reason);
		break;
	default:
		ret = svm_reason(&reason, -EOPNOTSUPP, "unknown reconfiguration type %d",
				 (int)cfg->type);
		break;
	}
	dev_put(slot);
	if (ret)
		tcmu_dev_warn(dev, "svm: refusing %s: %s\n", what, reason ? reason : strerror(-ret));
	free(reason);
	return ret;
}

/* The runner status for the outcome of req, its sense built into cmd. */
static int status_of(struct tcmu_device *dev, struct tcmulib_cmd *cmd,
		     const struct svm_scsi_req *req, enum svm_sense s)
{
	switch (svm_sense_build_fp(cmd->sense_buf, sizeof(cmd->sense_buf), s, req->has_info,
				   req->info, req->has_ptr ? &req->ptr : NULL)) {
	case SVM_SAM_STAT_GOOD:
		return TCMU_STS_OK;
	case SVM_SAM_STAT_BUSY:
		return TCMU_STS_BUSY;
	case SVM_SAM_STAT_TASK_SET_FULL:
		return TCMU_STS_NO_RESOURCE;
	default:
		if (s == SVM_SENSE_INVALID_OPCODE)
			tcmu_dev_dbg(dev, "svm: opcode 0x%02x not supported\n", cmd->cdb[0]);
		return TCMU_STS_PASSTHROUGH_ERR;
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef void (*svm_done_fn)(struct tcmu_device *dev, struct tcmur_cmd *cmd, int ret);

/*
 * The completion callback tcmu-runner 1.5.4 puts in tcmur_cmd.done before it
 * calls our read/write/flush: handle_generic_cbk, which finishes any command
 * (status to the ring, in-flight accounting, kernel kick). The runner uses
 * the very same callback for handle_cmd when it runs handlers on its own
 * threads (handle_passthrough), so commands of handle_cmd may complete
 * through it as well. Learned from the first read/write/flush call.
 */
static svm_done_fn runner_done;

/* A command queued on the pool. It holds the LUN itself: close drains its queue first. */
struct cmd_job {
	struct svm_pool_job job; /* first: the pool hands this back */
	struct tcmu_device *dev;
	struct svm_dev *d;
	struct tcmur_cmd *rcmd;
};

static void cmd_job_run(struct svm_pool_job *job)
{
	struct cmd_job *j = (struct cmd_job *)job;
	struct tcmu_device *dev = j->dev;
	struct tcmur_cmd *rcmd = j->rcmd;
	struct tcmulib_cmd *cmd = rcmd->lib_cmd;
	struct svm_scsi_req req = {.cdb = cmd->cdb, .iov = cmd->iovec, .iov_cnt = cmd->iov_cnt};
	int sts = status_of(dev, cmd, &req, svm_scsi_execute(j->d->lun, &req));

	free(j);
	tcmur_cmd_complete(dev, rcmd, sts); /* calls rcmd->done */
}

/* Queue rcmd on the LUN's pool. TCMU_STS_OK, or NO_RESOURCE (the initiator retries). */
static int queue_cmd(struct tcmu_device *dev, struct svm_dev *d, struct tcmur_cmd *rcmd)
{
	struct cmd_job *j = malloc(sizeof(*j));

	if (!j)
		return TCMU_STS_NO_RESOURCE;
	j->job.fn = cmd_job_run;
	j->dev = dev;
	j->d = d;
	j->rcmd = rcmd;
	svm_pool_submit(d->queue, &j->job);
	return TCMU_STS_OK;
}

/*
 * A command on the io_uring engine: its store I/O in flight on the ring,
 * its LUN accounting (lun.h) held until the completion.
 */
struct uring_cmd {
	struct svm_uring_op op; /* first: the engine hands this back */
	struct tcmu_device *dev;
	struct svm_dev *d;
	struct tcmur_cmd *rcmd;
	struct svm_scsi_io io;
	struct svm_lun_async a;
	struct svm_pool_job redo; /* a WRITE the ring gave up on, redone on the pool */
};

/* Finish a uring_cmd: its accounting released, its status to the runner. */
static void uring_cmd_finish(struct uring_cmd *u, int ret)
{
	struct tcmulib_cmd *cmd = u->rcmd->lib_cmd;
	struct svm_scsi_req req = {.cdb = cmd->cdb};
	struct svm_dev *d = u->d;
	int sts;

	svm_lun_async_end(d->lun, &u->a, ret);
	sts = status_of(u->dev, cmd, &req, svm_scsi_io_result(d->lun, &u->io, ret));
	tcmur_cmd_complete(u->dev, u->rcmd, sts);
	__atomic_sub_fetch(&d->uring_inflight, 1, __ATOMIC_RELEASE);
	free(u);
}

/*
 * On a pool worker: a WRITE the ring gave up on, part of it perhaps
 * written, all of it again with its range still held (so that no COMPARE
 * AND WRITE sees it half done, and no mirror comes meanwhile).
 */
static void uring_redo_run(struct svm_pool_job *job)
{
	struct uring_cmd *u = (struct uring_cmd *)((char *)job - offsetof(struct uring_cmd, redo));
	struct tcmulib_cmd *cmd = u->rcmd->lib_cmd;

	uring_cmd_finish(u, svm_lun_held_write(u->d->lun, cmd->iovec, cmd->iov_cnt, u->io.off,
					       u->io.len, u->io.fua || u->a.sync));
}

/*
 * The engine's done: on its completion thread, once per command. When the
 * ring gave up (-EAGAIN), or RWF_DSYNC is unsupported, the whole command
 * runs again on the pool, which knows every fallback (a READ or WRITE done
 * twice leaves the same data): a READ or a flush as a new command, a WRITE
 * inside the range it still holds.
 */
static void uring_cmd_done(struct svm_uring_op *op, int ret)
{
	struct uring_cmd *u = (struct uring_cmd *)op;
	struct svm_dev *d = u->d;

	if (ret == -EAGAIN || (ret == -EOPNOTSUPP && u->op.dsync)) {
		__atomic_add_fetch(&d->uring_to_pool, 1, __ATOMIC_RELAXED);
		if (u->io.kind == SVM_SCSI_IO_WRITE) {
			u->redo.fn = uring_redo_run;
			svm_pool_submit(d->queue, &u->redo);
			return;
		}
		svm_lun_async_end(d->lun, &u->a, ret);
		if (queue_cmd(u->dev, d, u->rcmd) == TCMU_STS_OK) {
			__atomic_sub_fetch(&d->uring_inflight, 1, __ATOMIC_RELEASE);
			free(u);
			return;
		}
		/* no memory for the pool's job: the initiator retries */
		tcmur_cmd_complete(u->dev, u->rcmd, TCMU_STS_NO_RESOURCE);
		__atomic_sub_fetch(&d->uring_inflight, 1, __ATOMIC_RELEASE);
		free(u);
		return;
	}
	uring_cmd_finish(u, ret);
}

/*
 * The start uring_cmd and store_cmd share: rcmd (a READ, WRITE or
 * SYNCHRONIZE CACHE declined to the generic path) checked for the plain
 * path again (route and the callout are one call apart), its struct
 * uring_cmd allocated and the LUN's side begun (svm_lun_async_begin, with
 * store_ok). Returns what that returned, an fd or -EREMOTE, with *up set;
 * or -EAGAIN with nothing done. Command thread. Never blocks on I/O.
 */
static int async_cmd_begin(struct tcmu_device *dev, struct svm_dev *d, struct tcmur_cmd *rcmd,
			   bool store_ok, struct uring_cmd **up)
{
	static const enum svm_lun_async_kind kinds[] = {
		[SVM_SCSI_IO_READ] = SVM_LUN_ASYNC_READ,
		[SVM_SCSI_IO_WRITE] = SVM_LUN_ASYNC_WRITE,
		[SVM_SCSI_IO_FLUSH] = SVM_LUN_ASYNC_FLUSH,
	};
	struct tcmulib_cmd *cmd = rcmd->lib_cmd;
	struct svm_scsi_req req = {.cdb = cmd->cdb, .iov = cmd->iovec, .iov_cnt = cmd->iov_cnt};
	struct uring_cmd *u;
	int ret;

	switch (svm_scsi_route(d->lun, &req)) {
	case SVM_SCSI_ROUTE_RW:
	case SVM_SCSI_ROUTE_READ:
	case SVM_SCSI_ROUTE_WRITE_CACHED:
		break;
	default:
		return -EAGAIN;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return -EAGAIN;
	if (!svm_scsi_io_of(&req, &u->io))
		goto free_cmd;
	u->a = (struct svm_lun_async){.kind = kinds[u->io.kind], .store_ok = store_ok};
	ret = svm_lun_async_begin(d->lun, &u->a, u->io.off, u->io.len, u->io.fua);
	if (ret < 0 && ret != -EREMOTE)
		goto free_cmd;
	u->dev = dev;
	u->d = d;
	u->rcmd = rcmd;
	*up = u;
	return ret;

free_cmd:
	free(u);
	return -EAGAIN;
}

/*
 * Submit rcmd to the ring: true, it completes on the engine's thread;
 * false, the ring cannot take it without waiting (a range held by a
 * read-modify-write, a migration's mirror, the ring full...) and nothing
 * was done: the pool takes it as before. Command thread, slot read-locked.
 * Never blocks on I/O.
 */
static bool uring_cmd(struct tcmu_device *dev, struct svm_dev *d, struct tcmur_cmd *rcmd)
{
	static const enum svm_uring_kind ops[] = {
		[SVM_SCSI_IO_READ] = SVM_URING_READ,
		[SVM_SCSI_IO_WRITE] = SVM_URING_WRITE,
		[SVM_SCSI_IO_FLUSH] = SVM_URING_FSYNC,
	};
	struct tcmulib_cmd *cmd = rcmd->lib_cmd;
	struct uring_cmd *u;
	int fd = async_cmd_begin(dev, d, rcmd, false, &u);

	if (fd < 0)
		return false;
	u->op = (struct svm_uring_op){
		.kind = ops[u->io.kind],
		.fd = fd,
		.iov = cmd->iovec,
		.iov_cnt = (unsigned)cmd->iov_cnt,
		.off = u->io.off,
		.len = u->io.len,
		.dsync = u->a.sync,
		.done = uring_cmd_done,
	};
	__atomic_add_fetch(&d->uring_inflight, 1, __ATOMIC_ACQ_REL);
	if (svm_uring_submit(__atomic_load_n(&uring, __ATOMIC_ACQUIRE), &u->op))
		goto end_async;
	d->uring_cmds++;
	return true;

end_async:
	__atomic_sub_fetch(&d->uring_inflight, 1, __ATOMIC_RELEASE);
	svm_lun_async_end(d->lun, &u->a, -EAGAIN);
	free(u);
	return false;
}

/* An RBD store's command ended (librbd's callback thread): as the ring's. */
static void store_cmd_done(void *arg, int ret)
{
	uring_cmd_done(&((struct uring_cmd *)arg)->op, ret);
}

/*
 * Issue rcmd on a store without an fd (RBD) asynchronously, the way user:rbd
 * does: librbd's callback completes it, no worker waits for it. true: in
 * flight; false: nothing was done (a file, a range held, a mirror, the
 * store reconnecting...) and the pool takes it. The LUN accounting and the
 * completion are the ring's (struct uring_cmd, uring_cmd_done). Command
 * thread, slot read-locked. Never blocks on I/O.
 */
static bool store_cmd(struct tcmu_device *dev, struct svm_dev *d, struct tcmur_cmd *rcmd)
{
	static const enum svm_store_aio_kind ops[] = {
		[SVM_SCSI_IO_READ] = SVM_STORE_AIO_READ,
		[SVM_SCSI_IO_WRITE] = SVM_STORE_AIO_WRITE,
		[SVM_SCSI_IO_FLUSH] = SVM_STORE_AIO_FLUSH,
	};
	struct tcmulib_cmd *cmd = rcmd->lib_cmd;
	struct uring_cmd *u;
	int ret;

	if (!svm_store_is_rbd(svm_lun_source(d->lun)))
		return false;
	ret = async_cmd_begin(dev, d, rcmd, true, &u);
	if (ret >= 0)
		goto end_async; /* a file after all (a switchover): the pool */
	if (ret != -EREMOTE)
		return false;
	__atomic_add_fetch(&d->uring_inflight, 1, __ATOMIC_ACQ_REL);
	if (svm_store_aio(u->a.st, ops[u->io.kind], cmd->iovec, cmd->iov_cnt, u->io.off, u->io.len,
			  u->io.fua || u->a.sync, store_cmd_done, u))
		goto uncount;
	__atomic_add_fetch(&d->store_cmds, 1, __ATOMIC_RELAXED);
	return true;

uncount:
	__atomic_sub_fetch(&d->uring_inflight, 1, __ATOMIC_RELEASE);
end_async:
	svm_lun_async_end(d->lun, &u->a, -EAGAIN);
	free(u);
	return false;
}

/* A write copied on the command thread (handle_open) must never go O_DIRECT (limits.h). */
_Static_assert(SVM_STORE_DIRECT_WRITE_MIN_BYTES >= SVM_INLINE_WRITE_MAX_BYTES,
	       "SVM_STORE_DIRECT_WRITE_MIN_BYTES below SVM_INLINE_WRITE_MAX_BYTES");

/* Where svm_handle_cmd runs a command; called with the slot read-locked. */
static int handle_open(struct tcmu_device *dev, struct svm_dev *d, struct tcmur_cmd *rcmd)
{
	struct tcmulib_cmd *cmd = rcmd->lib_cmd;
	struct svm_scsi_req req = {.cdb = cmd->cdb, .iov = cmd->iovec, .iov_cnt = cmd->iov_cnt};
	enum svm_sense s;
	uint64_t t0, t1;
	svm_done_fn done;
	int sts;

	switch (svm_scsi_route(d->lun, &req)) {
	case SVM_SCSI_ROUTE_READ:
		/* From the page cache at once, or else on a worker. */
		req.cached_only = true;
		s = svm_scsi_execute(d->lun, &req);
		if (req.would_block)
			return TCMU_STS_NOT_HANDLED;
		d->inline_rw++;
		return status_of(dev, cmd, &req, s);
	case SVM_SCSI_ROUTE_WRITE_CACHED:
		/*
		 * A copy into the page cache: cheaper here than a thread hand-off,
		 * unless the store makes such writes wait (dirty throttling, a
		 * partial page to read first); then the pool takes them for a while.
		 */
		if (svm_iov_length(cmd->iovec, cmd->iov_cnt) >= SVM_INLINE_WRITE_MAX_BYTES)
			return TCMU_STS_NOT_HANDLED; /* large: a worker writes it (limits.h) */
		t0 = now_ns();
		if (t0 < d->pool_writes_until_ns)
			return TCMU_STS_NOT_HANDLED;
		req.cached_only = true; /* a COMPARE AND WRITE holding the range: to a worker */
		s = svm_scsi_execute(d->lun, &req);
		if (req.would_block)
			return TCMU_STS_NOT_HANDLED;
		sts = status_of(dev, cmd, &req, s);
		d->inline_rw++;
		t1 = now_ns();
		/*
		 * A moving average (weight 1/SVM_INLINE_AVG_WEIGHT): a thread
		 * preempted once does not trip it, a store that throttles does.
		 */
		d->write_avg_ns = d->write_avg_ns - d->write_avg_ns / SVM_INLINE_AVG_WEIGHT +
				  (t1 - t0) / SVM_INLINE_AVG_WEIGHT;
		if (d->write_avg_ns > SVM_INLINE_SLOW_US * 1000ull) {
			tcmu_dev_dbg(dev, "svm: cached writes average %llu us; pool for %d ms\n",
				     (unsigned long long)d->write_avg_ns / 1000,
				     SVM_INLINE_BACKOFF_MS);
			d->pool_writes_until_ns = t1 + SVM_INLINE_BACKOFF_MS * 1000000ull;
			d->write_avg_ns = 0;
			d->backoffs++;
		}
		return sts;
	case SVM_SCSI_ROUTE_RW:
		return TCMU_STS_NOT_HANDLED; /* to svm_read / svm_write / svm_flush */
	case SVM_SCSI_ROUTE_BLOCKING:
		done = __atomic_load_n(&runner_done, __ATOMIC_ACQUIRE);
		if (!done)
			break; /* no read/write seen yet: run it here */
		rcmd->done = done;
		sts = queue_cmd(dev, d, rcmd);
		return sts == TCMU_STS_OK ? TCMU_STS_ASYNC_HANDLED : sts;
	case SVM_SCSI_ROUTE_INLINE:
		break;
	}
	return status_of(dev, cmd, &req, svm_scsi_execute(d->lun, &req));
}

static int svm_handle_cmd(struct tcmu_device *dev, struct tcmur_cmd *rcmd)
{
	struct svm_slot *slot;
	struct svm_dev *d = dev_get(dev, &slot);
	int sts;

	if (!d)
		return TCMU_STS_BUSY; /* closed for a reopen: the initiator retries */
	sts = handle_open(dev, d, rcmd);
	dev_put(slot);
	return sts;
}

/*
 * The runner's generic callouts, reached only for the READ, WRITE and
 * SYNCHRONIZE CACHE svm_handle_cmd declined: the command itself says what to do, so the
 * arguments the runner derived from it are not used again. Returning 0 means
 * "completes later" to the runner.
 */
static int generic_callout(struct tcmu_device *dev, struct tcmur_cmd *rcmd,
			   const struct iovec *iov)
{
	struct tcmulib_cmd *cmd = rcmd->lib_cmd;
	struct svm_slot *slot;
	struct svm_dev *d;
	int sts;

	if (iov != cmd->iovec) {
		/* the runner emulating something with our read/write: never declined to it */
		tcmu_dev_err(dev, "svm: unexpected %s callout for opcode 0x%02x\n",
			     iov ? "read/write" : "flush", cmd->cdb[0]);
		svm_sense_build(cmd->sense_buf, sizeof(cmd->sense_buf),
				SVM_SENSE_INTERNAL_TARGET_FAILURE, false, 0);
		return TCMU_STS_PASSTHROUGH_ERR;
	}
	if (rcmd->done)
		__atomic_store_n(&runner_done, rcmd->done, __ATOMIC_RELEASE);
	d = dev_get(dev, &slot);
	if (!d)
		return TCMU_STS_BUSY;
	if (__atomic_load_n(&uring, __ATOMIC_ACQUIRE) && uring_cmd(dev, d, rcmd))
		sts = TCMU_STS_OK;
	else if (store_cmd(dev, d, rcmd))
		sts = TCMU_STS_OK;
	else
		sts = queue_cmd(dev, d, rcmd);
	dev_put(slot);
	return sts;
}

static int svm_read(struct tcmu_device *dev, struct tcmur_cmd *rcmd, struct iovec *iov,
		    size_t iov_cnt, size_t len, off_t off)
{
	(void)iov_cnt, (void)len, (void)off;
	return generic_callout(dev, rcmd, iov);
}

static int svm_write(struct tcmu_device *dev, struct tcmur_cmd *rcmd, struct iovec *iov,
		     size_t iov_cnt, size_t len, off_t off)
{
	(void)iov_cnt, (void)len, (void)off;
	return generic_callout(dev, rcmd, iov);
}

static int svm_flush(struct tcmu_device *dev, struct tcmur_cmd *rcmd)
{
	return generic_callout(dev, rcmd, rcmd->lib_cmd->iovec);
}

static void svm_log_to_runner(enum svm_log_level level, const char *msg)
{
	switch (level) {
	case SVM_LOG_ERR:
		tcmu_err_message(NULL, "svm", 0, "%s\n", msg);
		break;
	case SVM_LOG_WARN:
		tcmu_warn_message(NULL, "svm", 0, "%s\n", msg);
		break;
	case SVM_LOG_INFO:
		tcmu_info_message(NULL, "svm", 0, "%s\n", msg);
		break;
	default:
		tcmu_dbg_message(NULL, "svm", 0, "%s\n", msg);
		break;
	}
}

static struct tcmur_handler svm_handler = {
	.name = "Storage vMotion handler (tcmu-svm)",
	.subtype = "svm",
	.cfg_desc = svm_cfg_desc,
	.check_config = svm_check_config,
	.reconfig = svm_reconfig,
	.open = svm_open,
	.close = svm_close,
	.nr_threads = 0, /* our own pool: see the top of this file */
	.handle_cmd = svm_handle_cmd,
	.read = svm_read,
	.write = svm_write,
	.flush = svm_flush,
};

/*
 * SVM_ENGINE: "pool" (the default) or "uring" (docs/tuning.md). The engine
 * is made once per process; a handler_init again (the unit tests) with
 * "pool" stops using it without destroying it, as LUNs may still hold it.
 */
static void engine_init(void)
{
	static struct svm_uring *made;
	const char *env = getenv("SVM_ENGINE");
	int ret;

	__atomic_store_n(&uring, NULL, __ATOMIC_RELEASE);
	if (!env || !*env || !strcmp(env, "pool")) {
		tcmu_info_message(NULL, __func__, __LINE__,
				  "svm: engine pool: blocking commands on the worker pool\n");
		return;
	}
	if (strcmp(env, "uring")) {
		tcmu_err_message(NULL, __func__, __LINE__,
				 "svm: SVM_ENGINE=%s: want pool or uring; using pool\n", env);
		return;
	}
	if (!made) {
		ret = svm_uring_create(SVM_URING_ENTRIES, "ring", &made);
		if (ret) {
			tcmu_err_message(NULL, __func__, __LINE__,
					 "svm: no io_uring (%s); engine pool\n", strerror(-ret));
			made = NULL;
			return;
		}
	}
	__atomic_store_n(&uring, made, __ATOMIC_RELEASE);
	tcmu_info_message(NULL, __func__, __LINE__,
			  "svm: engine uring: READ/WRITE/SYNCHRONIZE CACHE that wait on the store "
			  "go to one io_uring of %d entries\n",
			  SVM_URING_ENTRIES);
}

/* A thread count from tcmu-runner's environment variable var, or def (a bad value is logged). */
static unsigned threads_setting(const char *var, unsigned def)
{
	const char *env = getenv(var);
	char *reason = NULL;
	unsigned n;

	if (!env)
		return def;
	if (svm_cfg_parse_threads(var, env, &n, &reason)) {
		tcmu_err_message(NULL, __func__, __LINE__, "svm: %s; using %u\n",
				 reason ? reason : "bad thread count", def);
		free(reason);
		return def;
	}
	return n;
}

__attribute__((visibility("default"))) int handler_init(void)
{
	const char *env;
	char *reason = NULL;

	svm_log_set_sink(svm_log_to_runner);
	svm_threads = threads_setting("SVM_THREADS", SVM_THREADS_DEFAULT);
	svm_lun_threads = threads_setting("SVM_LUN_THREADS", SVM_LUN_THREADS_DEFAULT);
	if (svm_lun_threads > svm_threads)
		svm_lun_threads = svm_threads; /* the pool has no more */
	engine_init();
	tcmu_info_message(NULL, __func__, __LINE__,
			  "svm: %u worker threads, shared by all LUNs; at most %u for one LUN\n",
			  svm_threads, svm_lun_threads);
	env = getenv("SVM_RUN_DIR");
	if (!__atomic_exchange_n(&ctl_started, true, __ATOMIC_ACQ_REL) &&
	    svm_ctl_start(env && *env ? env : SVM_CTL_RUN_DIR, ctl_serve, &reason)) {
		/* the LUNs serve I/O without it; only svmctl cannot reach them */
		tcmu_err_message(NULL, __func__, __LINE__,
				 "svm: no control socket (svmctl will not work): %s\n",
				 reason ? reason : "?");
		free(reason);
	}
	return tcmur_register_handler(&svm_handler);
}
