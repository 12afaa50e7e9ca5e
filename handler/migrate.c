/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "migrate.h"
#include "cfg.h"
#include "limits.h"
#include "log.h"
#include "migrec.h"
#include "mirror.h"
#include "state.h"
#include "store.h"
#include "store_rbd.h"
#include "svmlog.h"

#include <errno.h>
#include <limits.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum job {
	JOB_COPY,   /* the pass, then the switchover */
	JOB_FINISH, /* after a crash at the switchover: commit and clean up */
};

struct svm_migration {
	struct svm_lun *lun;
	struct svm_migrate_hooks hooks;
	char *svmlog, *name;
	char *rbd_conf, *rbd_id; /* the LUN's cluster for RBD stores (hooks), or NULL */
	enum job job;
	struct svm_store *dst;	/* the destination, until the switchover makes it the LUN's */
	struct svm_mirror *mirror;
	struct svm_migrec *rec;
	struct svm_migrec_info info;
	struct svm_svmlog_dev dev;
	enum svm_mover_kind mover;
	pthread_t thread;
	bool stop, abort, keep_dest; /* atomic: what the thread is asked to do */

	pthread_mutex_t lock; /* the fields below */
	enum svm_migrate_phase phase;
	bool resumed, switched; /* switched: the LUN serves the destination */
	uint64_t t0_ns, t_end_ns, max_pause_ns;
	uint64_t reads0, waited0; /* the LUN's counts when the mirror device appeared */
	struct svm_mirror_stats last; /* the mirror's stats when it went away */
	char error[512];
};

const char *svm_migrate_phase_name(enum svm_migrate_phase phase)
{
	static const char *const names[] = {"idle", "copying", "switching",
					    "done", "failed",	"aborted"};

	return (unsigned)phase < sizeof(names) / sizeof(names[0]) ? names[phase] : "idle";
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void set_phase(struct svm_migration *m, enum svm_migrate_phase phase)
{
	pthread_mutex_lock(&m->lock);
	m->phase = phase;
	if (phase >= SVM_MIGRATE_DONE)
		m->t_end_ns = mono_ns();
	pthread_mutex_unlock(&m->lock);
}

static void set_error(struct svm_migration *m, const char *what, int err)
{
	pthread_mutex_lock(&m->lock);
	if (!m->error[0])
		snprintf(m->error, sizeof(m->error), "%s: %s", what, strerror(-err));
	pthread_mutex_unlock(&m->lock);
}

/* ---- where a LUN's store is, around a crash --------------------------------- */

int svm_migration_store_to_open(const char *path, char *out, size_t len, char **reason)
{
	struct svm_migrec_info info;
	struct svm_migrec *rec;
	uint8_t *bm = NULL;
	char at[PATH_MAX], next[PATH_MAX];
	struct stat sb;
	int ret = svm_migrec_open(path, &rec, &info, &bm, reason);

	if (ret == -ENOENT) {
		/*
		 * No migration under way. A store that a migration moved and
		 * deleted forwards to where it went (a chain of them too), as long
		 * as the old path stays absent.
		 */
		snprintf(at, sizeof(at), "%s", path);
		for (int hop = 0; hop < 16; hop++) {
			/* an RBD image cannot be looked at without the cluster: never forwarded */
			if (svm_store_is_rbd(at) || !stat(at, &sb) || errno != ENOENT ||
			    svm_state_store_moved_to(at, next, sizeof(next)))
				break;
			svm_log(SVM_LOG_INFO, "store %s was migrated to %s and deleted: opening %s",
				at, next, next);
			snprintf(at, sizeof(at), "%s", next);
		}
		snprintf(out, len, "%s", at);
		return 0;
	}
	if (ret)
		return ret;
	/* switched over: the destination is authoritative, whichever name the LUN opens */
	snprintf(out, len, "%s", info.phase == SVM_MIGREC_SWITCHED ? info.dst : path);
	free(bm);
	svm_migrec_close(rec);
	return 0;
}

/* ---- the thread ----------------------------------------------------------------- */

static void write_stats(struct svm_migration *m)
{
	struct svm_svmlog_stats st = {0};
	uint64_t reads, waited, most = 0;

	svm_lun_io_stats(m->lun, &reads, &waited);
	pthread_mutex_lock(&m->lock);
	st.reads = reads - m->reads0;
	st.waited_writes = waited - m->waited0;
	st.writes = m->last.writes;
	st.mirrored_writes = m->last.mirrored_writes;
	st.bytes_copied = m->last.bytes_copied;
	st.bytes_skipped = m->last.bytes_skipped;
	st.duration_ns = mono_ns() - m->t0_ns;
	st.max_pause_ns = m->max_pause_ns;
	/*
	 * The datamover that moved the pass's data (the most bytes when auto
	 * fell back part of the way): "auto" is a tier, not a mover, and says
	 * nothing about the copy. Nothing moved (all holes): the pinned one,
	 * or none.
	 */
	for (int k = SVM_MOVER_BOUNCE; k < SVM_MOVER_KINDS; k++)
		if (m->last.moved[k] && (!st.mover || m->last.moved[k] > most)) {
			st.mover = svm_mover_name((enum svm_mover_kind)k);
			most = m->last.moved[k];
		}
	pthread_mutex_unlock(&m->lock);
	if (!st.mover && m->mover != SVM_MOVER_AUTO)
		st.mover = svm_mover_name(m->mover);
	svm_svmlog_stats(m->svmlog, &m->dev, &st);
}

/* Take the mirror device away (writes drained), keeping its last stats. */
static void detach(struct svm_migration *m)
{
	struct svm_mirror *mirror = m->mirror;

	if (!mirror)
		return;
	svm_lun_set_mirror(m->lun, NULL);
	pthread_mutex_lock(&m->lock); /* status reads m->mirror under it */
	svm_mirror_get_stats(mirror, &m->last);
	m->mirror = NULL;
	pthread_mutex_unlock(&m->lock);
	svm_mirror_destroy(mirror);
}

/*
 * The migration ends without a switchover (failure, abort): the source
 * stays authoritative. The destination goes, unless kept; the record goes.
 */
static void unwind(struct svm_migration *m, enum svm_migrate_phase phase, bool keep_dest)
{
	bool rbd = svm_store_is_rbd(m->info.dst);

	detach(m);
	if (rbd) {
		/*
		 * The LUN serves its source alone now. Closing an RBD destination
		 * (releasing its lock) and removing it wait on the cluster, for
		 * minutes when it has stopped answering (each op then times out):
		 * the migration has ended before, and says so.
		 */
		if (m->rec) {
			svm_migrec_remove(m->rec);
			m->rec = NULL;
		}
		set_phase(m, phase);
	}
	svm_store_close(m->dst);
	m->dst = NULL;
	if (!keep_dest && m->job == JOB_COPY && rbd) {
		char *why = NULL;

		if (svm_rbd_remove(m->info.dst, m->rbd_conf, m->rbd_id, &why))
			svm_log(SVM_LOG_WARN,
				"LUN %s: cannot remove destination %s: %s (remove it with rbd rm)",
				m->name, m->info.dst, why ? why : "?");
		free(why);
	} else if (!keep_dest && m->job == JOB_COPY) {
		struct stat sb;

		if (!stat(m->info.dst, &sb) && S_ISREG(sb.st_mode) && unlink(m->info.dst))
			svm_log(SVM_LOG_WARN, "LUN %s: cannot remove destination %s: %s", m->name,
				m->info.dst, strerror(errno));
	}
	if (m->rec) {
		svm_migrec_remove(m->rec);
		m->rec = NULL;
	}
	if (!rbd)
		set_phase(m, phase);
	write_stats(m);
	svm_svmlog_destroyed(m->svmlog, &m->dev);
}

static void fail(struct svm_migration *m, const char *what, int err)
{
	/*
	 * A broken mirror knows which store failed and doing what: without it,
	 * "the copy: Input/output error" would not tell a failing destination
	 * from a failing source.
	 */
	const char *broke = m->mirror ? svm_mirror_error_what(m->mirror) : NULL;
	char why[320], reason[256];

	snprintf(reason, sizeof(reason), "%s failed", broke ? broke : "");
	if (broke)
		snprintf(why, sizeof(why), "%s: %s", what, reason);
	else
		snprintf(why, sizeof(why), "%s", what);
	set_error(m, why, err);
	svm_log(SVM_LOG_ERR,
		"LUN %s: migration from %s to %s failed: %s: %s; the source stays authoritative",
		m->name, m->info.src, m->info.dst, why, strerror(-err));
	svm_svmlog_failure(m->svmlog, &m->dev, what,
			   broke ? reason : "the source stays authoritative", err);
	unwind(m, SVM_MIGRATE_FAILED, false);
}

/*
 * A copying migration whose destination cannot be opened again after a
 * restart (why: the store's reason): it ends failed, without a thread; the
 * record goes, so the next open does not try again. The destination, if
 * anything is there, is left alone: what it is now is not known.
 */
static void fail_reopen(struct svm_migration *m, const char *why)
{
	pthread_mutex_lock(&m->lock);
	snprintf(m->error, sizeof(m->error), "resuming after a restart: %s", why);
	pthread_mutex_unlock(&m->lock);
	svm_log(SVM_LOG_ERR,
		"LUN %s: the migration to %s cannot resume (%s); it has failed, and the LUN "
		"serves its source %s",
		m->name, m->info.dst, why, m->info.src);
	svm_svmlog_failure(m->svmlog, &m->dev, "the resume", why, 0);
	svm_migrec_remove(m->rec);
	m->rec = NULL;
	set_phase(m, SVM_MIGRATE_FAILED);
	svm_svmlog_destroyed(m->svmlog, &m->dev);
}

/* Inside the switchover's drained window: the destination becomes authoritative, durably. */
static int record_switch(void *arg)
{
	struct svm_migration *m = arg;

	return svm_migrec_update(m->rec, SVM_MIGREC_SWITCHED, m->info.size);
}

/*
 * After the switchover (or finishing one after a crash): commit it in LIO's
 * configuration, let the source go, forget the record. A commit that fails
 * leaves the record, so the next open commits again.
 */
static void finish(struct svm_migration *m)
{
	struct stat sb;
	char *reason = NULL;
	bool deleted = false;
	int ret = -EIO;

	for (int i = 0; i < 100 && ret && !__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE); i++) {
		ret = m->hooks.commit ? m->hooks.commit(m->hooks.arg, m->info.dst, &reason) : 0;
		if (ret == -EBUSY || ret == -EAGAIN) {
			free(reason);
			reason = NULL;
			usleep(100000); /* another configfs write in flight for this device */
			continue;
		}
		break;
	}
	if (ret) {
		set_error(m, "recording the switchover in LIO's configuration", ret);
		svm_log(SVM_LOG_ERR,
			"LUN %s: serving %s, but dev_config could not be changed (%s); the next "
			"open tries again",
			m->name, m->info.dst, reason ? reason : strerror(-ret));
		svm_svmlog_failure(m->svmlog, &m->dev, "commit", reason ? reason : "dev_config",
				   ret);
		free(reason);
		svm_migrec_close(m->rec);
		m->rec = NULL;
		return;
	}
	svm_state_store_record(m->info.dst);
	if (!m->info.keep_source && svm_store_is_rbd(m->info.src)) {
		char *why = NULL;

		/* librbd refuses to remove an image a client has open: the retired source first */
		svm_lun_close_retired(m->lun);
		deleted = !svm_rbd_remove(m->info.src, m->rbd_conf, m->rbd_id, &why);
		if (!deleted)
			svm_log(SVM_LOG_WARN, "LUN %s: cannot delete source %s: %s", m->name,
				m->info.src, why ? why : "?");
		free(why);
	} else if (!m->info.keep_source && !stat(m->info.src, &sb) && S_ISREG(sb.st_mode)) {
		/* first the forward, so an old configuration naming the source finds the data */
		ret = svm_state_store_moved(m->info.src, m->info.dst);
		if (ret)
			svm_log(SVM_LOG_WARN,
				"LUN %s: cannot record that %s moved to %s (%s): a configuration "
				"naming the old path will be refused",
				m->name, m->info.src, m->info.dst, strerror(-ret));
		deleted = !unlink(m->info.src);
		if (!deleted)
			svm_log(SVM_LOG_WARN, "LUN %s: cannot delete source %s: %s", m->name,
				m->info.src, strerror(errno));
	}
	svm_lun_close_retired(m->lun);
	svm_svmlog_source(m->svmlog, &m->dev, m->info.src, deleted);
	svm_log(SVM_LOG_INFO, "LUN %s: migrated from %s to %s%s", m->name, m->info.src,
		m->info.dst, deleted ? "; source deleted" : "; source kept");
	svm_migrec_remove(m->rec);
	m->rec = NULL;
}

/* Sleep enough that the pass keeps to the rate limit (MiB/s, 0: none). */
static void pace(struct svm_migration *m, uint64_t start_ns, uint64_t bytes)
{
	uint64_t due, now;

	if (!m->info.rate_mibs)
		return;
	due = start_ns + bytes * 1000000000ull / ((uint64_t)m->info.rate_mibs << 20);
	now = mono_ns();
	while (now < due && !__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE)) {
		uint64_t nap = due - now < 100000000u ? due - now : 100000000u;

		usleep(nap / 1000);
		now = mono_ns();
	}
}

static void *run(void *arg)
{
	struct svm_migration *m = arg;
	uint64_t start = mono_ns(), last_ckpt = start, pause;
	struct svm_mirror_stats st;
	struct svm_mirror *mirror;
	int ret = 0;

	if (m->job == JOB_FINISH) {
		finish(m);
		write_stats(m);
		svm_svmlog_destroyed(m->svmlog, &m->dev);
		set_phase(m, SVM_MIGRATE_DONE);
		return NULL;
	}
	while (!__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE)) {
		ret = svm_mirror_step(m->mirror, m->mover, 0);
		if (ret)
			break;
		svm_mirror_get_stats(m->mirror, &st);
		pace(m, start, st.bytes_copied);
		if (mono_ns() - last_ckpt >= SVM_MIGRATE_CHECKPOINT_MS * 1000000ull) {
			ret = svm_mirror_checkpoint(m->mirror);
			if (ret < 0)
				break;
			last_ckpt = mono_ns();
		}
	}
	if (__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&m->abort, __ATOMIC_ACQUIRE)) {
			svm_log(SVM_LOG_INFO, "LUN %s: migration to %s aborted", m->name, m->info.dst);
			svm_svmlog(m->svmlog, "Migration aborted on device %s: the source stays "
					      "authoritative",
				   m->dev.name);
			unwind(m, SVM_MIGRATE_ABORTED, __atomic_load_n(&m->keep_dest, __ATOMIC_ACQUIRE));
		}
		return NULL; /* a LUN close: svm_migration_stop checkpoints */
	}
	if (ret < 0) {
		fail(m, "the copy", ret);
		return NULL;
	}
	/* The pass is over: both stores hold the same data, and the mirror keeps them so. */
	ret = svm_mirror_checkpoint(m->mirror);
	if (ret) {
		fail(m, "the checkpoint before the switchover", ret);
		return NULL;
	}
	set_phase(m, SVM_MIGRATE_SWITCHING);
	pthread_mutex_lock(&m->lock);
	svm_mirror_get_stats(m->mirror, &m->last);
	pthread_mutex_unlock(&m->lock);
	ret = svm_mirror_error(m->mirror);
	if (!ret)
		ret = svm_lun_switch(m->lun, m->dst, record_switch, m, &pause);
	if (ret) {
		fail(m, "the switchover", ret);
		return NULL;
	}
	pthread_mutex_lock(&m->lock);
	if (pause > m->max_pause_ns)
		m->max_pause_ns = pause;
	m->switched = true;
	pthread_mutex_unlock(&m->lock);
	pthread_mutex_lock(&m->lock);
	svm_mirror_get_stats(m->mirror, &m->last);
	mirror = m->mirror; /* detached by the switch */
	m->mirror = NULL;
	pthread_mutex_unlock(&m->lock);
	svm_mirror_destroy(mirror);
	m->dst = NULL; /* the LUN's primary now */
	svm_svmlog_switchover(m->svmlog, &m->dev, pause);
	svm_log(SVM_LOG_INFO, "LUN %s: switched over to %s (writes held %llu us)", m->name,
		m->info.dst, (unsigned long long)(pause / 1000));
	finish(m);
	write_stats(m);
	svm_svmlog_destroyed(m->svmlog, &m->dev);
	set_phase(m, SVM_MIGRATE_DONE);
	return NULL;
}

/* ---- setting it up ---------------------------------------------------------------- */

static struct svm_migration *alloc_migration(struct svm_lun *lun,
					     const struct svm_migrate_hooks *hooks)
{
	struct svm_migration *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->lun = lun;
	m->hooks = *hooks;
	m->svmlog = hooks->svmlog ? strdup(hooks->svmlog) : NULL;
	m->name = strdup(hooks->name ? hooks->name : svm_lun_source(lun));
	pthread_mutex_init(&m->lock, NULL);
	m->rbd_conf = hooks->rbd_conf ? strdup(hooks->rbd_conf) : NULL;
	m->rbd_id = hooks->rbd_id ? strdup(hooks->rbd_id) : NULL;
	m->hooks.svmlog = m->svmlog;
	m->hooks.name = m->name;
	m->hooks.rbd_conf = m->rbd_conf;
	m->hooks.rbd_id = m->rbd_id;
	if (!m->name || (hooks->svmlog && !m->svmlog) || (hooks->rbd_conf && !m->rbd_conf) ||
	    (hooks->rbd_id && !m->rbd_id)) {
		free(m->rbd_conf);
		free(m->rbd_id);
		free(m->svmlog);
		free(m->name);
		pthread_mutex_destroy(&m->lock);
		free(m);
		return NULL;
	}
	m->t0_ns = mono_ns();
	svm_lun_io_stats(lun, &m->reads0, &m->waited0);
	return m;
}

static void free_migration(struct svm_migration *m)
{
	svm_mirror_destroy(m->mirror);
	svm_store_close(m->dst);
	svm_migrec_close(m->rec);
	pthread_mutex_destroy(&m->lock);
	free(m->svmlog);
	free(m->name);
	free(m->rbd_conf);
	free(m->rbd_id);
	free(m);
}

/* Refusals a destination path gets before anything is created (docs/migration.md). */
static int check_destination(const char *src, const char *to, enum svm_mover_kind mover,
			     uint64_t size, char **reason)
{
	char *dir;
	struct stat sb;
	int ret = 0;

	if ((svm_store_is_rbd(src) || svm_store_is_rbd(to)) &&
	    (mover == SVM_MOVER_KERNEL || mover == SVM_MOVER_REFLINK))
		return svm_reason(reason, -EOPNOTSUPP,
				  "the %s datamover copies between two files, and an RBD store "
				  "(%s) has none: use mover auto or bounce (the copy goes through "
				  "a buffer)",
				  svm_mover_name(mover), svm_store_is_rbd(to) ? to : src);
	if (svm_store_is_rbd(to)) {
		/* the cluster is asked when the destination is opened */
		ret = svm_rbd_parse(to, NULL, NULL, reason);
		if (!ret && svm_cfg_same_store(src, to))
			ret = svm_reason(reason, -EINVAL, "destination '%s' is the source store",
					 to);
		return ret;
	}
	if (!to || to[0] != '/')
		return svm_reason(reason, -EINVAL, "destination '%s' is not an absolute path",
				  to ? to : "");
	if (strpbrk(to, ",;: \t\n"))
		return svm_reason(reason, -EINVAL,
				  "destination '%s' holds a character a cfgstring cannot (',' ';' "
				  "':' or a blank)",
				  to);
	if (svm_cfg_same_store(src, to))
		return svm_reason(reason, -EINVAL, "destination '%s' is the source store", to);
	if (!stat(to, &sb)) {
		if (S_ISREG(sb.st_mode) && sb.st_size)
			return svm_reason(reason, -EEXIST,
					  "destination '%s' exists and is not empty (%lld bytes)", to,
					  (long long)sb.st_size);
		if (!S_ISREG(sb.st_mode) && !S_ISBLK(sb.st_mode))
			return svm_reason(reason, -EINVAL,
					  "destination '%s' is not a regular file or block device",
					  to);
		return 0; /* a device's size is checked when it is opened */
	}
	if (errno != ENOENT)
		return svm_reason(reason, -errno, "cannot stat destination '%s': %s", to,
				  strerror(errno));
	dir = strdup(to);
	if (!dir)
		return svm_reason(reason, -ENOMEM, "out of memory");
	if (stat(dirname(dir), &sb) || !S_ISDIR(sb.st_mode))
		ret = svm_reason(reason, -ENOENT, "the directory of destination '%s' does not exist",
				 to);
	free(dir);
	(void)size;
	return ret;
}

/*
 * An existing RBD destination must hold no allocated data, as a file
 * destination must be empty: 0, or -EEXIST with *reason.
 */
static int check_rbd_empty(struct svm_store *dst, char **reason)
{
	uint64_t size = svm_store_size(dst), end = size;
	bool mapped = false;
	int ret;

	ret = size ? svm_store_extent(dst, 0, &mapped, &end) : 0;
	if (ret)
		return svm_reason(reason, ret, "cannot map destination '%s': %s",
				  svm_store_path(dst), strerror(-ret));
	if (mapped || end < size)
		return svm_reason(reason, -EEXIST,
				  "destination '%s' exists and holds data (allocated from byte "
				  "%llu): remove it (rbd rm) or choose another image",
				  svm_store_path(dst), (unsigned long long)(mapped ? 0 : end));
	return 0;
}

/* Attach the mirror device and start the thread; on failure everything set up is undone. */
static int launch(struct svm_migration *m, const uint8_t *dirty, char **reason)
{
	struct svm_mirror_params p = {
		.primary = svm_lun_primary(m->lun),
		.secondary = m->dst,
		.lock = svm_lun_rangelock(m->lun),
		.size = m->info.size,
		.cursor = m->info.cursor,
		.rec = m->rec,
		.dirty = dirty,
		.region = m->info.region,
		.nregions = m->info.nregions,
	};
	struct svm_lun_geom g;
	int ret;

	ret = svm_mirror_create(&p, &m->mirror, reason);
	if (ret) {
		svm_svmlog_makedev(m->svmlog, &m->dev, *reason ? *reason : "no memory");
		return ret;
	}
	svm_lun_set_mirror(m->lun, m->mirror);
	svm_lun_get_geom(m->lun, &g);
	if (g.num_lbas * g.block_size != m->info.size) {
		/* resized between the start and now: the record and the mirror are too small */
		svm_lun_set_mirror(m->lun, NULL);
		svm_mirror_destroy(m->mirror);
		m->mirror = NULL;
		ret = svm_reason(reason, -EBUSY,
				 "the LUN's size changed (%llu to %llu bytes) as the migration "
				 "started: try again",
				 (unsigned long long)m->info.size,
				 (unsigned long long)(g.num_lbas * g.block_size));
		svm_svmlog_makedev(m->svmlog, &m->dev, *reason);
		return ret;
	}
	svm_svmlog_makedev(m->svmlog, &m->dev, NULL);
	svm_svmlog_created(m->svmlog, &m->dev, m->info.src, m->info.dst);
	m->phase = SVM_MIGRATE_COPYING;
	svm_svmlog_copy_start(m->svmlog, &m->dev, svm_mover_name(m->mover), m->info.size,
			      m->info.size - m->info.cursor);
	ret = pthread_create(&m->thread, NULL, run, m);
	if (ret) {
		svm_lun_set_mirror(m->lun, NULL);
		svm_mirror_destroy(m->mirror);
		m->mirror = NULL;
		return svm_reason(reason, -ret, "cannot start the migration's thread");
	}
	return 0;
}

int svm_migration_start(struct svm_lun *lun, const struct svm_migrate_args *args,
			const struct svm_migrate_hooks *hooks, struct svm_migration **out,
			char **reason)
{
	struct svm_store_open_args sa = {.create = true,
					 .grow = true,
					 .direct = svm_lun_direct(lun),
					 .rbd_conf = hooks->rbd_conf,
					 .rbd_id = hooks->rbd_id,
					 .rbd_dest = true};
	const char *src = svm_lun_source(lun);
	bool dst_ours = true; /* the destination may be removed if the start fails */
	struct svm_lun_geom g;
	struct svm_migration *m;
	uint64_t region;
	int ret;

	svm_lun_get_geom(lun, &g);
	sa.min_bytes = g.num_lbas * g.block_size;
	ret = check_destination(src, args->to, args->mover, sa.min_bytes, reason);
	if (ret)
		return ret;
	m = alloc_migration(lun, hooks);
	if (!m)
		return svm_reason(reason, -ENOMEM, "out of memory");
	m->job = JOB_COPY;
	m->mover = args->mover;
	m->info = (struct svm_migrec_info){
		.phase = SVM_MIGREC_COPYING,
		.rate_mibs = args->rate_mibs,
		.keep_source = args->keep_source,
		.size = sa.min_bytes,
		.started = (uint64_t)time(NULL),
	};
	snprintf(m->info.src, sizeof(m->info.src), "%s", src);
	snprintf(m->info.dst, sizeof(m->info.dst), "%s", args->to);
	snprintf(m->info.mover, sizeof(m->info.mover), "%s", svm_mover_name(args->mover));
	region = (m->info.size + SVM_MIGRATE_REGIONS_MAX - 1) / SVM_MIGRATE_REGIONS_MAX;
	region = region < SVM_MIGRATE_REGION_MIN ? SVM_MIGRATE_REGION_MIN : region;
	region = (region + SVM_MIGRATE_CHUNK_BYTES - 1) / SVM_MIGRATE_CHUNK_BYTES *
		 SVM_MIGRATE_CHUNK_BYTES;
	m->info.region = region;
	m->info.nregions = (m->info.size + region - 1) / region;
	svm_svmlog_dev_init(&m->dev, m->info.src, m->info.dst);

	/* the destination, held exclusively: O_EXCL on a device, a lock on a file */
	ret = svm_store_open(args->to, &sa, &m->dst, reason);
	if (ret) {
		svm_svmlog_makedev(m->svmlog, &m->dev, *reason ? *reason : strerror(-ret));
		goto free_migration;
	}
	if (svm_store_is_rbd(args->to)) {
		ret = check_rbd_empty(m->dst, reason);
		if (ret) {
			dst_ours = false; /* someone's data: never removed */
			svm_svmlog_makedev(m->svmlog, &m->dev, *reason ? *reason : strerror(-ret));
			goto remove_dst;
		}
	}
	ret = svm_migrec_create(&m->info, &m->rec, reason);
	if (ret)
		goto remove_dst;
	ret = launch(m, NULL, reason);
	if (ret)
		goto remove_rec;
	svm_log(SVM_LOG_INFO, "LUN %s: migrating from %s to %s with the %s datamover%s", m->name,
		m->info.src, m->info.dst, svm_mover_name(m->mover),
		args->rate_mibs ? " (rate limited)" : "");
	*out = m;
	return 0;

remove_rec:
	svm_migrec_remove(m->rec);
	m->rec = NULL;
remove_dst:
	svm_store_close(m->dst);
	m->dst = NULL;
	if (dst_ours && svm_store_is_rbd(args->to)) {
		svm_rbd_remove(args->to, hooks->rbd_conf, hooks->rbd_id, NULL);
	} else if (dst_ours) {
		struct stat sb;

		if (!stat(args->to, &sb) && S_ISREG(sb.st_mode))
			unlink(args->to);
	}
free_migration:
	free_migration(m);
	return ret;
}

int svm_migration_reopen(struct svm_lun *lun, const struct svm_migrate_hooks *hooks,
			 struct svm_migration **out, char **reason)
{
	/*
	 * An RBD destination exists by now (never created again) and is locked
	 * again: the lock of the runner that crashed is broken (it blocks the
	 * runner's start-up otherwise, until librbd sees that client's watch expire).
	 */
	struct svm_store_open_args sa = {.create = false,
					 .direct = svm_lun_direct(lun),
					 .rbd_conf = hooks->rbd_conf,
					 .rbd_id = hooks->rbd_id,
					 .rbd_dest = true,
					 .rbd_lock_wait_s = SVM_MIGRATE_RBD_LOCK_WAIT_S,
					 .rbd_lock_break = true};
	struct svm_migrec_info info;
	struct svm_migration *m;
	struct svm_migrec *rec;
	uint8_t *dirty = NULL;
	int ret;

	*out = NULL;
	ret = svm_migrec_open(svm_lun_source(lun), &rec, &info, &dirty, reason);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	m = alloc_migration(lun, hooks);
	if (!m) {
		ret = svm_reason(reason, -ENOMEM, "out of memory");
		goto close_rec;
	}
	m->rec = rec;
	m->info = info;
	m->resumed = true;
	if (svm_mover_parse(info.mover, &m->mover))
		m->mover = SVM_MOVER_AUTO;
	svm_svmlog_dev_init(&m->dev, info.src, info.dst);
	if (info.phase == SVM_MIGREC_SWITCHED) {
		/* the LUN opened on the destination: commit the switchover, let the source go */
		m->job = JOB_FINISH;
		m->phase = SVM_MIGRATE_SWITCHING;
		m->switched = true;
		svm_log(SVM_LOG_INFO,
			"LUN %s: finishing the switchover to %s that a restart interrupted", m->name,
			info.dst);
		ret = pthread_create(&m->thread, NULL, run, m);
		if (ret) {
			ret = svm_reason(reason, -ret, "cannot start the migration's thread");
			goto free_migration;
		}
		free(dirty);
		*out = m;
		return 0;
	}
	m->job = JOB_COPY;
	sa.min_bytes = info.size;
	ret = svm_store_open(info.dst, &sa, &m->dst, reason);
	if (ret) {
		/*
		 * Before the switch the source is authoritative: a destination
		 * that is gone (deleted, its filesystem not mounted yet) or
		 * unusable after a restart fails the migration, never the LUN,
		 * which serves its source as before.
		 */
		fail_reopen(m, *reason ? *reason : strerror(-ret));
		free(*reason);
		*reason = NULL;
		free(dirty);
		*out = m;
		return 0;
	}
	ret = launch(m, dirty, reason);
	if (ret)
		goto free_migration;
	svm_log(SVM_LOG_INFO, "LUN %s: migration to %s resumed at %llu of %llu bytes", m->name,
		info.dst, (unsigned long long)info.cursor, (unsigned long long)info.size);
	free(dirty);
	*out = m;
	return 0;

free_migration:
	free(dirty);
	free_migration(m); /* closes the record, which stays for the next open */
	return ret;
close_rec:
	free(dirty);
	svm_migrec_close(rec);
	return ret;
}

bool svm_migration_running(const struct svm_migration *m)
{
	enum svm_migrate_phase p;

	pthread_mutex_lock((pthread_mutex_t *)&m->lock);
	p = m->phase;
	pthread_mutex_unlock((pthread_mutex_t *)&m->lock);
	return p == SVM_MIGRATE_COPYING || p == SVM_MIGRATE_SWITCHING;
}

int svm_migration_abort(struct svm_migration *m, bool keep_dest)
{
	enum svm_migrate_phase p;

	pthread_mutex_lock(&m->lock);
	p = m->phase;
	pthread_mutex_unlock(&m->lock);
	if (p == SVM_MIGRATE_SWITCHING || m->job == JOB_FINISH)
		return -EBUSY;
	if (p != SVM_MIGRATE_COPYING)
		return -EALREADY;
	__atomic_store_n(&m->keep_dest, keep_dest, __ATOMIC_RELEASE);
	__atomic_store_n(&m->abort, true, __ATOMIC_RELEASE);
	__atomic_store_n(&m->stop, true, __ATOMIC_RELEASE);
	pthread_join(m->thread, NULL);
	m->thread = 0;
	/* the switchover may have won the race: then it is done, not aborted */
	return svm_migration_running(m) ? -EIO : 0;
}

void svm_migration_stop(struct svm_migration *m)
{
	if (!m)
		return;
	__atomic_store_n(&m->stop, true, __ATOMIC_RELEASE);
	if (m->thread)
		pthread_join(m->thread, NULL);
	if (m->mirror) {
		/* closed mid-pass: a checkpoint, and the record stays for the next open */
		int ret = svm_mirror_checkpoint(m->mirror);

		if (ret)
			svm_log(SVM_LOG_WARN,
				"LUN %s: no checkpoint at close (%s); the next open resumes from the "
				"last one",
				m->name, strerror(-ret));
		detach(m);
		svm_svmlog(m->svmlog, "Device %s suspended: the LUN closed; the copy resumes "
				      "at its next open",
			   m->dev.name);
	}
	free_migration(m);
}

void svm_migration_status(struct svm_migration *m, struct svm_migrate_status *out)
{
	struct svm_mirror_stats st;
	uint64_t reads, waited;

	memset(out, 0, sizeof(*out));
	svm_lun_io_stats(m->lun, &reads, &waited);
	pthread_mutex_lock(&m->lock);
	if (m->mirror)
		svm_mirror_get_stats(m->mirror, &m->last);
	st = m->last;
	out->phase = m->phase;
	snprintf(out->source, sizeof(out->source), "%s", m->info.src);
	snprintf(out->destination, sizeof(out->destination), "%s", m->info.dst);
	if (m->mirror)
		snprintf(out->mirror, sizeof(out->mirror), "%s", m->dev.name);
	out->bytes_total = m->info.size;
	out->bytes_copied = st.bytes_copied;
	out->bytes_skipped = st.bytes_skipped;
	out->bytes_overwritten = st.bytes_overwritten;
	memcpy(out->moved, st.moved, sizeof(out->moved));
	out->mover = m->mover;
	out->rate_mibs = m->info.rate_mibs;
	out->reads = reads - m->reads0;
	out->writes = st.writes;
	out->mirrored_writes = st.mirrored_writes;
	out->waited_writes = waited - m->waited0;
	out->resumed = m->resumed;
	out->switched = m->switched;
	out->started = m->info.started;
	out->elapsed_ms = ((m->t_end_ns ? m->t_end_ns : mono_ns()) - m->t0_ns) / 1000000;
	out->max_pause_ms = (m->max_pause_ns + 999999) / 1000000;
	snprintf(out->error, sizeof(out->error), "%s", m->error);
	pthread_mutex_unlock(&m->lock);
}
