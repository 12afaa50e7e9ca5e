/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A LUN's migration end to end without the runner: the pass under host
 * writes, the switchover and its commit, the source deleted; refusals;
 * a close mid-pass and the resume at the next open; a crash after the
 * switchover; an abort; the SVM log lines; WRITE SAME, UNMAP, COMPARE AND
 * WRITE / ORWRITE and EXTENDED COPY during the pass.
 */
#define _GNU_SOURCE
#include "test.h"
#include "../../handler/cfg.h"
#include "../../handler/limits.h"
#include "../../handler/migrate.h"
#include "../../handler/migrec.h"
#include "../../handler/state.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MB   (1ull << 20)
#define SIZE (40 * MB) /* ten chunks */

static char commits[4096];
static int commit_ret;

static int serial_of(void *arg, char *buf, size_t len)
{
	(void)arg;
	snprintf(buf, len, "migrate-test");
	return 0;
}

static int commit(void *arg, const char *to, char **reason)
{
	(void)arg, (void)reason;
	strncat(commits, to, sizeof(commits) - strlen(commits) - 2);
	strcat(commits, "\n");
	return commit_ret;
}

static struct svm_migrate_hooks hooks = {.commit = commit, .name = "mig"};

static void path_of(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", test_dir, name);
}

static struct svm_lun *open_lun(const char *path)
{
	struct svm_lun_params p = {.block_size = 512, .num_lbas = SIZE / 512, .wce = true,
				   .serial = serial_of};
	char *reason = NULL;
	struct svm_lun *lun = NULL;
	struct svm_cfg cfg;

	CHECK_EQ(svm_cfg_parse(path, &cfg, &reason), 0);
	p.cfg = &cfg;
	CHECK_EQ(svm_lun_open(&p, &lun, &reason), 0);
	if (reason)
		fprintf(stderr, "  %s\n", reason);
	free(reason);
	svm_cfg_free(&cfg);
	return lun;
}

static void fill(struct svm_lun *lun, uint64_t off, size_t len, unsigned seed)
{
	uint8_t *b = malloc(len);
	struct iovec v = {b, len};

	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 11 + seed);
	CHECK_EQ(svm_lun_write(lun, &v, 1, off, len, false), 0);
	free(b);
}

/* sha-less check: the whole LUN read back equals the expected image. */
static bool holds(struct svm_lun *lun, const uint8_t *want)
{
	uint8_t *b = malloc(SIZE);
	struct iovec v = {b, SIZE};
	bool ok = !svm_lun_read(lun, &v, 1, 0, SIZE) && !memcmp(b, want, SIZE);

	free(b);
	return ok;
}

static void image_write(uint8_t *img, uint64_t off, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		img[off + i] = (uint8_t)(i * 11 + seed);
}

static enum svm_migrate_phase wait_end(struct svm_migration *m)
{
	struct svm_migrate_status st;

	for (int i = 0; i < 3000; i++) {
		svm_migration_status(m, &st);
		if (st.phase >= SVM_MIGRATE_DONE)
			return st.phase;
		usleep(10000);
	}
	return SVM_MIGRATE_IDLE;
}

struct writer {
	struct svm_lun *lun;
	uint8_t *img;
	volatile bool stop;
	unsigned n, errors;
};

static void *writer(void *arg)
{
	struct writer *w = arg;
	unsigned seed = 3;

	while (!w->stop) {
		/* the first 16 MiB only: the holes further on stay holes */
		uint64_t off = (uint64_t)(rand_r(&seed) % (16 * MB / 4096)) * 4096;

		/* one writer: the image follows the LUN exactly */
		uint8_t b[4096];
		struct iovec v = {b, sizeof(b)};

		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (uint8_t)(i * 11 + w->n);
		w->errors += svm_lun_write(w->lun, &v, 1, off, sizeof(b), false) != 0;
		image_write(w->img, off, 4096, w->n);
		w->n++;
	}
	return NULL;
}

static bool file_has(const char *path, const char *text)
{
	char buf[16384] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n > 0)
		buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

static int flip(uint8_t *data, size_t len, void *arg)
{
	(void)arg;
	for (size_t i = 0; i < len; i++)
		data[i] ^= 0x5a;
	return 0;
}

/*
 * The commands besides WRITE that change the medium (WRITE SAME, UNMAP,
 * COMPARE AND WRITE and ORWRITE's read-modify-write, EXTENDED COPY within
 * the LUN) mid-pass, behind the copy (mirrored) and ahead of it (source
 * only, carried by the pass), and copies across the cursor both ways: after
 * the switchover the destination holds every one of them.
 */
static void vaai_mid_pass(struct svm_lun *lun, uint8_t *img, const char *to)
{
	struct svm_migrate_args a = {.mover = SVM_MOVER_AUTO, .to = to, .rate_mibs = 8};
	const uint64_t lo = 512 * 1024, hi = 20 * MB + 256 * 1024, n = 64 * 1024;
	struct svm_migrate_status st;
	struct svm_migration *m;
	char *reason = NULL;
	int tries = 0;

	CHECK_EQ(svm_migration_start(lun, &a, &hooks, &m, &reason), 0);
	free(reason);
	if (!m)
		return;
	do { /* chunk 0 copied, chunk 5 (20-24 MiB, data) not yet */
		usleep(20000);
		svm_migration_status(m, &st);
	} while (st.phase == SVM_MIGRATE_COPYING && st.bytes_copied < 4 * MB && ++tries < 500);
	for (int i = 0; i < 2; i++) {
		uint64_t at = i ? hi : lo;
		int ret = svm_lun_write_zeroes(lun, at, n);

		if (ret == -EOPNOTSUPP) {
			uint8_t *z = calloc(1, n);
			struct iovec v = {z, n};

			ret = svm_lun_write(lun, &v, 1, at, n, false);
			free(z);
		}
		CHECK_EQ(ret, 0);
		memset(img + at, 0, n);
		CHECK_EQ(svm_lun_discard(lun, at + 2 * n, n), 0);
		memset(img + at + 2 * n, 0, n);
		CHECK_EQ(svm_lun_rmw(lun, at + 4 * n + 512, 4096, false, flip, NULL), 0);
		flip(img + at + 4 * n + 512, 4096, NULL);
		CHECK_EQ(svm_lun_copy(lun, at + 6 * n, lun, at + 8 * n + 4096, 2 * n,
				      SVM_MOVER_AUTO, 0, NULL),
			 0);
		memmove(img + at + 6 * n, img + at + 8 * n + 4096, 2 * n);
	}
	/* across the cursor: ahead into behind, behind into ahead */
	CHECK_EQ(svm_lun_copy(lun, lo + MB, lun, hi + MB, MB, SVM_MOVER_AUTO, 0, NULL), 0);
	memmove(img + lo + MB, img + hi + MB, MB);
	CHECK_EQ(svm_lun_copy(lun, hi + 2 * MB, lun, lo + 2 * MB, MB, SVM_MOVER_AUTO, 0, NULL), 0);
	memmove(img + hi + 2 * MB, img + lo + 2 * MB, MB);
	svm_migration_status(m, &st);
	CHECK(st.phase == SVM_MIGRATE_COPYING && st.bytes_copied < 20 * MB); /* all mid-pass */
	CHECK(holds(lun, img)); /* the source, before the switch */
	CHECK_EQ(wait_end(m), SVM_MIGRATE_DONE);
	CHECK(!strcmp(svm_lun_source(lun), to) && holds(lun, img)); /* the destination */
	svm_migration_stop(m);
}

void migrate_test(void)
{
	char src[256], dst[256], log[256], *reason = NULL, where[4096];
	struct svm_migrate_args a = {.mover = SVM_MOVER_AUTO};
	struct svm_migrate_status st;
	struct svm_migration *m;
	struct svm_lun *lun;
	uint8_t *img = calloc(1, SIZE);
	struct stat sb;

	test_log_capture();
	path_of(src, sizeof(src), "mig-src.img");
	path_of(dst, sizeof(dst), "mig-dst.img");
	path_of(log, sizeof(log), "svm.log");
	unlink(src);
	unlink(dst);
	hooks.svmlog = log;
	lun = open_lun(src);
	if (!lun || !img)
		goto out;
	fill(lun, 0, 8 * MB, 1);
	image_write(img, 0, 8 * MB, 1);
	fill(lun, 20 * MB, 4 * MB, 2);
	image_write(img, 20 * MB, 4 * MB, 2);

	/* refusals: nothing created */
	a.to = "relative.img";
	CHECK_EQ(svm_migration_start(lun, &a, &hooks, &m, &reason), -EINVAL);
	free(reason);
	reason = NULL;
	/* RBD destinations: refusals that need no cluster */
	a.to = "rbd/svm/lun1";
	a.mover = SVM_MOVER_KERNEL; /* pinned: it copies between fds, an RBD store has none */
	CHECK_EQ(svm_migration_start(lun, &a, &hooks, &m, &reason), -EOPNOTSUPP);
	CHECK(reason && strstr(reason, "the kernel datamover copies between two files") &&
	      strstr(reason, "rbd/svm/lun1"));
	free(reason);
	reason = NULL;
	a.mover = SVM_MOVER_REFLINK;
	CHECK_EQ(svm_migration_start(lun, &a, &hooks, &m, &reason), -EOPNOTSUPP);
	free(reason);
	reason = NULL;
	a.mover = SVM_MOVER_AUTO;
	a.to = "rbd/svm/ns/lun1";
	CHECK_EQ(svm_migration_start(lun, &a, &hooks, &m, &reason), -EINVAL);
	CHECK(reason && strstr(reason, "namespaces"));
	free(reason);
	reason = NULL;
	/* a cluster that cannot be reached: refused with the store's reason, no record left */
	a.to = "rbd/svm/lun1";
	hooks.rbd_conf = "/no/such/ceph.conf";
	CHECK(svm_migration_start(lun, &a, &hooks, &m, &reason) < 0);
	CHECK(reason && strstr(reason, "/no/such/ceph.conf"));
	free(reason);
	reason = NULL;
	hooks.rbd_conf = NULL;
	{
		struct svm_migrec_info ri;
		struct svm_migrec *rr;
		uint8_t *rbm = NULL;

		CHECK_EQ(svm_migrec_open(src, &rr, &ri, &rbm, NULL), -ENOENT);
	}
	a.to = "/no/such/dir/x.img";
	CHECK_EQ(svm_migration_start(lun, &a, &hooks, &m, &reason), -ENOENT);
	free(reason);
	reason = NULL;
	a.to = src;
	CHECK_EQ(svm_migration_start(lun, &a, &hooks, &m, &reason), -EINVAL);
	CHECK(reason && strstr(reason, "is the source"));
	free(reason);
	reason = NULL;
	{
		int fd = open(dst, O_CREAT | O_WRONLY, 0600);

		CHECK(fd >= 0 && write(fd, "x", 1) == 1);
		close(fd);
	}
	a.to = dst;
	CHECK_EQ(svm_migration_start(lun, &a, &hooks, &m, &reason), -EEXIST);
	CHECK(reason && strstr(reason, "not empty"));
	free(reason);
	reason = NULL;
	CHECK(stat(dst, &sb) == 0 && sb.st_size == 1);
	unlink(dst);

	/* a migration under a host writer: done, the LUN serves the destination, the source is gone */
	struct writer w = {.lun = lun, .img = img};
	pthread_t t;

	CHECK_EQ(pthread_create(&t, NULL, writer, &w), 0);
	a.rate_mibs = 200; /* slow enough that the writer runs during the pass */
	CHECK_EQ(svm_migration_start(lun, &a, &hooks, &m, &reason), 0);
	CHECK(svm_migration_running(m));
	CHECK_EQ(wait_end(m), SVM_MIGRATE_DONE);
	w.stop = true;
	pthread_join(t, NULL);
	svm_migration_status(m, &st);
	CHECK(w.n > 0 && w.errors == 0 && st.mirrored_writes > 0);
	CHECK_EQ(st.bytes_copied + st.bytes_skipped, SIZE);
	CHECK(st.bytes_skipped >= 20 * MB); /* the holes: 16-20 MiB and 24-40 MiB */
	CHECK(!strcmp(st.source, src) && !strcmp(st.destination, dst) && !st.error[0]);
	CHECK(!strcmp(svm_lun_source(lun), dst));
	CHECK(holds(lun, img));
	CHECK(access(src, F_OK) != 0);
	CHECK(strstr(commits, dst) != NULL);
	CHECK_EQ(svm_migration_store_to_open(dst, where, sizeof(where), &reason), 0);
	CHECK(!strcmp(where, dst)); /* no record left */
	svm_migration_stop(m);
	/* the SVM log lines of the device's life */
	CHECK(file_has(log, "SVM_MakeDev."));
	CHECK(file_has(log, "-svmmirror, primary "));
	CHECK(file_has(log, "SVM Mirrored mode IO stats for device: "));
	CHECK(file_has(log, "Destroyed device "));
	/* the stats name the datamover that moved the data, not the tier asked for */
	CHECK(!file_has(log, "Mover: auto"));
	CHECK(file_has(log, "Mover: kernel") || file_has(log, "Mover: bounce") ||
	      file_has(log, "Mover: reflink"));
	svm_lun_close(lun);

	/* back again, stopped half way by a close (tcmu-runner stopping) and resumed at the next open */
	lun = open_lun(dst);
	a.to = src;
	a.rate_mibs = 20; /* 2 s for the LUN */
	CHECK_EQ(svm_migration_start(lun, &a, &hooks, &m, &reason), 0);
	usleep(600000);
	fill(lun, 0, 4096, 9); /* a write during the pass */
	image_write(img, 0, 4096, 9);
	svm_migration_stop(m); /* the LUN closes: no command runs after this */
	svm_lun_close(lun);
	CHECK_EQ(svm_migration_store_to_open(dst, where, sizeof(where), &reason), 0);
	CHECK(!strcmp(where, dst)); /* still copying: the source serves */
	lun = open_lun(dst);
	CHECK_EQ(svm_migration_reopen(lun, &hooks, &m, &reason), 0);
	CHECK(m != NULL);
	if (m) {
		svm_migration_status(m, &st);
		CHECK(st.resumed && st.phase == SVM_MIGRATE_COPYING);
		CHECK_EQ(wait_end(m), SVM_MIGRATE_DONE);
		CHECK(!strcmp(svm_lun_source(lun), src) && holds(lun, img));
		svm_migration_stop(m);
	}
	svm_lun_close(lun);

	/*
	 * Stopped half way, and the destination is gone at the next open (its
	 * filesystem not mounted, say): the migration fails, the LUN serves its
	 * source, the record goes.
	 */
	lun = open_lun(src);
	a.to = dst;
	a.rate_mibs = 20;
	CHECK_EQ(svm_migration_start(lun, &a, &hooks, &m, &reason), 0);
	usleep(300000);
	svm_migration_stop(m);
	svm_lun_close(lun);
	CHECK(unlink(dst) == 0);
	CHECK_EQ(svm_migration_store_to_open(src, where, sizeof(where), &reason), 0);
	CHECK(!strcmp(where, src));
	lun = open_lun(src);
	CHECK_EQ(svm_migration_reopen(lun, &hooks, &m, &reason), 0);
	CHECK(m != NULL);
	if (m) {
		svm_migration_status(m, &st);
		CHECK(st.phase == SVM_MIGRATE_FAILED && st.resumed);
		CHECK(strstr(st.error, "resuming after a restart") && strstr(st.error, dst));
		CHECK(!svm_migration_running(m));
		CHECK_EQ(svm_migration_abort(m, false), -EALREADY);
		svm_migration_stop(m);
	}
	CHECK(!strcmp(svm_lun_source(lun), src) && holds(lun, img));
	CHECK_EQ(svm_migration_reopen(lun, &hooks, &m, &reason), 0);
	CHECK(m == NULL); /* no record left */
	CHECK(file_has(log, "during the resume: "));
	svm_lun_close(lun);

	/* a crash after the switchover, before LIO's configuration says so */
	lun = open_lun(src);
	a.to = dst;
	a.rate_mibs = 0;
	commit_ret = -EIO; /* the commit fails: the record stays "switched" */
	CHECK_EQ(svm_migration_start(lun, &a, &hooks, &m, &reason), 0);
	CHECK_EQ(wait_end(m), SVM_MIGRATE_DONE);
	svm_migration_status(m, &st);
	CHECK(st.error[0] != 0);
	svm_migration_stop(m);
	svm_lun_close(lun);
	commit_ret = 0;
	/* the LUN's dev_config still names the source: it must open the destination */
	CHECK_EQ(svm_migration_store_to_open(src, where, sizeof(where), &reason), 0);
	CHECK(!strcmp(where, dst));
	lun = open_lun(where);
	commits[0] = '\0';
	CHECK_EQ(svm_migration_reopen(lun, &hooks, &m, &reason), 0);
	CHECK(m != NULL);
	if (m) {
		CHECK_EQ(wait_end(m), SVM_MIGRATE_DONE);
		svm_migration_stop(m);
	}
	CHECK(strstr(commits, dst) != NULL && access(src, F_OK) != 0 && holds(lun, img));
	/* the record is gone; the deleted source forwards to where it went (an old saveconfig) */
	CHECK_EQ(svm_migration_store_to_open(src, where, sizeof(where), &reason), 0);
	CHECK(!strcmp(where, dst));
	{
		char rec_dst[PATH_MAX];

		CHECK_EQ(svm_state_store_moved_to(src, rec_dst, sizeof(rec_dst)), 0);
		CHECK(!strcmp(rec_dst, dst));
		CHECK_EQ(svm_state_store_moved_to("/never/served", rec_dst, sizeof(rec_dst)), -ENOENT);
	}
	/* a file at the old path again is its own store: no forward */
	{
		int fd = open(src, O_CREAT | O_WRONLY, 0600);

		CHECK(fd >= 0);
		if (fd >= 0)
			close(fd);
		CHECK_EQ(svm_migration_store_to_open(src, where, sizeof(where), &reason), 0);
		CHECK(!strcmp(where, src));
		unlink(src);
	}

	/* an abort: the source stays, the destination goes */
	a.to = src;
	a.rate_mibs = 10;
	CHECK_EQ(svm_migration_start(lun, &a, &hooks, &m, &reason), 0);
	usleep(300000);
	{
		/* no resize during a migration: the pass would never copy the new blocks */
		struct svm_lun_geom g;
		char *why = NULL;

		svm_lun_get_geom(lun, &g);
		CHECK_EQ(svm_lun_grow(lun, g.num_lbas * 2, &why), -EBUSY);
		CHECK(why && strstr(why, "being migrated"));
		free(why);
	}
	CHECK_EQ(svm_migration_abort(m, false), 0);
	svm_migration_status(m, &st);
	CHECK(st.phase == SVM_MIGRATE_ABORTED);
	CHECK_EQ(svm_migration_abort(m, false), -EALREADY);
	svm_migration_stop(m);
	CHECK(access(src, F_OK) != 0 && !strcmp(svm_lun_source(lun), dst) && holds(lun, img));
	vaai_mid_pass(lun, img, src);
	svm_lun_close(lun);

	/*
	 * RBD names around a crash: a record switched over to an image names the
	 * image; an RBD name is never stat()ed nor forwarded (no forward is kept
	 * for a removed image, and a stray one is ignored).
	 */
	{
		struct svm_migrec_info ri = {.phase = SVM_MIGREC_COPYING, .mover = "auto",
					     .size = 64 << 20, .region = 64 << 20, .nregions = 1};
		struct svm_migrec *rr;

		snprintf(ri.src, sizeof(ri.src), "%s/mig-rbd-src.img", test_dir);
		snprintf(ri.dst, sizeof(ri.dst), "rbd/svm/mig-rbd");
		CHECK_EQ(svm_migrec_create(&ri, &rr, NULL), 0);
		CHECK_EQ(svm_migration_store_to_open(ri.src, where, sizeof(where), NULL), 0);
		CHECK(!strcmp(where, ri.src)); /* copying: the source */
		CHECK_EQ(svm_migrec_update(rr, SVM_MIGREC_SWITCHED, 64 << 20), 0);
		CHECK_EQ(svm_migration_store_to_open(ri.src, where, sizeof(where), NULL), 0);
		CHECK(!strcmp(where, "rbd/svm/mig-rbd"));
		CHECK_EQ(svm_migrec_remove(rr), 0);
		CHECK_EQ(svm_state_store_moved("rbd/svm/gone", ri.src), 0);
		CHECK_EQ(svm_migration_store_to_open("rbd/svm/gone", where, sizeof(where), NULL),
			 0);
		CHECK(!strcmp(where, "rbd/svm/gone"));
	}
out:
	free(img);
	free(reason);
	test_log_restore();
}
