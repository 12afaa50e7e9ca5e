/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "ctl.h"
#include "cfg.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- requests ---------------------------------------------------------------------- */

static int parse_flag(const char *key, const char *val, bool *out, char **reason)
{
	if (!strcmp(val, "0") || !strcmp(val, "1")) {
		*out = val[0] == '1';
		return 0;
	}
	return svm_reason(reason, -EINVAL, "malformed %s=%s: expected 0 or 1", key, val);
}

static int parse_rate(const char *val, uint32_t *out, char **reason)
{
	size_t n = strspn(val, "0123456789");
	unsigned long long v;

	if (!n || val[n] || n > 10 || (v = strtoull(val, NULL, 10)) > UINT32_MAX)
		return svm_reason(reason, -EINVAL,
				  "malformed rate=%s: expected MiB/s, a whole number (0: no limit)",
				  val);
	*out = (uint32_t)v;
	return 0;
}

/* One key=value word of migrate or abort. seen: bit per key. */
static int parse_word(char *w, struct svm_ctl_req *req, unsigned *seen, char **reason)
{
	static const char *const mkeys[] = {"to", "mover", "rate", "keep_source"};
	static const char *const akeys[] = {"keep_dest"};
	const char *const *keys = req->verb == SVM_CTL_MIGRATE ? mkeys : akeys;
	unsigned nkeys = req->verb == SVM_CTL_MIGRATE ? 4 : 1, k;
	char *val = strchr(w, '=');

	if (!val || val == w)
		return svm_reason(reason, -EINVAL, "malformed word '%s': expected key=value", w);
	*val++ = '\0';
	for (k = 0; k < nkeys && strcmp(w, keys[k]); k++)
		;
	if (k == nkeys)
		return svm_reason(reason, -EINVAL, "unknown key '%s' for %s", w,
				  req->verb == SVM_CTL_MIGRATE ? "migrate" : "abort");
	if (*seen & (1u << k))
		return svm_reason(reason, -EINVAL, "key '%s' given twice", w);
	*seen |= 1u << k;
	if (req->verb == SVM_CTL_ABORT)
		return parse_flag(w, val, &req->keep_dest, reason);
	switch (k) {
	case 0:
		if (!*val || strlen(val) >= sizeof(req->to))
			return svm_reason(reason, -EINVAL, "malformed to=: expected a path");
		strcpy(req->to, val);
		return 0;
	case 1:
		if (svm_mover_parse(val, &req->migrate.mover))
			return svm_reason(reason, -EINVAL,
					  "malformed mover=%s: expected auto, bounce, kernel or "
					  "reflink",
					  val);
		return 0;
	case 2:
		return parse_rate(val, &req->migrate.rate_mibs, reason);
	default:
		return parse_flag(w, val, &req->migrate.keep_source, reason);
	}
}

int svm_ctl_parse(const char *line, struct svm_ctl_req *req, char **reason)
{
	static const struct {
		const char *name;
		enum svm_ctl_verb verb;
		bool lun;
	} verbs[] = {{"list", SVM_CTL_LIST, false},
		     {"status", SVM_CTL_STATUS, true},
		     {"migrate", SVM_CTL_MIGRATE, true},
		     {"abort", SVM_CTL_ABORT, true}};
	size_t len = strlen(line), v;
	char *copy, *w, *next;
	unsigned seen = 0;
	int ret = 0;

	memset(req, 0, sizeof(*req));
	req->migrate.mover = SVM_MOVER_AUTO;
	req->migrate.to = req->to;
	if (len && line[len - 1] == '\n')
		len--;
	copy = strndup(line, len);
	if (!copy)
		return svm_reason(reason, -ENOMEM, "out of memory");
	if (!len || strchr(copy, '\n') || strchr(copy, '\r') || strchr(copy, '\t') ||
	    strstr(copy, "  ") || copy[0] == ' ' || copy[len - 1] == ' ') {
		ret = svm_reason(reason, -EINVAL,
				 "malformed request: one line of words separated by single blanks");
		goto free_copy;
	}
	next = strchr(copy, ' ');
	if (next)
		*next++ = '\0';
	for (v = 0; v < sizeof(verbs) / sizeof(verbs[0]) && strcmp(copy, verbs[v].name); v++)
		;
	if (v == sizeof(verbs) / sizeof(verbs[0])) {
		ret = svm_reason(reason, -EINVAL,
				 "unknown request '%s' (known: list, status, migrate, abort)", copy);
		goto free_copy;
	}
	req->verb = verbs[v].verb;
	if (verbs[v].lun) {
		w = next;
		next = w ? strchr(w, ' ') : NULL;
		if (next)
			*next++ = '\0';
		if (!w || strchr(w, '=')) {
			ret = svm_reason(reason, -EINVAL, "%s needs a LUN (a backstore name) first",
					 verbs[v].name);
			goto free_copy;
		}
		if (strlen(w) >= sizeof(req->lun)) {
			ret = svm_reason(reason, -EINVAL, "LUN name longer than %zu bytes",
					 sizeof(req->lun) - 1);
			goto free_copy;
		}
		strcpy(req->lun, w);
	}
	for (w = next; w && !ret; w = next) {
		next = strchr(w, ' ');
		if (next)
			*next++ = '\0';
		if (req->verb == SVM_CTL_LIST || req->verb == SVM_CTL_STATUS)
			ret = svm_reason(reason, -EINVAL, "%s takes no '%s'", verbs[v].name, w);
		else
			ret = parse_word(w, req, &seen, reason);
	}
	if (!ret && req->verb == SVM_CTL_MIGRATE && !req->to[0])
		ret = svm_reason(reason, -EINVAL, "migrate needs to=<destination path>");
free_copy:
	free(copy);
	return ret;
}

/* ---- JSON --------------------------------------------------------------------------- */

static void put(struct svm_json *j, const char *s, size_t n)
{
	if (j->oom)
		return;
	if (j->len + n + 1 > j->cap) {
		size_t cap = (j->cap ? j->cap : 256) * 2;
		char *b;

		while (cap < j->len + n + 1)
			cap *= 2;
		b = realloc(j->buf, cap);
		if (!b) {
			j->oom = true;
			return;
		}
		j->buf = b;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void putf(struct svm_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct svm_json *j, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	put(j, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A value's separator: ',' after an earlier member or element. */
static void sep(struct svm_json *j)
{
	if (j->comma)
		put(j, ",", 1);
	j->comma = true;
}

static void quoted(struct svm_json *j, const char *s)
{
	put(j, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			put(j, "\\", 1);
			put(j, s, 1);
		} else if (c < 0x20 || c == 0x7f) {
			putf(j, "\\u%04x", c);
		} else {
			put(j, s, 1);
		}
	}
	put(j, "\"", 1);
}

void svm_json_open(struct svm_json *j, char brace)
{
	sep(j);
	put(j, &brace, 1);
	j->comma = false;
}

void svm_json_close(struct svm_json *j, char brace)
{
	put(j, &brace, 1);
	j->comma = true;
}

void svm_json_key(struct svm_json *j, const char *key)
{
	sep(j);
	quoted(j, key);
	put(j, ":", 1);
	j->comma = false;
}

void svm_json_str(struct svm_json *j, const char *key, const char *val)
{
	if (key)
		svm_json_key(j, key);
	sep(j);
	if (val)
		quoted(j, val);
	else
		put(j, "null", 4);
}

void svm_json_u64(struct svm_json *j, const char *key, uint64_t val)
{
	if (key)
		svm_json_key(j, key);
	sep(j);
	putf(j, "%llu", (unsigned long long)val);
}

void svm_json_bool(struct svm_json *j, const char *key, bool val)
{
	if (key)
		svm_json_key(j, key);
	sep(j);
	put(j, val ? "true" : "false", val ? 4 : 5);
}

void svm_json_free(struct svm_json *j)
{
	free(j->buf);
	memset(j, 0, sizeof(*j));
}

void svm_json_error(struct svm_json *j, int err, const char *msg)
{
	free(j->buf);
	memset(j, 0, sizeof(*j));
	svm_json_open(j, '{');
	svm_json_str(j, "error", msg);
	svm_json_u64(j, "errno", (uint64_t)(err < 0 ? -err : err));
	svm_json_close(j, '}');
}

void svm_ctl_status_json(struct svm_json *j, const struct svm_ctl_lun *l)
{
	const struct svm_migrate_status *m = l->mig;
	const char *dest = m && m->destination[0] ? m->destination : l->dst;

	svm_json_open(j, '{');
	svm_json_str(j, "lun", l->lun);
	svm_json_str(j, "phase", svm_migrate_phase_name(m ? m->phase : SVM_MIGRATE_IDLE));
	svm_json_str(j, "source", l->source);
	svm_json_str(j, "destination", dest);
	svm_json_str(j, "dst", l->dst);
	svm_json_str(j, "mirror", m && m->mirror[0] ? m->mirror : NULL);
	svm_json_u64(j, "bytes_total", m ? m->bytes_total : l->size);
	svm_json_u64(j, "bytes_copied", m ? m->bytes_copied : 0);
	svm_json_u64(j, "bytes_skipped", m ? m->bytes_skipped : 0);
	svm_json_u64(j, "bytes_overwritten", m ? m->bytes_overwritten : 0);
	svm_json_str(j, "mover", svm_mover_name(m ? m->mover : l->mover));
	svm_json_key(j, "movers");
	svm_json_open(j, '{');
	for (int k = SVM_MOVER_BOUNCE; k < SVM_MOVER_KINDS; k++)
		svm_json_u64(j, svm_mover_name((enum svm_mover_kind)k), m ? m->moved[k] : 0);
	svm_json_close(j, '}');
	svm_json_u64(j, "rate", m ? m->rate_mibs : 0);
	svm_json_u64(j, "mirrored_writes", m ? m->mirrored_writes : 0);
	svm_json_u64(j, "waited_writes", m ? m->waited_writes : 0);
	svm_json_bool(j, "resumed", m && m->resumed);
	svm_json_u64(j, "started", m ? m->started : 0);
	svm_json_u64(j, "elapsed_ms", m ? m->elapsed_ms : 0);
	svm_json_u64(j, "max_pause_ms", m ? m->max_pause_ms : 0);
	svm_json_str(j, "error", m && m->error[0] ? m->error : NULL);
	svm_json_close(j, '}');
}

/* ---- the socket ------------------------------------------------------------------------ */

static void answer(int fd, struct svm_json *j)
{
	const char *p;
	size_t left;

	if (j->oom)
		svm_json_error(j, -ENOMEM, "out of memory");
	put(j, "\n", 1);
	p = j->buf;
	left = j->len;
	while (p && left) {
		ssize_t n = send(fd, p, left, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		p += n;
		left -= (size_t)n;
	}
}

/* Read one line into buf. Its length ('\n' dropped), or -errno (-EMSGSIZE: too long). */
static ssize_t read_line(int fd, char *buf, size_t len)
{
	size_t have = 0;

	while (have < len - 1) {
		ssize_t n = recv(fd, buf + have, len - 1 - have, 0);
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		if (n == 0)
			return -ENODATA;
		have += (size_t)n;
		buf[have] = '\0';
		nl = memchr(buf, '\n', have);
		if (nl) {
			*nl = '\0';
			return nl - buf;
		}
	}
	return -EMSGSIZE;
}

void svm_ctl_serve_fd(int fd, svm_ctl_serve_fn serve)
{
	struct timeval tv = {.tv_sec = SVM_CTL_IO_TIMEOUT_S};
	struct svm_json j = {0};
	struct svm_ctl_req req;
	socklen_t cl = sizeof(struct ucred);
	struct ucred cred;
	char *line = malloc(SVM_CTL_LINE_MAX), *reason = NULL;
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (!line) {
		svm_json_error(&j, -ENOMEM, "out of memory");
		goto reply;
	}
	/* the line is read first, whoever sent it: closing on unread data would reset the answer */
	n = read_line(fd, line, SVM_CTL_LINE_MAX);
	if (n == -ENODATA || n == -ETIMEDOUT || n == -ECONNRESET)
		goto close_fd; /* nobody to answer */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) || cred.uid != 0) {
		svm_json_error(&j, -EACCES, "permission denied: only root may use the control "
					    "socket");
		goto reply;
	}
	if (n < 0) {
		svm_json_error(&j, (int)n,
			       n == -EMSGSIZE ? "request line too long" : "cannot read the request");
		goto reply;
	}
	if (svm_ctl_parse(line, &req, &reason)) {
		svm_json_error(&j, -EINVAL, reason ? reason : "malformed request");
		goto reply;
	}
	serve(&req, &j);
reply:
	answer(fd, &j);
	/* what the client sent beyond its line: read it, or close would reset the answer */
	shutdown(fd, SHUT_WR);
	while (line && recv(fd, line, SVM_CTL_LINE_MAX, 0) > 0)
		;
close_fd:
	close(fd);
	svm_json_free(&j);
	free(reason);
	free(line);
}

struct server {
	int fd;
	svm_ctl_serve_fn serve;
};

static void *serve_loop(void *arg)
{
	struct server *s = arg;

	for (;;) {
		int c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0) {
			if (errno != EINTR && errno != ECONNABORTED)
				usleep(100000); /* EMFILE and the like: do not spin */
			continue;
		}
		svm_ctl_serve_fd(c, s->serve);
	}
	return NULL;
}

int svm_ctl_start(const char *run_dir, svm_ctl_serve_fn serve, char **reason)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct server *s = NULL;
	struct stat sb;
	pthread_t t;
	int fd, ret;

	if (mkdir(run_dir, 0700) && errno != EEXIST)
		return svm_reason(reason, -errno, "cannot create %s: %s", run_dir, strerror(errno));
	if (stat(run_dir, &sb) || !S_ISDIR(sb.st_mode))
		return svm_reason(reason, -ENOTDIR, "%s is not a directory", run_dir);
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", run_dir, SVM_CTL_SOCKET) >=
	    sizeof(sa.sun_path))
		return svm_reason(reason, -ENAMETOOLONG, "socket path under %s is too long",
				  run_dir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return svm_reason(reason, -errno, "socket: %s", strerror(errno));
	/* a socket left by an earlier run of the runner (one runner per host) */
	if (!lstat(sa.sun_path, &sb) && S_ISSOCK(sb.st_mode))
		unlink(sa.sun_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = svm_reason(reason, -errno, "cannot bind %s: %s", sa.sun_path,
				 strerror(errno));
		goto close_fd;
	}
	if (chmod(sa.sun_path, 0600) || listen(fd, 16)) {
		ret = svm_reason(reason, -errno, "cannot listen on %s: %s", sa.sun_path,
				 strerror(errno));
		goto unlink_sock;
	}
	s = malloc(sizeof(*s));
	if (!s) {
		ret = svm_reason(reason, -ENOMEM, "out of memory");
		goto unlink_sock;
	}
	s->fd = fd;
	s->serve = serve;
	ret = pthread_create(&t, NULL, serve_loop, s);
	if (ret) {
		ret = svm_reason(reason, -ret, "cannot start the control thread");
		goto free_server;
	}
	pthread_detach(t);
	return 0;

free_server:
	free(s);
unlink_sock:
	unlink(sa.sun_path);
close_fd:
	close(fd);
	return ret;
}
