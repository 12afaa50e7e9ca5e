/* SPDX-License-Identifier: Apache-2.0 */
/* One request, one answer over the handler's UNIX socket (see ctl.h). */
#define _GNU_SOURCE
#include "ctl.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define ROOT_HINT "only root may use the control socket: are you root? (try sudo)"

char *cli_ctl_default_socket(void)
{
	const char *dir = g_getenv("SVM_RUN_DIR");

	if (dir && *dir)
		return g_build_filename(dir, "control.sock", NULL);
	return g_strdup(CLI_CTL_SOCKET_DEFAULT);
}

void cli_ctl_fail_clear(struct cli_ctl_fail *fail)
{
	g_free(fail->msg);
	fail->msg = NULL;
	fail->kind = CLI_CTL_OK;
	fail->err = 0;
}

static void set_fail(struct cli_ctl_fail *fail, enum cli_ctl_fail_kind kind, int err, char *msg)
{
	fail->kind = kind;
	fail->err = err;
	fail->msg = msg;
}

/* Why connect(2) to path failed with err, and what to do about it. */
static char *connect_msg(const char *path, int err, int timeout_ms)
{
	switch (err) {
	case ENOENT:
		return g_strdup_printf("no control socket at %s: is tcmu-runner running, with "
				       "handler_svm.so installed? (systemctl status tcmu-runner; "
				       "svmctl doctor; --socket names another socket)",
				       path);
	case EACCES:
	case EPERM:
		return g_strdup_printf("permission denied on %s: " ROOT_HINT, path);
	case ECONNREFUSED:
		return g_strdup_printf(
		    "nothing answers on %s (connection refused): tcmu-runner "
		    "is not running, or stopped and left its socket behind; "
		    "start it (systemctl start tcmu-runner) and see svmctl doctor",
		    path);
	case EAGAIN:
	case ETIMEDOUT:
	case EINPROGRESS:
		return g_strdup_printf(
		    "the handler did not accept a connection on %s within %d s: "
		    "is tcmu-runner stuck? (svmctl doctor; --timeout waits longer)",
		    path, (timeout_ms + 999) / 1000);
	case ENOTSOCK:
		return g_strdup_printf("%s is not a socket: is --socket or SVM_RUN_DIR right?",
				       path);
	default:
		return g_strdup_printf("cannot connect to %s: %s", path, g_strerror(err));
	}
}

static int connect_to(const char *path, int timeout_ms, struct cli_ctl_fail *fail)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000};
	struct stat st;
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		set_fail(fail, CLI_CTL_UNREACHABLE, ENAMETOOLONG,
			 g_strdup_printf("socket path %s is longer than a UNIX socket address "
					 "allows (%zu bytes)",
					 path, sizeof(sa.sun_path) - 1));
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = errno;
		set_fail(fail, CLI_CTL_UNREACHABLE, err,
			 g_strdup_printf("cannot make a socket: %s", g_strerror(err)));
		return -1;
	}
	/* A UNIX stream connect waits on a full backlog for at most SO_SNDTIMEO. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (errno == EINTR)
			continue;
		err = errno;
		close(fd);
		/* connect(2) to something that is not a socket says ECONNREFUSED too */
		if (err == ECONNREFUSED && !stat(path, &st) && !S_ISSOCK(st.st_mode))
			err = ENOTSOCK;
		set_fail(fail, CLI_CTL_UNREACHABLE, err, connect_msg(path, err, timeout_ms));
		return -1;
	}
	return fd;
}

static bool send_line(int fd, const char *path, const char *request, struct cli_ctl_fail *fail)
{
	char *line = g_strconcat(request, "\n", NULL);
	size_t len = strlen(line), off = 0;
	ssize_t n;
	int err;

	while (off < len) {
		n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			set_fail(fail, CLI_CTL_UNREACHABLE, err,
				 g_strdup_printf("cannot send the request to %s: %s", path,
						 g_strerror(err)));
			g_free(line);
			return false;
		}
		off += (size_t)n;
	}
	g_free(line);
	return true;
}

/* Read up to the first newline, or to the end, within timeout_ms. Returns the bytes or NULL. */
static GString *read_answer(int fd, const char *path, int timeout_ms, struct cli_ctl_fail *fail)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	GString *buf = g_string_new(NULL);
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char chunk[4096];
	ssize_t n;
	int left, err;

	while (!memchr(buf->str, '\n', buf->len)) {
		left = (int)((deadline - g_get_monotonic_time() + 999) / 1000);
		if (left <= 0) {
			set_fail(fail, CLI_CTL_UNREACHABLE, ETIMEDOUT,
				 g_strdup_printf("the handler on %s did not answer within %d s: is "
						 "tcmu-runner stuck? (--timeout waits longer)",
						 path, (timeout_ms + 999) / 1000));
			goto free_buf;
		}
		if (poll(&pfd, 1, left) < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			set_fail(
			    fail, CLI_CTL_UNREACHABLE, err,
			    g_strdup_printf("cannot wait for the answer: %s", g_strerror(err)));
			goto free_buf;
		}
		if (!pfd.revents)
			continue;
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			set_fail(fail, CLI_CTL_UNREACHABLE, err,
				 g_strdup_printf("cannot read the handler's answer on %s: %s", path,
						 g_strerror(err)));
			goto free_buf;
		}
		if (n == 0)
			break;
		g_string_append_len(buf, chunk, n);
		if (buf->len > CLI_CTL_MAX_ANSWER) {
			set_fail(
			    fail, CLI_CTL_UNREACHABLE, EMSGSIZE,
			    g_strdup_printf("the handler's answer on %s is longer than %u bytes",
					    path, CLI_CTL_MAX_ANSWER));
			goto free_buf;
		}
	}
	if (buf->len == 0) {
		set_fail(fail, CLI_CTL_UNREACHABLE, ECONNRESET,
			 g_strdup_printf(
			     "the handler on %s closed the connection without answering", path));
		goto free_buf;
	}
	return buf;

free_buf:
	g_string_free(buf, TRUE);
	return NULL;
}

bool cli_ctl_is_error(const struct cli_json *answer)
{
	const struct cli_json *e = cli_json_get(answer, "error");

	if (!answer || answer->type != CLI_JSON_OBJECT)
		return false;
	if (cli_json_get(answer, "errno"))
		return true;
	return e && e->type != CLI_JSON_NULL && !cli_json_get(answer, "phase") &&
	       !cli_json_get(answer, "luns");
}

/* Turn an error answer into *fail. */
static void refused(const struct cli_json *answer, struct cli_ctl_fail *fail)
{
	const struct cli_json *num = cli_json_get(answer, "errno");
	const char *why = cli_json_get_str(answer, "error");
	int err = 0;

	if (num && num->type == CLI_JSON_NUMBER && fabs(num->number) < 4096)
		err = abs((int)num->number);
	if (!why || !*why)
		why = err ? g_strerror(err) : "the handler refused the request without a reason";
	set_fail(fail, CLI_CTL_REFUSED, err,
		 err == EACCES || err == EPERM ? g_strdup_printf("%s (" ROOT_HINT ")", why)
					       : g_strdup(why));
}

struct cli_json *cli_ctl_request(const char *socket_path, const char *request, int timeout_ms,
				 struct cli_ctl_fail *fail)
{
	struct cli_json *answer = NULL;
	GString *text = NULL;
	char *err = NULL, *nl;
	int fd;

	fail->kind = CLI_CTL_OK;
	fail->err = 0;
	fail->msg = NULL;
	fd = connect_to(socket_path, timeout_ms, fail);
	if (fd < 0)
		return NULL;
	if (!send_line(fd, socket_path, request, fail))
		goto close_fd;
	text = read_answer(fd, socket_path, timeout_ms, fail);
	if (!text)
		goto close_fd;
	nl = memchr(text->str, '\n', text->len);
	answer = cli_json_parse(text->str, nl ? (size_t)(nl - text->str) : text->len, &err);
	if (!answer) {
		set_fail(fail, CLI_CTL_UNREACHABLE, EPROTO,
			 g_strdup_printf("malformed answer from the handler on %s (%s): %.200s",
					 socket_path, err, text->str));
		g_free(err);
	} else if (answer->type != CLI_JSON_OBJECT) {
		set_fail(fail, CLI_CTL_UNREACHABLE, EPROTO,
			 g_strdup_printf("malformed answer from the handler on %s (not an object): "
					 "%.200s",
					 socket_path, text->str));
		cli_json_free(answer);
		answer = NULL;
	} else if (cli_ctl_is_error(answer)) {
		refused(answer, fail);
		cli_json_free(answer);
		answer = NULL;
	}
	g_string_free(text, TRUE);
close_fd:
	close(fd);
	return answer;
}
