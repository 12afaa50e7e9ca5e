/* SPDX-License-Identifier: Apache-2.0 */
/* cli/ctl.c against a one-connection server on a thread: answers, error objects, failures. */
#define _GNU_SOURCE
#include "test.h"
#include "../../cli/ctl.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* One request to a server that answers answer; returns the result, *fail filled in. */
static struct cli_json *exchange(const char *answer, const char *request, struct cli_ctl_fail *fail,
				 char *got, size_t got_len)
{
	struct test_server s;
	struct cli_json *v;

	test_server_start(&s, answer, 0);
	v = cli_ctl_request(s.path, request, 2000, fail);
	test_server_stop(&s);
	if (got)
		snprintf(got, got_len, "%s", s.request);
	return v;
}

static void answers(void)
{
	struct cli_ctl_fail fail;
	struct cli_json *v;
	char got[256];

	v = exchange("{\"lun\":\"lun0\",\"phase\":\"idle\",\"error\":null}\n", "status lun0", &fail,
		     got, sizeof(got));
	CHECK(v != NULL);
	CHECK_EQ(fail.kind, CLI_CTL_OK);
	CHECK(fail.msg == NULL);
	CHECK_STR(got, "status lun0");
	CHECK_STR(cli_json_get_str(v, "phase"), "idle");
	cli_json_free(v);

	/* a failed migration's STATUS carries "error" but is an answer, not a refusal */
	v = exchange("{\"lun\":\"lun0\",\"phase\":\"failed\",\"error\":\"ENOSPC on /b.img\"}\n",
		     "status lun0", &fail, NULL, 0);
	CHECK(v != NULL);
	CHECK_STR(cli_json_get_str(v, "error"), "ENOSPC on /b.img");
	cli_json_free(v);

	/* no closing newline: the answer up to the end still counts */
	v = exchange("{\"luns\":[]}", "list", &fail, got, sizeof(got));
	CHECK(v != NULL);
	CHECK_STR(got, "list");
	cli_json_free(v);

	/* anything after the newline is ignored */
	v = exchange("{\"luns\":[]}\ngarbage", "list", &fail, NULL, 0);
	CHECK(v != NULL);
	cli_json_free(v);
}

static void refusals(void)
{
	struct cli_ctl_fail fail;
	struct cli_json *v;

	v = exchange("{\"error\":\"no svm LUN named 'lun9'\",\"errno\":19}\n", "status lun9", &fail,
		     NULL, 0);
	CHECK(v == NULL);
	CHECK_EQ(fail.kind, CLI_CTL_REFUSED);
	CHECK_EQ(fail.err, 19);
	CHECK_STR(fail.msg, "no svm LUN named 'lun9'");
	cli_ctl_fail_clear(&fail);
	CHECK(fail.msg == NULL && fail.kind == CLI_CTL_OK);

	v = exchange("{\"error\":\"permission denied\",\"errno\":13}\n", "list", &fail, NULL, 0);
	CHECK(v == NULL && fail.kind == CLI_CTL_REFUSED && fail.err == EACCES);
	CHECK_HAS(fail.msg,
		  "permission denied (only root may use the control socket: are you root?");
	cli_ctl_fail_clear(&fail);

	/* an errno without a sentence, and an error without an errno */
	v = exchange("{\"errno\":16}\n", "list", &fail, NULL, 0);
	CHECK(v == NULL && fail.kind == CLI_CTL_REFUSED && fail.err == EBUSY);
	CHECK_STR(fail.msg, g_strerror(EBUSY));
	cli_ctl_fail_clear(&fail);
	v = exchange("{\"error\":\"unknown request 'frob'\"}\n", "frob", &fail, NULL, 0);
	CHECK(v == NULL && fail.kind == CLI_CTL_REFUSED && fail.err == 0);
	CHECK_STR(fail.msg, "unknown request 'frob'");
	cli_ctl_fail_clear(&fail);
}

static void is_error(void)
{
	static const struct {
		const char *text;
		bool error;
	} cases[] = {
	    {"{\"error\":\"x\",\"errno\":5}", true},
	    {"{\"error\":\"x\"}", true},
	    {"{\"errno\":5}", true},
	    {"{\"error\":null}", false},
	    {"{\"lun\":\"a\",\"phase\":\"failed\",\"error\":\"x\"}", false},
	    {"{\"luns\":[],\"error\":\"x\"}", false},
	    {"{\"lun\":\"a\",\"phase\":\"idle\"}", false},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *err = NULL;
		struct cli_json *v = cli_json_parse(cases[i].text, strlen(cases[i].text), &err);

		CHECK(v != NULL);
		CHECK_EQ(cli_ctl_is_error(v), cases[i].error);
		cli_json_free(v);
		g_free(err);
	}
	CHECK(!cli_ctl_is_error(NULL));
}

static void unreachable(void)
{
	struct cli_ctl_fail fail;
	struct test_server s;
	struct cli_json *v;
	char *path, *file, *stale;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	path = g_build_filename(test_dir, "nosuch.sock", NULL);
	v = cli_ctl_request(path, "list", 1000, &fail);
	CHECK(v == NULL && fail.kind == CLI_CTL_UNREACHABLE && fail.err == ENOENT);
	CHECK_HAS(fail.msg, "no control socket at");
	CHECK_HAS(fail.msg, "is tcmu-runner running");
	cli_ctl_fail_clear(&fail);
	g_free(path);

	/* a socket left behind by a process that is gone */
	stale = g_build_filename(test_dir, "stale.sock", NULL);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", stale);
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	close(fd);
	v = cli_ctl_request(stale, "list", 1000, &fail);
	CHECK(v == NULL && fail.kind == CLI_CTL_UNREACHABLE && fail.err == ECONNREFUSED);
	CHECK_HAS(fail.msg, "connection refused");
	CHECK_HAS(fail.msg, "systemctl start tcmu-runner");
	cli_ctl_fail_clear(&fail);
	g_free(stale);

	file = test_file("not-a-socket", "x", 1);
	v = cli_ctl_request(file, "list", 1000, &fail);
	CHECK(v == NULL && fail.err == ENOTSOCK);
	CHECK_HAS(fail.msg, "is not a socket");
	cli_ctl_fail_clear(&fail);
	g_free(file);

	path = g_strnfill(200, 'x');
	v = cli_ctl_request(path, "list", 1000, &fail);
	CHECK(v == NULL && fail.err == ENAMETOOLONG);
	cli_ctl_fail_clear(&fail);
	g_free(path);

	/* closed without a word */
	v = exchange(NULL, "list", &fail, NULL, 0);
	CHECK(v == NULL && fail.kind == CLI_CTL_UNREACHABLE);
	CHECK_HAS(fail.msg, "closed the connection without answering");
	cli_ctl_fail_clear(&fail);

	/* not JSON, not an object */
	v = exchange("Hello\n", "list", &fail, NULL, 0);
	CHECK(v == NULL && fail.kind == CLI_CTL_UNREACHABLE && fail.err == EPROTO);
	CHECK_HAS(fail.msg, "malformed answer");
	cli_ctl_fail_clear(&fail);
	v = exchange("[1]\n", "list", &fail, NULL, 0);
	CHECK(v == NULL && fail.err == EPROTO);
	CHECK_HAS(fail.msg, "not an object");
	cli_ctl_fail_clear(&fail);

	/* an answer that comes too late */
	test_server_start(&s, "{\"luns\":[]}\n", 1500);
	v = cli_ctl_request(s.path, "list", 300, &fail);
	CHECK(v == NULL && fail.err == ETIMEDOUT);
	CHECK_HAS(fail.msg, "did not answer within 1 s");
	cli_ctl_fail_clear(&fail);
	test_server_stop(&s);
}

static void default_socket(void)
{
	char *old = g_strdup(g_getenv("SVM_RUN_DIR")), *p;

	g_unsetenv("SVM_RUN_DIR");
	p = cli_ctl_default_socket();
	CHECK_STR(p, "/run/tcmu-svm/control.sock");
	g_free(p);
	g_setenv("SVM_RUN_DIR", "", TRUE);
	p = cli_ctl_default_socket();
	CHECK_STR(p, "/run/tcmu-svm/control.sock");
	g_free(p);
	g_setenv("SVM_RUN_DIR", "/tmp/run", TRUE);
	p = cli_ctl_default_socket();
	CHECK_STR(p, "/tmp/run/control.sock");
	g_free(p);
	if (old)
		g_setenv("SVM_RUN_DIR", old, TRUE);
	else
		g_unsetenv("SVM_RUN_DIR");
	g_free(old);
}

void ctl_test(void)
{
	answers();
	refusals();
	is_error();
	unreachable();
	default_socket();
}
