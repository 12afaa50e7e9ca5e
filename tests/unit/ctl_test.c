/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control channel's handler side: request parsing, the JSON it
 * writes, and the socket (root only, one line each way) with a fake serve
 * function. The plugin's serve function is tested in plugin_test.c.
 */
#define _GNU_SOURCE
#include "test.h"
#include "../../handler/ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static void parse_ok(const char *line, struct svm_ctl_req *req)
{
	char *reason = NULL;

	CHECK_EQ(svm_ctl_parse(line, req, &reason), 0);
	if (reason)
		fprintf(stderr, "  %s: %s\n", line, reason);
	free(reason);
}

static void parse_bad(const char *line, const char *want)
{
	struct svm_ctl_req req;
	char *reason = NULL;

	CHECK_EQ(svm_ctl_parse(line, &req, &reason), -EINVAL);
	CHECK(reason && strstr(reason, want));
	if (!reason || !strstr(reason, want))
		fprintf(stderr, "  '%s': reason '%s', wanted '%s'\n", line, reason ? reason : "",
			want);
	free(reason);
}

static void parsing(void)
{
	struct svm_ctl_req r;

	parse_ok("list\n", &r);
	CHECK(r.verb == SVM_CTL_LIST);
	parse_ok("status lun0", &r);
	CHECK(r.verb == SVM_CTL_STATUS && !strcmp(r.lun, "lun0"));
	parse_ok("migrate lun0 to=/d/x.img\n", &r);
	CHECK(r.verb == SVM_CTL_MIGRATE && !strcmp(r.lun, "lun0") && r.migrate.to == r.to &&
	      !strcmp(r.to, "/d/x.img") && r.migrate.mover == SVM_MOVER_AUTO &&
	      r.migrate.rate_mibs == 0 && !r.migrate.keep_source);
	parse_ok("migrate lun0 to=/d/x.img mover=reflink rate=250 keep_source=1", &r);
	CHECK(r.migrate.mover == SVM_MOVER_REFLINK && r.migrate.rate_mibs == 250 &&
	      r.migrate.keep_source);
	parse_ok("migrate lun0 keep_source=0 rate=4294967295 to=/x", &r);
	CHECK(r.migrate.rate_mibs == UINT32_MAX && !r.migrate.keep_source);
	parse_ok("abort lun0", &r);
	CHECK(r.verb == SVM_CTL_ABORT && !r.keep_dest);
	parse_ok("abort lun0 keep_dest=1", &r);
	CHECK(r.keep_dest);

	parse_bad("", "malformed request");
	parse_bad("\n", "malformed request");
	parse_bad("list  ", "single blanks");
	parse_bad("status  lun0", "single blanks");
	parse_bad(" list", "single blanks");
	parse_bad("list\tx", "single blanks");
	parse_bad("lsit", "unknown request 'lsit'");
	parse_bad("status", "needs a LUN");
	parse_bad("migrate to=/x", "needs a LUN");
	parse_bad("list lun0", "takes no 'lun0'");
	parse_bad("status lun0 lun1", "takes no 'lun1'");
	parse_bad("migrate lun0", "needs to=");
	parse_bad("migrate lun0 mover=kernel", "needs to=");
	parse_bad("migrate lun0 to=", "malformed to=");
	parse_bad("migrate lun0 to=/x mover=fast", "expected auto, bounce");
	parse_bad("migrate lun0 to=/x rate=-1", "malformed rate=-1");
	parse_bad("migrate lun0 to=/x rate=4294967296", "malformed rate");
	parse_bad("migrate lun0 to=/x rate=1.5", "malformed rate");
	parse_bad("migrate lun0 to=/x keep_source=yes", "expected 0 or 1");
	parse_bad("migrate lun0 to=/x to=/y", "given twice");
	parse_bad("migrate lun0 to=/x keep_dest=1", "unknown key 'keep_dest' for migrate");
	parse_bad("abort lun0 keep_source=1", "unknown key 'keep_source' for abort");
	parse_bad("abort lun0 keep_dest", "expected key=value");
	parse_bad("abort lun0 =1", "expected key=value");
	parse_bad("list\nstatus lun0", "malformed request");
	{
		char lng[400] = "status ";

		memset(lng + 7, 'l', 300);
		parse_bad(lng, "longer than");
	}
}

static void json(void)
{
	struct svm_json j = {0};
	struct svm_migrate_status st = {0};
	struct svm_ctl_lun l = {.lun = "lun0", .source = "/s/a.img", .size = 1 << 20};

	svm_json_open(&j, '{');
	svm_json_str(&j, "s", "q\"b\\c\n\x01");
	svm_json_u64(&j, "n", UINT64_MAX);
	svm_json_bool(&j, "t", true);
	svm_json_str(&j, "z", NULL);
	svm_json_key(&j, "a");
	svm_json_open(&j, '[');
	svm_json_u64(&j, NULL, 1);
	svm_json_u64(&j, NULL, 2);
	svm_json_open(&j, '{');
	svm_json_close(&j, '}');
	svm_json_close(&j, ']');
	svm_json_close(&j, '}');
	CHECK(!j.oom && !strcmp(j.buf, "{\"s\":\"q\\\"b\\\\c\\u000a\\u0001\",\"n\":18446744073709551615,"
				       "\"t\":true,\"z\":null,\"a\":[1,2,{}]}"));
	svm_json_error(&j, -ENOENT, "no \"x\"");
	CHECK(!strcmp(j.buf, "{\"error\":\"no \\\"x\\\"\",\"errno\":2}"));
	svm_json_free(&j);

	/* an idle LUN: every field of docs/control.md, nulls where nothing is known */
	svm_ctl_status_json(&j, &l);
	CHECK(j.buf && !strcmp(j.buf,
			       "{\"lun\":\"lun0\",\"phase\":\"idle\",\"source\":\"/s/a.img\","
			       "\"destination\":null,\"dst\":null,\"mirror\":null,"
			       "\"bytes_total\":1048576,\"bytes_copied\":0,\"bytes_skipped\":0,\"bytes_overwritten\":0,"
			       "\"mover\":\"auto\",\"movers\":{\"bounce\":0,\"kernel\":0,"
			       "\"reflink\":0},\"rate\":0,\"mirrored_writes\":0,"
			       "\"waited_writes\":0,\"resumed\":false,\"started\":0,"
			       "\"elapsed_ms\":0,\"max_pause_ms\":0,\"error\":null}"));
	svm_json_free(&j);
	/* idle with dst=: the destination a migrate would default to */
	l.dst = "/d/b.img";
	svm_ctl_status_json(&j, &l);
	CHECK(j.buf && strstr(j.buf, "\"destination\":\"/d/b.img\",\"dst\":\"/d/b.img\""));
	svm_json_free(&j);
	/* a migration */
	st.phase = SVM_MIGRATE_COPYING;
	strcpy(st.source, "/s/a.img");
	strcpy(st.destination, "/e/c.img");
	strcpy(st.mirror, "1a2b-3c4d-svmmirror");
	st.bytes_total = 100;
	st.bytes_copied = 40;
	st.moved[SVM_MOVER_KERNEL] = 40;
	st.mover = SVM_MOVER_KERNEL;
	st.rate_mibs = 7;
	st.resumed = true;
	strcpy(st.error, "");
	l.mig = &st;
	svm_ctl_status_json(&j, &l);
	CHECK(j.buf && strstr(j.buf, "\"phase\":\"copying\"") &&
	      strstr(j.buf, "\"destination\":\"/e/c.img\",\"dst\":\"/d/b.img\","
			    "\"mirror\":\"1a2b-3c4d-svmmirror\",\"bytes_total\":100,"
			    "\"bytes_copied\":40") &&
	      strstr(j.buf, "\"mover\":\"kernel\",\"movers\":{\"bounce\":0,\"kernel\":40,") &&
	      strstr(j.buf, "\"rate\":7,") && strstr(j.buf, "\"resumed\":true") &&
	      strstr(j.buf, "\"error\":null}"));
	svm_json_free(&j);
	st.phase = SVM_MIGRATE_FAILED;
	strcpy(st.error, "the copy: Input/output error");
	st.mirror[0] = '\0';
	svm_ctl_status_json(&j, &l);
	CHECK(j.buf && strstr(j.buf, "\"phase\":\"failed\"") &&
	      strstr(j.buf, "\"mirror\":null") &&
	      strstr(j.buf, "\"error\":\"the copy: Input/output error\"}"));
	svm_json_free(&j);
}

/* ---- the socket ---------------------------------------------------------------------- */

static char served[300];

static void fake_serve(const struct svm_ctl_req *req, struct svm_json *out)
{
	snprintf(served, sizeof(served), "%d %s", (int)req->verb, req->lun);
	svm_json_open(out, '{');
	svm_json_str(out, "lun", req->lun);
	svm_json_close(out, '}');
}

static const char *sock_path(void)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/ctlrun/%s", test_dir, SVM_CTL_SOCKET);
	return p;
}

/* Send raw bytes (shut down for writing after), read the whole answer into buf. */
static int exchange(const char *send_this, size_t n, char *buf, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t have = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ssize_t r;

	if (strlen(sock_path()) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, sock_path(), strlen(sock_path()) + 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		if (fd >= 0)
			close(fd);
		return err;
	}
	if (n && send(fd, send_this, n, MSG_NOSIGNAL) != (ssize_t)n) {
		close(fd);
		return -EIO;
	}
	while (have < len - 1 && (r = recv(fd, buf + have, len - 1 - have, 0)) > 0)
		have += (size_t)r;
	buf[have] = '\0';
	close(fd);
	return 0;
}

static int ask(const char *line, char *buf, size_t len)
{
	return exchange(line, strlen(line), buf, len);
}

static void socket_tests(void)
{
	char dir[128], buf[16384], *reason = NULL;
	struct stat sb;

	snprintf(dir, sizeof(dir), "%s/ctlrun", test_dir);
	CHECK_EQ(svm_ctl_start(dir, fake_serve, &reason), 0);
	free(reason);
	reason = NULL;
	CHECK(!stat(dir, &sb) && (sb.st_mode & 0777) == 0700);
	CHECK(!stat(sock_path(), &sb) && S_ISSOCK(sb.st_mode) && (sb.st_mode & 0777) == 0600);

	CHECK_EQ(ask("status lun7\n", buf, sizeof(buf)), 0);
	CHECK(!strcmp(buf, "{\"lun\":\"lun7\"}\n") && !strcmp(served, "1 lun7"));
	/* the last line needs its '\n' only if the client keeps the connection open */
	served[0] = '\0';
	CHECK_EQ(ask("frobnicate\n", buf, sizeof(buf)), 0);
	CHECK(strstr(buf, "\"error\":\"unknown request 'frobnicate'") &&
	      strstr(buf, "\"errno\":22}\n") && !served[0]);
	/* a line too long is refused, not cut */
	{
		char *lng = malloc(SVM_CTL_LINE_MAX + 10);

		memset(lng, 'x', SVM_CTL_LINE_MAX + 9);
		lng[SVM_CTL_LINE_MAX + 9] = '\n';
		CHECK_EQ(exchange(lng, SVM_CTL_LINE_MAX + 10, buf, sizeof(buf)), 0);
		CHECK(strstr(buf, "request line too long") && strstr(buf, "\"errno\":90"));
		free(lng);
	}
	/* a client that says nothing is dropped after the timeout; the server goes on */
	CHECK_EQ(exchange(NULL, 0, buf, sizeof(buf)), 0);
	CHECK(buf[0] == '\0');
	CHECK_EQ(ask("list\n", buf, sizeof(buf)), 0);
	CHECK(!strcmp(served, "0 "));

	/* another uid gets an error, never served (the socket opened up to let it connect) */
	CHECK_EQ(chmod(test_dir, 0711), 0);
	CHECK_EQ(chmod(dir, 0755), 0);
	CHECK_EQ(chmod(sock_path(), 0666), 0);
	served[0] = '\0';
	pid_t pid = fork();

	if (pid == 0) {
		char b[512];

		if (setgid(65534) || setuid(65534))
			_exit(3);
		int err = ask("list\n", b, sizeof(b));

		if (err) {
			fprintf(stderr, "  non-root client: %s\n", strerror(-err));
			_exit(4);
		}
		_exit(strstr(b, "\"errno\":13}") && strstr(b, "only root") ? 0 : 5);
	}
	int status = -1;

	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fprintf(stderr, "  non-root client: status %#x\n", status);
	CHECK(!served[0]);
	chmod(test_dir, 0700);
}

void ctl_test(void)
{
	parsing();
	json();
	socket_tests();
}
