/* SPDX-License-Identifier: Apache-2.0 */
/*
 * svmctl: the admin's command for user:svm LUNs — list them, show a
 * migration's status, start one (and wait for it with a progress bar),
 * abort one, check the stack. It talks to the handler inside tcmu-runner
 * over the control socket (docs/control.md); docs/svmctl.8 is its manual.
 */
#define _GNU_SOURCE
#include "ctl.h"
#include "dest.h"
#include "doctor.h"
#include "fmt.h"
#include "json.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#ifndef SVMCTL_VERSION
#define SVMCTL_VERSION "0.3"
#endif

/* Exit statuses (docs/svmctl.8, EXIT STATUS). */
enum {
	EXIT_HANDLER = 1,     /* the handler refused or reported an error; doctor: a check failed */
	EXIT_USAGE = 2,	      /* bad command line, or svmctl refused the request itself */
	EXIT_UNREACHABLE = 3, /* no answer from the handler, or a malformed one */
	EXIT_FAILED = 4,      /* migrate --wait: the migration failed */
	EXIT_ABORTED = 5,     /* migrate --wait: the migration was aborted */
	EXIT_INTERRUPTED = 130,
};

#define TIMEOUT_DEFAULT	 60	    /* seconds, --timeout */
#define INTERVAL_DEFAULT 1.0	    /* seconds, --interval */
#define RATE_MAX	 (1u << 30) /* MiB/s: 1 PiB/s, surely a typo beyond */

/* Every STATUS field that status --json always prints (null when the handler left it out). */
static const char *const json_fields[] = {
    "lun",  "phase",	       "bytes_copied",	"bytes_total", "bytes_skipped", "mover",
    "rate", "mirrored_writes", "waited_writes", "source",      "destination",	"error",
};

static struct {
	char *socket;
	int timeout;
	gboolean help, version;
	gboolean json;
	char *to, *mover, *rate;
	gboolean keep_source, wait, keep_dest;
	double interval;
} opt = {.timeout = TIMEOUT_DEFAULT, .interval = INTERVAL_DEFAULT};

static char *socket_path; /* --socket, or the default */
static volatile sig_atomic_t interrupted;

static const GOptionEntry common_entries[] = {
    {"socket", 0, 0, G_OPTION_ARG_FILENAME, &opt.socket,
     "The handler's control socket (default: $SVM_RUN_DIR/control.sock, else "
     "/run/tcmu-svm/control.sock)",
     "PATH"},
    {"timeout", 0, 0, G_OPTION_ARG_INT, &opt.timeout,
     "How long to wait for the handler to answer (default 60)", "SECONDS"},
    {"help", 'h', 0, G_OPTION_ARG_NONE, &opt.help, "Show this help", NULL},
    {"version", 0, 0, G_OPTION_ARG_NONE, &opt.version, "Show svmctl's version", NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL},
};

static const GOptionEntry status_entries[] = {
    {"json", 0, 0, G_OPTION_ARG_NONE, &opt.json,
     "One JSON object per LUN, one per line, with the handler's fields", NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL},
};

static const GOptionEntry migrate_entries[] = {
    {"to", 0, 0, G_OPTION_ARG_FILENAME, &opt.to,
     "Destination store: an absolute path (default: the cfgstring's dst=)", "PATH"},
    {"mover", 0, 0, G_OPTION_ARG_STRING, &opt.mover,
     "Datamover: auto, bounce, kernel or reflink (default auto)", "MOVER"},
    {"rate", 0, 0, G_OPTION_ARG_STRING, &opt.rate,
     "Copy at most this many MiB per second, a whole number (default 0: no limit)", "MIB/S"},
    {"keep-source", 0, 0, G_OPTION_ARG_NONE, &opt.keep_source,
     "Keep the source store after the switchover instead of deleting it", NULL},
    {"wait", 0, 0, G_OPTION_ARG_NONE, &opt.wait,
     "Wait until the switchover (exit 0) or a failure (4) or abort (5); a progress bar on a "
     "terminal",
     NULL},
    {"interval", 0, 0, G_OPTION_ARG_DOUBLE, &opt.interval,
     "With --wait: seconds between status polls (default 1)", "SECONDS"},
    {NULL, 0, 0, 0, NULL, NULL, NULL},
};

static const GOptionEntry abort_entries[] = {
    {"keep-dest", 0, 0, G_OPTION_ARG_NONE, &opt.keep_dest,
     "Keep the partly copied destination store instead of deleting it", NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL},
};

static int cmd_list(char **args);
static int cmd_status(char **args);
static int cmd_migrate(char **args);
static int cmd_abort(char **args);
static int cmd_doctor(char **args);

static const struct command {
	const char *name;
	const char *params; /* after "svmctl [OPTION...]" in --help */
	int min_args, max_args;
	const GOptionEntry *entries;
	int (*run)(char **args);
	const char *summary;
} commands[] = {
    {"list", "list", 0, 0, NULL, cmd_list,
     "Every user:svm LUN: its source and destination stores, its phase and its mirror device."},
    {"status", "status [LUN]", 0, 1, status_entries, cmd_status,
     "The migration state of LUN, or of every LUN: phase, progress, stores, mover, rate "
     "limit, host writes mirrored and waited."},
    {"migrate", "migrate LUN", 1, 1, migrate_entries, cmd_migrate,
     "Start a live migration of LUN to another store. svmctl checks the destination first: "
     "an absolute path in an existing directory, nothing there yet (or an empty file, or an "
     "unused block device with no signature), not the source."},
    {"abort", "abort LUN", 1, 1, abort_entries, cmd_abort,
     "Stop LUN's migration; the LUN goes on serving its source."},
    {"doctor", "doctor", 0, 0, NULL, cmd_doctor,
     "Check the stack: target_core_user, configfs, tcmu-runner, the svm handler's socket, the "
     "state directory. Exit 0 only if every check passes."},
};

static const char general_summary[] =
    "Live-migrate user:svm LUNs (tcmu-runner's svm handler) from one store to another.\n"
    "\n"
    "Commands:\n"
    "  list                    every svm LUN: stores, phase, mirror device\n"
    "  status [LUN] [--json]   migration state of one LUN or all\n"
    "  migrate LUN [--to PATH] [--mover MOVER] [--rate MIB/S] [--keep-source]\n"
    "              [--wait [--interval SECONDS]]\n"
    "                          start a live migration (and wait for it)\n"
    "  abort LUN [--keep-dest] stop a migration\n"
    "  doctor                  check that the stack is ready";

static const char general_description[] =
    "`svmctl COMMAND --help` shows a command's options. Only root may use the control "
    "socket. See svmctl(8).";

/* ---- helpers ---------------------------------------------------------------------------- */

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* A LUN name svmctl can put in a request: a targetcli backstore name, one word. */
static bool lun_name_ok(const char *lun)
{
	if (!*lun || strlen(lun) > 255 || strchr(lun, '/')) {
		fprintf(stderr,
			"svmctl: '%s' is not a LUN name (a targetcli backstore name: "
			"svmctl list shows them)\n",
			lun);
		return false;
	}
	for (const char *c = lun; *c; c++) {
		if (g_ascii_isspace(*c) || g_ascii_iscntrl(*c)) {
			fprintf(stderr,
				"svmctl: LUN name '%s' holds white space or a control character\n",
				lun);
			return false;
		}
	}
	return true;
}

/* One request; on failure prints why and sets *rc. */
static struct cli_json *ask(const char *request, int *rc)
{
	struct cli_ctl_fail fail;
	struct cli_json *answer;

	answer = cli_ctl_request(socket_path, request, opt.timeout * 1000, &fail);
	if (!answer) {
		fprintf(stderr, "svmctl: %s\n", fail.msg);
		*rc = fail.kind == CLI_CTL_REFUSED ? EXIT_HANDLER : EXIT_UNREACHABLE;
		cli_ctl_fail_clear(&fail);
	}
	return answer;
}

static bool is_status(const struct cli_json *v)
{
	return v && v->type == CLI_JSON_OBJECT && cli_json_get_str(v, "lun") &&
	       cli_json_get_str(v, "phase");
}

static int malformed(const char *what, const struct cli_json *v)
{
	GString *text = g_string_new(NULL);

	if (v)
		cli_json_write(text, v);
	fprintf(stderr, "svmctl: malformed answer from the handler on %s (%s): %.300s\n",
		socket_path, what, text->str);
	g_string_free(text, TRUE);
	return EXIT_UNREACHABLE;
}

static uint64_t u64_or0(const struct cli_json *v, const char *key)
{
	uint64_t n = 0;

	cli_json_get_u64(v, key, &n);
	return n;
}

static const char *str_or(const struct cli_json *v, const char *key, const char *dflt)
{
	const char *s = cli_json_get_str(v, key);

	return s ? s : dflt;
}

/* ---- list, status ------------------------------------------------------------------------ */

/* The "luns" array of a list answer, each element a STATUS; NULL (and a message) if not. */
static const struct cli_json *luns_of(const struct cli_json *answer)
{
	const struct cli_json *luns = cli_json_get(answer, "luns"), *l;

	if (!luns || luns->type != CLI_JSON_ARRAY) {
		malformed("no \"luns\" list", answer);
		return NULL;
	}
	for (l = luns->child; l; l = l->next) {
		if (!is_status(l)) {
			malformed("a LUN without \"lun\" or \"phase\"", l);
			return NULL;
		}
	}
	return luns;
}

static int cmd_list(char **args)
{
	static const char *const heads[] = {"LUN", "PHASE", "SOURCE", "DESTINATION", "MIRROR"};
	static const char *const keys[] = {"lun", "phase", "source", "destination", "mirror"};
	const struct cli_json *luns, *l;
	struct cli_json *answer;
	size_t w[G_N_ELEMENTS(heads)];
	int rc = 0;

	(void)args;
	answer = ask("list", &rc);
	if (!answer)
		return rc;
	luns = luns_of(answer);
	if (!luns) {
		rc = EXIT_UNREACHABLE;
		goto free_answer;
	}
	if (!luns->child) {
		printf("no user:svm LUNs are open\n");
		goto free_answer;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(heads); i++) {
		w[i] = strlen(heads[i]);
		for (l = luns->child; l; l = l->next)
			w[i] = MAX(w[i], strlen(str_or(l, keys[i], "-")));
	}
	for (size_t i = 0; i < G_N_ELEMENTS(heads); i++)
		printf("%-*s%s", i + 1 < G_N_ELEMENTS(heads) ? (int)w[i] : 0, heads[i],
		       i + 1 < G_N_ELEMENTS(heads) ? "  " : "\n");
	for (l = luns->child; l; l = l->next)
		for (size_t i = 0; i < G_N_ELEMENTS(heads); i++)
			printf("%-*s%s", i + 1 < G_N_ELEMENTS(heads) ? (int)w[i] : 0,
			       str_or(l, keys[i], "-"), i + 1 < G_N_ELEMENTS(heads) ? "  " : "\n");
free_answer:
	cli_json_free(answer);
	return rc;
}

/* A STATUS on one line: the handler's members in its order, then any of json_fields as null. */
static void print_json(const struct cli_json *st)
{
	GString *out = g_string_new(NULL);

	cli_json_write(out, st);
	g_string_truncate(out, out->len - 1); /* the closing '}' */
	for (size_t i = 0; i < G_N_ELEMENTS(json_fields); i++) {
		if (cli_json_get(st, json_fields[i]))
			continue;
		if (out->len > 1)
			g_string_append_c(out, ',');
		cli_json_write_string(out, json_fields[i]);
		g_string_append(out, ":null");
	}
	g_string_append(out, "}\n");
	fputs(out->str, stdout);
	g_string_free(out, TRUE);
}

static void print_human(const struct cli_json *st)
{
	const char *phase = cli_json_get_str(st, "phase"), *dest, *dst, *err;
	uint64_t total = u64_or0(st, "bytes_total"), copied = u64_or0(st, "bytes_copied");
	uint64_t skipped = u64_or0(st, "bytes_skipped"), rate, started, n;
	const struct cli_json *movers = cli_json_get(st, "movers"), *m;
	char a[32], b[32], c[32];
	bool idle = !strcmp(phase, "idle"), resumed = false;
	GString *line = g_string_new(NULL);

	printf("%s: %s", cli_json_get_str(st, "lun"), phase);
	if (!idle && total)
		printf(", %.1f%% (%s copied, %s skipped, of %s)",
		       floor((double)MIN(copied + skipped, total) * 1000 / (double)total) / 10,
		       cli_fmt_bytes(copied, a, sizeof(a)), cli_fmt_bytes(skipped, b, sizeof(b)),
		       cli_fmt_bytes(total, c, sizeof(c)));
	n = u64_or0(st, "bytes_overwritten");
	if (n)
		printf("\n  overwritten:     %s of the skipped bytes: chunks host writes covered "
		       "whole, not copied",
		       cli_fmt_bytes(n, a, sizeof(a)));
	printf("\n  source:          %s\n", str_or(st, "source", "-"));
	dest = cli_json_get_str(st, "destination");
	dst = cli_json_get_str(st, "dst");
	if (dest || !idle)
		printf("  destination:     %s\n", dest ? dest : "-");
	if (dst && (!dest || strcmp(dst, dest)))
		printf("  cfgstring dst=:  %s\n", dst);
	if (cli_json_get_str(st, "mirror"))
		printf("  mirror device:   %s\n", cli_json_get_str(st, "mirror"));
	err = cli_json_get_str(st, "error");
	if (idle) {
		if (err)
			printf("  error:           %s\n", err);
		g_string_free(line, TRUE);
		return;
	}
	g_string_assign(line, str_or(st, "mover", "-"));
	if (movers && movers->type == CLI_JSON_OBJECT && movers->child) {
		g_string_append(line, " (moved:");
		for (m = movers->child; m; m = m->next) {
			n = 0;
			cli_json_get_u64(movers, m->key, &n);
			g_string_append_printf(line, "%s %s %s", m == movers->child ? "" : ",",
					       m->key, cli_fmt_bytes(n, a, sizeof(a)));
		}
		g_string_append_c(line, ')');
	}
	printf("  mover:           %s\n", line->str);
	if (cli_json_get_u64(st, "rate", &rate) && rate)
		printf("  rate limit:      %" G_GUINT64_FORMAT " MiB/s\n", rate);
	else if (cli_json_get(st, "rate"))
		printf("  rate limit:      none\n");
	printf("  host writes:     %" G_GUINT64_FORMAT
	       " mirrored to both stores, %" G_GUINT64_FORMAT " waited for the copy\n",
	       u64_or0(st, "mirrored_writes"), u64_or0(st, "waited_writes"));
	if (cli_json_get_u64(st, "started", &started) && started) {
		time_t t = (time_t)started;
		struct tm tm;

		strftime(a, sizeof(a), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
		printf("  started:         %s, ran %s%s\n", a,
		       cli_fmt_duration((double)u64_or0(st, "elapsed_ms") / 1000, b, sizeof(b)),
		       cli_json_get_bool(st, "resumed", &resumed) && resumed
			   ? " (resumed from a checkpoint)"
			   : "");
	}
	if (u64_or0(st, "max_pause_ms") || !strcmp(phase, "done"))
		printf("  longest pause:   %" G_GUINT64_FORMAT " ms of host writes at switchover\n",
		       u64_or0(st, "max_pause_ms"));
	if (err)
		printf("  error:           %s\n", err);
	g_string_free(line, TRUE);
}

static int cmd_status(char **args)
{
	const struct cli_json *luns, *l;
	struct cli_json *answer;
	char *req;
	int rc = 0;

	if (args[0]) {
		if (!lun_name_ok(args[0]))
			return EXIT_USAGE;
		req = g_strdup_printf("status %s", args[0]);
		answer = ask(req, &rc);
		g_free(req);
		if (!answer)
			return rc;
		if (!is_status(answer))
			rc = malformed("not a STATUS", answer);
		else if (opt.json)
			print_json(answer);
		else
			print_human(answer);
		cli_json_free(answer);
		return rc;
	}
	answer = ask("list", &rc);
	if (!answer)
		return rc;
	luns = luns_of(answer);
	if (!luns)
		rc = EXIT_UNREACHABLE;
	else if (!luns->child && !opt.json)
		printf("no user:svm LUNs are open\n");
	for (l = luns ? luns->child : NULL; l; l = l->next) {
		if (opt.json) {
			print_json(l);
		} else {
			print_human(l);
			if (l->next)
				putchar('\n');
		}
	}
	cli_json_free(answer);
	return rc;
}

/* ---- migrate, abort ----------------------------------------------------------------------- */

static bool mover_ok(const char *mover)
{
	static const char *const movers[] = {"auto", "bounce", "kernel", "reflink"};

	for (size_t i = 0; i < G_N_ELEMENTS(movers); i++)
		if (!strcmp(mover, movers[i]))
			return true;
	fprintf(stderr, "svmctl: unknown mover '%s': expected auto, bounce, kernel or reflink\n",
		mover);
	return false;
}

/* --rate: a whole number of MiB/s, 0 for no limit. */
static bool rate_ok(const char *text, guint64 *rate)
{
	GError *error = NULL;

	if (!g_ascii_string_to_unsigned(text, 10, 0, RATE_MAX, rate, &error)) {
		fprintf(stderr,
			"svmctl: bad rate '%s': expected a whole number of MiB/s from 0 (no "
			"limit) to %u\n",
			text, RATE_MAX);
		g_error_free(error);
		return false;
	}
	return true;
}

/* Sleep s seconds; false if a signal asked svmctl to stop meanwhile. */
static bool nap(double s)
{
	struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (time_t)s) * 1e9)};

	while (!interrupted && nanosleep(&ts, &ts) && errno == EINTR)
		;
	return !interrupted;
}

static int terminal_width(void)
{
	struct winsize ws;

	return ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col ? ws.ws_col : 80;
}

/* The closing line of migrate --wait, once the phase is final; returns the exit status. */
static int wait_result(const struct cli_json *st, const char *lun, const char *source,
		       const char *to)
{
	const char *phase = cli_json_get_str(st, "phase");
	char a[32], b[32], c[32];

	if (!strcmp(phase, "done") ||
	    (!strcmp(phase, "idle") && !g_strcmp0(cli_json_get_str(st, "source"), to))) {
		printf("%s: migration done: the LUN now serves %s (%s copied, %s skipped, in %s; "
		       "longest write pause %" G_GUINT64_FORMAT " ms)\n",
		       lun, to, cli_fmt_bytes(u64_or0(st, "bytes_copied"), a, sizeof(a)),
		       cli_fmt_bytes(u64_or0(st, "bytes_skipped"), b, sizeof(b)),
		       cli_fmt_duration((double)u64_or0(st, "elapsed_ms") / 1000, c, sizeof(c)),
		       u64_or0(st, "max_pause_ms"));
		return 0;
	}
	if (!strcmp(phase, "failed")) {
		fprintf(stderr, "svmctl: %s: migration failed: %s; the LUN still serves %s\n", lun,
			str_or(st, "error", "the handler gave no reason"),
			str_or(st, "source", source ? source : "its source"));
		return EXIT_FAILED;
	}
	if (!strcmp(phase, "aborted")) {
		fprintf(stderr, "svmctl: %s: migration aborted%s%s; the LUN still serves %s\n", lun,
			cli_json_get_str(st, "error") ? ": " : "", str_or(st, "error", ""),
			str_or(st, "source", source ? source : "its source"));
		return EXIT_ABORTED;
	}
	fprintf(stderr,
		"svmctl: %s: the migration is gone (phase %s) and the LUN serves %s, not %s\n", lun,
		phase, str_or(st, "source", "?"), to);
	return EXIT_HANDLER;
}

static bool phase_final(const char *phase)
{
	return !strcmp(phase, "done") || !strcmp(phase, "failed") || !strcmp(phase, "aborted") ||
	       !strcmp(phase, "idle");
}

/*
 * --wait: poll `status LUN` every --interval until the phase is final.
 * Polls that fail are retried for --timeout seconds (tcmu-runner may be
 * restarting; the migration resumes from its checkpoint).
 */
static int wait_for(struct cli_json *st, const char *lun, const char *source, const char *to)
{
	struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
	bool tty = isatty(STDOUT_FILENO), drawn = false;
	gint64 start = g_get_monotonic_time(), last_ok = start, now;
	GString *line = g_string_new(NULL);
	struct cli_ctl_fail fail = {0};
	struct cli_fmt_rate rate;
	struct cli_json *next;
	uint64_t copied, done;
	char *req = g_strdup_printf("status %s", lun);
	int rc;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	cli_fmt_rate_init(&rate);
	for (;;) {
		now = g_get_monotonic_time();
		if (!fail.msg) {
			copied = u64_or0(st, "bytes_copied");
			done = copied + u64_or0(st, "bytes_skipped");
			cli_fmt_rate_add(&rate, (double)(now - start) / 1e6, copied, done);
			if (phase_final(cli_json_get_str(st, "phase"))) {
				if (drawn)
					fputs("\r\033[K", stdout);
				rc = wait_result(st, lun, source, to);
				break;
			}
		}
		if (tty) {
			cli_fmt_progress(line, terminal_width() - 1, lun,
					 fail.msg ? "(no answer)" : cli_json_get_str(st, "phase"),
					 u64_or0(st, "bytes_copied") + u64_or0(st, "bytes_skipped"),
					 u64_or0(st, "bytes_total"), cli_fmt_rate_bps(&rate),
					 cli_fmt_rate_eta(&rate, u64_or0(st, "bytes_total")));
			printf("\r%s\033[K", line->str);
			fflush(stdout);
			drawn = true;
		}
		if (!nap(opt.interval)) {
			if (drawn)
				fputs("\r\033[K", stdout);
			fflush(stdout);
			fprintf(stderr,
				"svmctl: stopped waiting; the migration of %s goes on (svmctl "
				"status %s; svmctl abort %s stops it)\n",
				lun, lun, lun);
			rc = EXIT_INTERRUPTED;
			break;
		}
		cli_ctl_fail_clear(&fail);
		next = cli_ctl_request(socket_path, req, opt.timeout * 1000, &fail);
		if (next && !is_status(next)) {
			cli_json_free(next);
			next = NULL;
			fail.kind = CLI_CTL_UNREACHABLE;
			fail.msg = g_strdup_printf("malformed answer from the handler on %s (not a "
						   "STATUS)",
						   socket_path);
		}
		if (next) {
			cli_json_free(st);
			st = next;
			last_ok = g_get_monotonic_time();
			continue;
		}
		if (g_get_monotonic_time() - last_ok > (gint64)opt.timeout * 1000000) {
			if (drawn)
				fputs("\r\033[K", stdout);
			fflush(stdout);
			fprintf(stderr, "svmctl: %s: lost track of the migration: %s\n", lun,
				fail.msg);
			rc = fail.kind == CLI_CTL_REFUSED ? EXIT_HANDLER : EXIT_UNREACHABLE;
			break;
		}
	}
	fflush(stdout);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	cli_ctl_fail_clear(&fail);
	cli_json_free(st);
	g_string_free(line, TRUE);
	g_free(req);
	return rc;
}

static int refuse(char *reason)
{
	fprintf(stderr, "svmctl: %s\n", reason);
	g_free(reason);
	return EXIT_USAGE;
}

static int cmd_migrate(char **args)
{
	const char *lun = args[0], *mover = opt.mover ? opt.mover : "auto", *source, *to;
	struct cli_json *st, *answer = NULL;
	char *req, *reason = NULL, *taken = NULL, limit[48];
	guint64 rate = 0;
	int rc = 0, ret;

	if (!lun_name_ok(lun) || !mover_ok(mover) || (opt.rate && !rate_ok(opt.rate, &rate)))
		return EXIT_USAGE;
	if (opt.interval < 0.01 || opt.interval > 3600) {
		fprintf(stderr, "svmctl: bad --interval %g: expected 0.01 to 3600 seconds\n",
			opt.interval);
		return EXIT_USAGE;
	}
	/*
	 * A destination named here is checked before the handler hears of the
	 * request. Except one that holds data or is in use: that is what the
	 * LUN's own source looks like, which only its status tells; its refusal
	 * waits until the source check has run, so that it says "the source"
	 * rather than advising to remove a live store.
	 */
	if (opt.to) {
		if (cli_dest_check_syntax(opt.to, &reason))
			return refuse(reason);
		ret = cli_dest_check_place(opt.to, &reason);
		if (ret && ret != -EEXIST && ret != -EBUSY)
			return refuse(reason);
		taken = reason; /* NULL: the place is free */
		reason = NULL;
	}

	req = g_strdup_printf("status %s", lun);
	st = ask(req, &rc);
	g_free(req);
	if (!st)
		goto free_taken;
	if (!is_status(st)) {
		rc = malformed("not a STATUS", st);
		goto free_st;
	}
	source = cli_json_get_str(st, "source");
	to = opt.to ? opt.to : cli_json_get_str(st, "dst");
	if (!to) {
		rc = refuse(g_strdup_printf("%s has no destination: its cfgstring has no dst=, so "
					    "name one with --to PATH",
					    lun));
		goto free_st;
	}
	if ((!opt.to && cli_dest_check_syntax(to, &reason)) ||
	    (source && cli_dest_check_not_source(to, source, &reason)) ||
	    (!opt.to && cli_dest_check_place(to, &reason))) {
		rc = refuse(reason);
		goto free_st;
	}
	if (taken) {
		rc = refuse(taken);
		taken = NULL;
		goto free_st;
	}

	req = g_strdup_printf("migrate %s to=%s mover=%s rate=%" G_GUINT64_FORMAT " keep_source=%d",
			      lun, to, mover, rate, opt.keep_source ? 1 : 0);
	answer = ask(req, &rc);
	g_free(req);
	if (!answer)
		goto free_st;
	if (!is_status(answer)) {
		rc = malformed("not a STATUS", answer);
		goto free_answer;
	}
	if (!opt.wait) {
		if (rate)
			snprintf(limit, sizeof(limit), "at most %" G_GUINT64_FORMAT " MiB/s", rate);
		printf("%s: migration started: %s -> %s (mover %s, %s); follow it with: svmctl "
		       "status %s\n",
		       lun, source ? source : "?", to, mover, rate ? limit : "no rate limit", lun);
		goto free_answer;
	}
	rc = wait_for(answer, lun, source, to); /* takes answer */
	answer = NULL;
free_answer:
	cli_json_free(answer);
free_st:
	cli_json_free(st);
free_taken:
	g_free(taken);
	return rc;
}

static int cmd_abort(char **args)
{
	const char *lun = args[0], *dest;
	struct cli_json *answer;
	char *req;
	int rc = 0;

	if (!lun_name_ok(lun))
		return EXIT_USAGE;
	req = g_strdup_printf("abort %s keep_dest=%d", lun, opt.keep_dest ? 1 : 0);
	answer = ask(req, &rc);
	g_free(req);
	if (!answer)
		return rc;
	if (!is_status(answer)) {
		rc = malformed("not a STATUS", answer);
	} else {
		dest = cli_json_get_str(answer, "destination");
		printf("%s: migration %s; the LUN serves %s", lun,
		       cli_json_get_str(answer, "phase"), str_or(answer, "source", "its source"));
		if (opt.keep_dest && dest)
			printf("; the partial copy stays at %s", dest);
		putchar('\n');
	}
	cli_json_free(answer);
	return rc;
}

/* ---- doctor ------------------------------------------------------------------------------- */

static int cmd_doctor(char **args)
{
	struct cli_doctor_env env = {
	    .proc = "/proc",
	    .module = "target_core_user",
	    .configfs = "/sys/kernel/config",
	    .runner = "tcmu-runner",
	    .socket = socket_path,
	    .socket_given = opt.socket != NULL,
	    .timeout_ms = opt.timeout * 1000,
	};

	(void)args;
	return cli_doctor_run(&env, stdout) ? EXIT_HANDLER : 0;
}

/* ---- main --------------------------------------------------------------------------------- */

/* The command word: the first argument that is neither an option nor an option's value. */
static int find_command(int argc, char **argv)
{
	static const char *const with_value[] = {"--socket", "--timeout", "--to",
						 "--mover",  "--rate",	  "--interval"};

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return i + 1 < argc ? i + 1 : -1;
		if (argv[i][0] != '-' || !argv[i][1])
			return i;
		for (size_t j = 0; j < G_N_ELEMENTS(with_value); j++)
			if (!strcmp(argv[i], with_value[j]))
				i++;
	}
	return -1;
}

int main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	GOptionContext *ctx;
	GError *error = NULL;
	char **args, *help;
	int ci, nargs, rc = 0;

	g_set_prgname("svmctl");
	ci = find_command(argc, argv);
	if (ci > 0) {
		for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
			if (!strcmp(argv[ci], commands[i].name))
				cmd = &commands[i];
		if (!cmd) {
			fprintf(stderr,
				"svmctl: unknown command '%s' (commands: list, status, migrate, "
				"abort, doctor; svmctl --help)\n",
				argv[ci]);
			return EXIT_USAGE;
		}
	}

	/* argv without the command word: GOption sees the options and the command's arguments */
	args = g_new0(char *, argc + 1);
	for (int i = 0, j = 0; i < argc; i++)
		if (i != ci)
			args[j++] = g_strdup(argv[i]);

	ctx = g_option_context_new(cmd ? cmd->params : "COMMAND [ARGUMENT...]");
	g_option_context_set_help_enabled(ctx, FALSE);
	g_option_context_set_summary(ctx, cmd ? cmd->summary : general_summary);
	g_option_context_set_description(ctx, general_description);
	if (cmd && cmd->entries)
		g_option_context_add_main_entries(ctx, cmd->entries, NULL);
	g_option_context_add_main_entries(ctx, common_entries, NULL);
	if (!g_option_context_parse_strv(ctx, &args, &error)) {
		fprintf(stderr, "svmctl: %s (svmctl %s--help)\n", error->message,
			cmd ? cmd->name : "");
		g_error_free(error);
		rc = EXIT_USAGE;
		goto free_ctx;
	}
	if (opt.help) {
		help = g_option_context_get_help(ctx, TRUE, NULL);
		fputs(help, stdout);
		g_free(help);
		goto free_ctx;
	}
	if (opt.version) {
		printf("svmctl (tcmu-svm) %s\n", SVMCTL_VERSION);
		goto free_ctx;
	}
	if (!cmd) {
		fprintf(stderr, "svmctl: no command given (commands: list, status, migrate, abort, "
				"doctor; svmctl --help)\n");
		rc = EXIT_USAGE;
		goto free_ctx;
	}
	nargs = (int)g_strv_length(args) - 1;
	if (nargs < cmd->min_args || nargs > cmd->max_args) {
		fprintf(stderr, "svmctl: %s takes %s (usage: svmctl %s [OPTION...])\n", cmd->name,
			cmd->max_args == 0   ? "no arguments"
			: cmd->min_args == 0 ? "at most one LUN"
					     : "one LUN",
			cmd->params);
		rc = EXIT_USAGE;
		goto free_ctx;
	}
	if (opt.timeout < 1 || opt.timeout > 86400) {
		fprintf(stderr, "svmctl: bad --timeout %d: expected 1 to 86400 seconds\n",
			opt.timeout);
		rc = EXIT_USAGE;
		goto free_ctx;
	}
	socket_path = opt.socket ? g_strdup(opt.socket) : cli_ctl_default_socket();
	rc = cmd->run(args + 1);
	g_free(socket_path);
free_ctx:
	g_option_context_free(ctx);
	g_strfreev(args);
	g_free(opt.socket);
	g_free(opt.to);
	g_free(opt.mover);
	g_free(opt.rate);
	return rc;
}
