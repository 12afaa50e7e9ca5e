/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "test.h"
#include "../../handler/cfg.h"
#include "../../handler/limits.h"
#include "../../handler/store_rbd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* Parse str; expect err; if reason_has, the reason must contain it. */
static void expect_parse(const char *str, int err, const char *reason_has)
{
	struct svm_cfg cfg;
	char *reason = NULL;
	int ret = svm_cfg_parse(str, &cfg, &reason);

	CHECK_EQ(ret, err);
	if (ret) {
		CHECK(reason && (!reason_has || strstr(reason, reason_has)));
		if (reason && reason_has && !strstr(reason, reason_has))
			fprintf(stderr, "  reason was: %s\n", reason);
		CHECK(cfg.src == NULL);
	} else {
		svm_cfg_free(&cfg);
	}
	free(reason);
}

static int check_paths(const char *str, char **reason)
{
	struct svm_cfg cfg;
	int ret = svm_cfg_parse(str, &cfg, reason);

	if (ret)
		return ret;
	ret = svm_cfg_check_paths(&cfg, reason);
	svm_cfg_free(&cfg);
	return ret;
}

/* RBD sources (store_rbd.h) and their cluster keys conf= and id=. */
static void rbd_cfg_test(void)
{
	char long_name[SVM_RBD_NAME_MAX + 2], s[300], *pool = NULL, *image = NULL, *reason = NULL;
	struct svm_cfg cfg, next;

	CHECK_EQ(svm_cfg_parse("rbd/svm/lun0", &cfg, NULL), 0);
	CHECK(!strcmp(cfg.src, "rbd/svm/lun0") && !cfg.conf && !cfg.id);
	CHECK_EQ(svm_cfg_check_paths(&cfg, NULL), 0); /* no cluster asked */
	svm_cfg_free(&cfg);
	CHECK_EQ(svm_cfg_parse("rbd/svm/lun0;conf=/run/svm-ceph/ceph.conf;id=admin", &cfg, NULL), 0);
	CHECK(!strcmp(cfg.conf, "/run/svm-ceph/ceph.conf") && !strcmp(cfg.id, "admin"));
	/* conf= and id= are fixed while the LUN runs */
	CHECK_EQ(svm_cfg_parse("rbd/svm/lun0;conf=/etc/ceph/ceph.conf;id=admin", &next, NULL), 0);
	CHECK_EQ(svm_cfg_check_live_change(&cfg, &next, &reason), -EINVAL);
	CHECK(reason && strstr(reason, "conf= and id= cannot change"));
	free(reason);
	reason = NULL;
	svm_cfg_free(&next);
	CHECK_EQ(svm_cfg_parse("rbd/svm/lun0;conf=/run/svm-ceph/ceph.conf;id=admin;wce=no", &next,
			       NULL), 0);
	CHECK_EQ(svm_cfg_check_live_change(&cfg, &next, &reason), -EINVAL); /* wce, not conf */
	CHECK(reason && strstr(reason, "wce="));
	free(reason);
	reason = NULL;
	svm_cfg_free(&next);
	svm_cfg_free(&cfg);
	CHECK(svm_cfg_same_store("rbd/a/b", "rbd/a/b"));
	CHECK(!svm_cfg_same_store("rbd/a/b", "rbd/a/c"));
	CHECK(!svm_cfg_same_store("rbd/a/b", "/rbd/a/b"));

	/* malformed specs: each refused with its reason */
	expect_parse("rbd/", -EINVAL, "names no image");
	expect_parse("rbd/svm", -EINVAL, "names no image");
	expect_parse("rbd//lun0", -EINVAL, "empty pool name");
	expect_parse("rbd/svm/", -EINVAL, "empty image name");
	expect_parse("rbd/svm/ns/lun0", -EINVAL, "namespaces are not supported");
	expect_parse("rbd/svm/lun0@snap", -EINVAL, "snapshots");
	expect_parse("rbd/svm/lun0;dst=rbd/svm/ns/lun1", -EINVAL, "namespaces are not supported");
	expect_parse("/a/b.img;dst=rbd//lun1", -EINVAL, "empty pool name");
	expect_parse("/a/b.img;dst=rbd2/a/b", -EINVAL, "not absolute");
	expect_parse("rbd/svm/lun0;conf=ceph.conf", -EINVAL, "not absolute");
	expect_parse("rbd/svm/lun0;id=client:admin", -EINVAL, "':'");
	expect_parse("rbd/svm/lun0;id=a/b", -EINVAL, "Ceph client id");
	expect_parse("rbd/svm/lun0;id=", -EINVAL, "Ceph client id");
	expect_parse("rbd/svm/lun0;id=a;id=b", -EINVAL, "given twice");
	/* an RBD destination (dst=), and conf=/id= with any source: a file LUN migrating into a
	 * cluster names it; the formatted string keeps them (the commit after a switchover) */
	CHECK_EQ(svm_cfg_parse("rbd/svm/lun0;dst=rbd/svm2/lun1", &cfg, NULL), 0);
	CHECK(!strcmp(cfg.dst, "rbd/svm2/lun1"));
	CHECK_EQ(svm_cfg_check_paths(&cfg, NULL), 0);
	svm_cfg_free(&cfg);
	CHECK_EQ(svm_cfg_parse("rbd/svm/lun0;dst=rbd/svm/lun0", &cfg, NULL), 0);
	CHECK_EQ(svm_cfg_check_paths(&cfg, &reason), -EINVAL); /* the source itself */
	CHECK(reason && strstr(reason, "is the source store"));
	free(reason);
	reason = NULL;
	svm_cfg_free(&cfg);
	CHECK_EQ(svm_cfg_parse("/a/b.img;conf=/etc/ceph/ceph.conf;id=admin;dst=rbd/svm/lun1", &cfg,
			       NULL),
		 0);
	CHECK(!strcmp(cfg.conf, "/etc/ceph/ceph.conf") && !strcmp(cfg.id, "admin"));
	free(cfg.src);
	cfg.src = strdup("rbd/svm/lun1"); /* what the switchover's commit does */
	free(cfg.dst);
	cfg.dst = NULL;
	CHECK_EQ(svm_cfg_format(&cfg, s, sizeof(s)), 0);
	CHECK(!strcmp(s, "svm/rbd/svm/lun1;conf=/etc/ceph/ceph.conf;id=admin"));
	svm_cfg_free(&cfg);
	CHECK_EQ(svm_cfg_parse("/a/b.img;id=admin", &cfg, NULL), 0);
	svm_cfg_free(&cfg);
	expect_parse("RBD/svm/lun0", -EINVAL, "not absolute"); /* the prefix is lower case */
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0'; /* SVM_RBD_NAME_MAX + 1 bytes */
	snprintf(s, sizeof(s), "rbd/svm/%s", long_name);
	expect_parse(s, -EINVAL, "image name is longer than");
	snprintf(s, sizeof(s), "rbd/%s/lun0", long_name);
	expect_parse(s, -EINVAL, "pool name is longer than");
	long_name[SVM_RBD_NAME_MAX] = '\0'; /* exactly the longest */
	snprintf(s, sizeof(s), "rbd/%s/lun0", long_name);
	expect_parse(s, 0, NULL);

	/* the parser's own answers */
	CHECK(svm_rbd_is_spec("rbd/a/b") && !svm_rbd_is_spec("/rbd/a/b") && !svm_rbd_is_spec(NULL));
	CHECK_EQ(svm_rbd_parse("rbd/pool-1/image.2", &pool, &image, NULL), 0);
	CHECK(pool && image && !strcmp(pool, "pool-1") && !strcmp(image, "image.2"));
	free(pool);
	free(image);
	CHECK_EQ(svm_rbd_parse("rbd/p/i", NULL, NULL, NULL), 0);
	CHECK_EQ(svm_rbd_parse("/var/lib/x.img", NULL, NULL, &reason), -EINVAL);
	CHECK(reason && strstr(reason, "is not an RBD store"));
	free(reason);
}

void cfg_test(void)
{
	struct svm_cfg cfg;
	char *reason = NULL, path[128], link[128], s[512];
	int fd;

	rbd_cfg_test();

	CHECK_EQ(svm_cfg_parse("/a/b.img", &cfg, NULL), 0);
	CHECK(!strcmp(cfg.src, "/a/b.img") && !cfg.dst && cfg.create && cfg.wce && cfg.direct);
	svm_cfg_free(&cfg);
	CHECK_EQ(svm_cfg_parse("/a/b.img;direct=no", &cfg, NULL), 0);
	CHECK(!cfg.direct);
	svm_cfg_free(&cfg);
	CHECK_EQ(svm_cfg_parse("/a/b.img;dst=/c/d.img;create=no;wce=off", &cfg, NULL), 0);
	CHECK(cfg.dst && !strcmp(cfg.dst, "/c/d.img") && !cfg.create && !cfg.wce);
	svm_cfg_free(&cfg);
	/* defaults, and the copy keys (docs/xcopy.md) */
	CHECK_EQ(svm_cfg_parse("/a/b.img", &cfg, NULL), 0);
	CHECK(cfg.mover == SVM_MOVER_AUTO && !cfg.xcopy_group);
	svm_cfg_free(&cfg);
	CHECK_EQ(svm_cfg_parse("/a/b.img;mover=reflink;xcopy_group=vm-pool.1", &cfg, NULL), 0);
	CHECK(cfg.mover == SVM_MOVER_REFLINK && cfg.xcopy_group &&
	      !strcmp(cfg.xcopy_group, "vm-pool.1"));
	svm_cfg_free(&cfg);
	expect_parse("/a.img;mover=fast", -EINVAL, "expected auto, bounce, kernel or reflink");
	expect_parse("/a.img;xcopy_group=a/b", -EINVAL, "letters, digits");
	expect_parse("/a.img;xcopy_group=", -EINVAL, "letters, digits");
	expect_parse("/a.img;mover=kernel;mover=bounce", -EINVAL, "given twice");
	{
		char g[128] = "/a.img;xcopy_group=";

		memset(g + strlen(g), 'g', SVM_XCOPY_GROUP_MAX + 1);
		expect_parse(g, -EINVAL, "letters, digits");
	}
	/* tcmu-runner's own key is left to it (check_config sees it before the runner strips it) */
	CHECK_EQ(svm_cfg_parse("/a/b.img;tcmur_cmd_time_out=30;wce=no", &cfg, NULL), 0);
	CHECK(cfg.src && !strcmp(cfg.src, "/a/b.img") && !cfg.wce);
	CHECK(cfg.has_cmd_time_out && cfg.cmd_time_out == 30);
	svm_cfg_free(&cfg);
	/* svm_log= (docs/svmlog.md): an absolute path */
	CHECK_EQ(svm_cfg_parse("/a/b.img;svm_log=/var/log/tcmu-svm-a.log", &cfg, NULL), 0);
	CHECK(cfg.svm_log && !strcmp(cfg.svm_log, "/var/log/tcmu-svm-a.log"));
	svm_cfg_free(&cfg);
	expect_parse("/a.img;svm_log=svm.log", -EINVAL, "not absolute");
	expect_parse("/a.img;svm_log=", -EINVAL, "missing SVM log path");

	/* format: what the migration writes back; parsing it gives the same cfg */
	{
		static const char *const strs[] = {
			"/a/b.img",
			("/a/b.img;dst=/c/d.img;create=no;wce=no;mover=kernel;xcopy_group=g1;"
			 "svm_log=/l/x.log;tcmur_cmd_time_out=45"),
			"/a/b.img;svm_log=/l/x.log;mover=reflink",
			"/a/b.img;svm_log=/l/x.log;direct=off;wce=yes",
			"rbd/p/img;id=svm;dst=/c/d.img;conf=/etc/ceph/c.conf",
		};
		static const char *const want[] = {
			"svm//a/b.img",
			("svm//a/b.img;dst=/c/d.img;create=no;wce=no;mover=kernel;xcopy_group=g1;"
			 "svm_log=/l/x.log;tcmur_cmd_time_out=45"),
			"svm//a/b.img;mover=reflink;svm_log=/l/x.log",
			"svm//a/b.img;direct=no;svm_log=/l/x.log",
			"svm/rbd/p/img;conf=/etc/ceph/c.conf;id=svm;dst=/c/d.img",
		};
		struct svm_cfg back;
		char out[300];

		for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
			CHECK_EQ(svm_cfg_parse(strs[i], &cfg, NULL), 0);
			CHECK_EQ(svm_cfg_format(&cfg, out, sizeof(out)), 0);
			CHECK(!strcmp(out, want[i]));
			CHECK_EQ(svm_cfg_parse_dev_config(out, &back, NULL), 0);
			CHECK(!strcmp(back.src, cfg.src) && !back.dst == !cfg.dst &&
			      back.create == cfg.create && back.wce == cfg.wce &&
			      back.mover == cfg.mover && !back.svm_log == !cfg.svm_log &&
			      back.direct == cfg.direct &&
			      back.cmd_time_out == cfg.cmd_time_out);
			svm_cfg_free(&back);
			svm_cfg_free(&cfg);
		}
		CHECK_EQ(svm_cfg_parse("/a/b.img", &cfg, NULL), 0);
		CHECK_EQ(svm_cfg_format(&cfg, out, 8), -ENAMETOOLONG);
		svm_cfg_free(&cfg);
	}

	/* the string as the kernel and the runner carry it */
	CHECK_EQ(svm_cfg_parse_dev_config("svm//a/b.img;wce=no\n", &cfg, NULL), 0);
	CHECK(cfg.src && !strcmp(cfg.src, "/a/b.img") && !cfg.wce);
	svm_cfg_free(&cfg);
	CHECK_EQ(svm_cfg_parse_dev_config("rbd/pool/img", &cfg, &reason), -EINVAL);
	CHECK(reason && strstr(reason, "must start with 'svm/'"));
	free(reason);
	reason = NULL;
	{
		/* the kernel keeps 255 bytes: 255 is fine, 256 is refused */
		char lng[300] = "svm//";

		memset(lng + 5, 'a', 250);
		lng[255] = '\0';
		CHECK_EQ(svm_cfg_parse_dev_config(lng, &cfg, NULL), 0);
		svm_cfg_free(&cfg);
		strcat(lng, "b");
		CHECK_EQ(svm_cfg_parse_dev_config(lng, &cfg, &reason), -EINVAL);
		CHECK(reason && strstr(reason, "kernel keeps only 255"));
		free(reason);
		reason = NULL;
	}

	{
		static const char *const bad[] = {"", "0", "257", "-1", "4x", " 4", "99999999999999999999"};
		unsigned n = 0;

		CHECK_EQ(svm_cfg_parse_threads("SVM_THREADS", "1", &n, NULL), 0);
		CHECK_EQ(n, 1u);
		CHECK_EQ(svm_cfg_parse_threads("SVM_THREADS", "256", &n, NULL), 0);
		CHECK_EQ(n, 256u);
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			n = 7;
			CHECK_EQ(svm_cfg_parse_threads("SVM_LUN_THREADS", bad[i], &n, &reason), -EINVAL);
			CHECK(n == 7 && reason && strstr(reason, "SVM_LUN_THREADS='"));
			free(reason);
			reason = NULL;
		}
		CHECK_EQ(svm_cfg_parse_threads("SVM_THREADS", NULL, &n, NULL), -EINVAL);
	}

	expect_parse("", -EINVAL, "missing source");
	expect_parse(NULL, -EINVAL, "empty");
	expect_parse("rel/path.img", -EINVAL, "not absolute");
	expect_parse("/a.img;bogus=1", -EINVAL, "unknown key 'bogus'");
	expect_parse("/a.img;create=maybe", -EINVAL, "malformed value 'maybe'");
	expect_parse("/a.img;wce=", -EINVAL, "malformed value");
	expect_parse("/a.img;;wce=1", -EINVAL, "malformed option");
	expect_parse("/a.img;dst", -EINVAL, "malformed option 'dst'");
	expect_parse("/a.img;=x", -EINVAL, "malformed option");
	expect_parse("/a.img;dst=", -EINVAL, "missing destination");
	expect_parse("/a.img;dst=/b;dst=/c", -EINVAL, "given twice");
	expect_parse("/a.img;wce=1;wce=0", -EINVAL, "given twice");
	expect_parse("/a.img;tcmur_cmd_time_out=x", -EINVAL, "expected seconds");
	/* ',' would be cut by the kernel: refused, naming the right separator */
	expect_parse("/a.img,wce=no", -EINVAL, "separate elements with ';'");
	expect_parse("/a,b.img", -EINVAL, "separate elements with ';'");
	expect_parse("/a.img;dst=/x:y.img", -EINVAL, "':'");
	expect_parse("/my disk.img", -EINVAL, "whitespace");
	expect_parse("/a.img;wce=no\tx", -EINVAL, "whitespace");

	/* filesystem checks */
	snprintf(path, sizeof(path), "%s/cfg.img", test_dir);
	fd = open(path, O_CREAT | O_RDWR, 0600);
	CHECK(fd >= 0);
	close(fd);
	CHECK_EQ(check_paths(path, NULL), 0);

	snprintf(s, sizeof(s), "%s/new.img", test_dir);
	CHECK_EQ(check_paths(s, NULL), 0); /* may be created */
	snprintf(s, sizeof(s), "%s/new.img;create=no", test_dir);
	CHECK_EQ(check_paths(s, &reason), -ENOENT);
	CHECK(reason && strstr(reason, "does not exist"));
	free(reason);
	reason = NULL;

	CHECK_EQ(check_paths("/nonexistent-dir-svm/x.img", &reason), -ENOENT);
	CHECK(reason && strstr(reason, "neither does its directory"));
	free(reason);
	reason = NULL;

	CHECK_EQ(check_paths("/dev/null", &reason), -EINVAL);
	CHECK(reason && strstr(reason, "not a regular file or block device"));
	free(reason);
	reason = NULL;
	CHECK_EQ(check_paths(test_dir, NULL), -EINVAL); /* a directory */

	/* dst equal to src: same string, through a symlink, or a not-yet-existing alias */
	snprintf(s, sizeof(s), "%s;dst=%s", path, path);
	CHECK_EQ(check_paths(s, &reason), -EINVAL);
	CHECK(reason && strstr(reason, "is the source"));
	free(reason);
	reason = NULL;
	snprintf(link, sizeof(link), "%s/link.img", test_dir);
	CHECK_EQ(symlink(path, link), 0);
	snprintf(s, sizeof(s), "%s;dst=%s", path, link);
	CHECK_EQ(check_paths(s, NULL), -EINVAL);
	snprintf(s, sizeof(s), "%s/n1.img;dst=%s/./n1.img", test_dir, test_dir);
	CHECK_EQ(check_paths(s, NULL), -EINVAL);
	snprintf(s, sizeof(s), "%s;dst=%s/other.img", path, test_dir);
	CHECK_EQ(check_paths(s, NULL), 0);

	/* live changes of a running LUN's configuration */
	{
		struct svm_cfg cur, next;
		char s2[512];

		snprintf(s, sizeof(s), "%s", path);
		CHECK_EQ(svm_cfg_parse(s, &cur, NULL), 0);
		CHECK_EQ(svm_cfg_parse(s, &next, NULL), 0); /* the same string again */
		CHECK_EQ(svm_cfg_check_live_change(&cur, &next, NULL), 0);
		svm_cfg_free(&next);
		snprintf(s2, sizeof(s2), "%s;dst=%s/other.img;create=no", link, test_dir);
		CHECK_EQ(svm_cfg_parse(s2, &next, NULL), 0); /* same store by another name, a dst */
		CHECK_EQ(svm_cfg_check_live_change(&cur, &next, NULL), 0);
		svm_cfg_free(&next);
		snprintf(s2, sizeof(s2), "%s/other.img", test_dir);
		CHECK_EQ(svm_cfg_parse(s2, &next, NULL), 0);
		CHECK_EQ(svm_cfg_check_live_change(&cur, &next, &reason), -EINVAL);
		CHECK(reason && strstr(reason, "source store cannot change"));
		free(reason);
		reason = NULL;
		svm_cfg_free(&next);
		snprintf(s2, sizeof(s2), "%s;wce=no", path);
		CHECK_EQ(svm_cfg_parse(s2, &next, NULL), 0);
		CHECK_EQ(svm_cfg_check_live_change(&cur, &next, &reason), -EINVAL);
		CHECK(reason && strstr(reason, "emulate_write_cache"));
		free(reason);
		reason = NULL;
		svm_cfg_free(&next);
		snprintf(s2, sizeof(s2), "%s;direct=no", path);
		CHECK_EQ(svm_cfg_parse(s2, &next, NULL), 0);
		CHECK_EQ(svm_cfg_check_live_change(&cur, &next, &reason), -EINVAL);
		CHECK(reason && strstr(reason, "direct= cannot change"));
		free(reason);
		reason = NULL;
		svm_cfg_free(&next);
		snprintf(s2, sizeof(s2), "%s;dst=%s", path, link); /* a destination that is the source */
		CHECK_EQ(svm_cfg_parse(s2, &next, NULL), 0);
		CHECK_EQ(svm_cfg_check_live_change(&cur, &next, &reason), -EINVAL);
		CHECK(reason && strstr(reason, "is the source"));
		free(reason);
		reason = NULL;
		svm_cfg_free(&next);
		svm_cfg_free(&cur);
	}
}
