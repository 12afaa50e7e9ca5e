/* SPDX-License-Identifier: Apache-2.0 */
/* cli/json.c: the handler's answers, escapes, nulls, nesting, and what is refused. */
#include "test.h"
#include "../../cli/json.h"

static struct cli_json *parse(const char *text)
{
	char *err = NULL;
	struct cli_json *v = cli_json_parse(text, strlen(text), &err);

	g_free(err);
	return v;
}

/* The text is refused, and the error names the problem. */
static void refused(const char *text, const char *why)
{
	char *err = NULL;
	struct cli_json *v = cli_json_parse(text, strlen(text), &err);

	CHECK(v == NULL);
	CHECK_HAS(err, why);
	if (v)
		fprintf(stderr, "  (accepted: %s)\n", text);
	cli_json_free(v);
	g_free(err);
}

/* parse then write gives want (compact) */
static void round_trip(const char *text, const char *want)
{
	struct cli_json *v = parse(text);
	GString *out = g_string_new(NULL);

	CHECK(v != NULL);
	if (v)
		cli_json_write(out, v);
	CHECK_STR(out->str, want);
	g_string_free(out, TRUE);
	cli_json_free(v);
}

static void status_answer(void)
{
	static const char text[] =
	    "{\"lun\":\"lun0\",\"phase\":\"copying\",\"source\":\"/var/lib/svm/a.img\","
	    "\"destination\":\"/mnt/"
	    "b.img\",\"dst\":null,\"mirror\":\"6001405a-6001405b-svmmirror\","
	    "\"bytes_total\":1073741824,\"bytes_copied\":536870912,\"bytes_skipped\":0,"
	    "\"mover\":\"auto\",\"movers\":{\"bounce\":0,\"kernel\":536870912,\"reflink\":0},"
	    "\"rate\":0,\"mirrored_writes\":12,\"waited_writes\":3,\"resumed\":false,"
	    "\"started\":1700000000,\"elapsed_ms\":4200,\"max_pause_ms\":0,\"error\":null}\n";
	struct cli_json *v = parse(text);
	const struct cli_json *movers;
	uint64_t n = 99;
	bool b = true;

	CHECK(v && v->type == CLI_JSON_OBJECT);
	if (!v)
		return;
	CHECK_EQ(cli_json_count(v), 19);
	CHECK_STR(cli_json_get_str(v, "lun"), "lun0");
	CHECK_STR(cli_json_get_str(v, "phase"), "copying");
	CHECK_STR(cli_json_get_str(v, "dst"), NULL); /* null */
	CHECK(cli_json_get(v, "dst") && cli_json_get(v, "dst")->type == CLI_JSON_NULL);
	CHECK_STR(cli_json_get_str(v, "error"), NULL);
	CHECK_STR(cli_json_get_str(v, "nosuch"), NULL);
	CHECK(cli_json_get(v, "nosuch") == NULL);
	CHECK(cli_json_get_u64(v, "bytes_total", &n) && n == 1073741824);
	CHECK(cli_json_get_bool(v, "resumed", &b) && !b);
	CHECK(!cli_json_get_bool(v, "rate", &b));
	CHECK(!cli_json_get_u64(v, "lun", &n)); /* a string is not a number */
	CHECK(!cli_json_get_u64(v, "dst", &n)); /* nor is null */
	movers = cli_json_get(v, "movers");
	CHECK(movers && movers->type == CLI_JSON_OBJECT && cli_json_count(movers) == 3);
	CHECK(cli_json_get_u64(movers, "kernel", &n) && n == 536870912);
	CHECK(cli_json_get_u64(movers, "reflink", &n) && n == 0);
	CHECK(cli_json_get(movers, "lun") == NULL); /* lookups stay in their object */
	CHECK_STR(movers->child->key, "bounce");    /* members keep their order */
	cli_json_free(v);
	/* written back unchanged, less the newline */
	round_trip(text,
		   "{\"lun\":\"lun0\",\"phase\":\"copying\",\"source\":\"/var/lib/svm/a.img\","
		   "\"destination\":\"/mnt/b.img\",\"dst\":null,\"mirror\":"
		   "\"6001405a-6001405b-svmmirror\",\"bytes_total\":1073741824,"
		   "\"bytes_copied\":536870912,\"bytes_skipped\":0,\"mover\":\"auto\","
		   "\"movers\":{\"bounce\":0,\"kernel\":536870912,\"reflink\":0},\"rate\":0,"
		   "\"mirrored_writes\":12,\"waited_writes\":3,\"resumed\":false,"
		   "\"started\":1700000000,\"elapsed_ms\":4200,\"max_pause_ms\":0,"
		   "\"error\":null}");
}

static void list_and_errors(void)
{
	struct cli_json *v = parse(" {\"luns\" : [ {\"lun\":\"a\"} , {\"lun\":\"b\"} ] } \r\n");
	const struct cli_json *luns;

	CHECK(v != NULL);
	luns = cli_json_get(v, "luns");
	CHECK(luns && luns->type == CLI_JSON_ARRAY && cli_json_count(luns) == 2);
	CHECK(luns && luns->child && !luns->child->key); /* elements have no key */
	CHECK_STR(luns && luns->child->next ? cli_json_get_str(luns->child->next, "lun") : NULL,
		  "b");
	cli_json_free(v);

	v = parse("{\"luns\":[]}");
	CHECK(v && cli_json_count(cli_json_get(v, "luns")) == 0);
	cli_json_free(v);

	v = parse("{\"error\":\"no svm LUN named 'x'\",\"errno\":19}");
	CHECK_STR(cli_json_get_str(v, "error"), "no svm LUN named 'x'");
	CHECK(cli_json_get(v, "errno") && cli_json_get(v, "errno")->number == 19);
	cli_json_free(v);
	round_trip("{}", "{}");
	round_trip("[]", "[]");
	round_trip("[[],{},[{}]]", "[[],{},[{}]]");
	round_trip("null", "null");
	round_trip("  true ", "true");
	round_trip("[false,null,true]", "[false,null,true]");
}

static void strings(void)
{
	struct cli_json *v;

	/* every escape */
	v = parse("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\"");
	CHECK_STR(v ? v->str : NULL, "q\" b\\ s/ \b\f\n\r\t");
	cli_json_free(v);
	/* \u: ASCII, two-byte, three-byte, a surrogate pair (U+1F600), upper- and lower-case hex */
	v = parse("\"\\u0041\\u00e9\\u20AC\\ud83d\\uDE00\"");
	CHECK_STR(v ? v->str : NULL, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	cli_json_free(v);
	/* raw UTF-8 passes through */
	v = parse("\"/mnt/d\xc3\xa9j\xc3\xa0/b.img\"");
	CHECK_STR(v ? v->str : NULL, "/mnt/d\xc3\xa9j\xc3\xa0/b.img");
	cli_json_free(v);
	/* keys are decoded too */
	v = parse("{\"a\\u0062c\":1}");
	CHECK(cli_json_get(v, "abc") != NULL);
	cli_json_free(v);
	/* the writer escapes what must be, and only that */
	round_trip("\"a\\\"b\\\\c\\/d\\n\\u0001\\u001f\xc3\xa9\"",
		   "\"a\\\"b\\\\c/d\\n\\u0001\\u001f\xc3\xa9\"");
	round_trip("{\"e\":\"tab\\there\"}", "{\"e\":\"tab\\there\"}");
}

static void numbers(void)
{
	struct cli_json *v;
	uint64_t n = 7;

	v = parse("{\"max\":18446744073709551615,\"over\":18446744073709551616,\"neg\":-1,"
		  "\"frac\":1.5,\"exp\":1e3,\"zero\":0,\"negzero\":-0,\"big\":2.5E-3}");
	CHECK(v != NULL);
	CHECK(cli_json_get_u64(v, "max", &n) && n == UINT64_MAX);
	CHECK(!cli_json_get_u64(v, "over", &n));
	CHECK(!cli_json_get_u64(v, "neg", &n));
	CHECK(!cli_json_get_u64(v, "frac", &n));
	CHECK(!cli_json_get_u64(v, "exp", &n));
	CHECK(!cli_json_get_u64(v, "negzero", &n));
	CHECK(cli_json_get_u64(v, "zero", &n) && n == 0);
	CHECK(cli_json_get(v, "frac")->number == 1.5);
	CHECK(cli_json_get(v, "exp")->number == 1000);
	CHECK(cli_json_get(v, "neg")->number == -1);
	cli_json_free(v);
	/* numbers keep their text */
	round_trip("[1e3,-0,2.50,0.1E+2]", "[1e3,-0,2.50,0.1E+2]");
}

static void refusals(void)
{
	char deep[2 * CLI_JSON_MAX_DEPTH + 8];
	size_t i;

	refused("", "end of text");
	refused("   ", "end of text");
	refused("{", "expected a member name");
	refused("{\"a\":1", "expected ','");
	refused("{\"a\":1,}", "expected a member name");
	refused("[1,]", "unexpected");
	refused("[1 2]", "expected ','");
	refused("{\"a\" 1}", "expected ':'");
	refused("{a:1}", "member name");
	refused("{\"a\":1,\"a\":2}", "duplicate");
	refused("{} {}", "text after the value");
	refused("{}x", "text after the value");
	refused("\"abc", "unterminated");
	refused("\"a\tb\"", "control character");
	refused("\"a\nb\"", "control character");
	refused("\"\\x41\"", "unknown escape");
	refused("\"\\u12\"", "malformed \\u");
	refused("\"\\u12G4\"", "malformed \\u");
	refused("\"\\ud83d\"", "high surrogate");
	refused("\"\\ud83dx\"", "high surrogate");
	refused("\"\\ud83d\\u0041\"", "high surrogate");
	refused("\"\\ude00\"", "lone low surrogate");
	refused("\"\\u0000\"", "\\u0000");
	refused("01", "leading zero");
	refused("-", "malformed number");
	refused("1.", "malformed number");
	refused(".5", "unexpected");
	refused("1e", "malformed number");
	refused("+1", "unexpected character");
	refused("tru", "unexpected character");
	refused("nul", "unexpected character");
	refused("NaN", "unexpected character");
	refused("'a'", "unexpected character");
	refused("\"\xff\"", "invalid UTF-8");
	refused("\"\xc3\"", "invalid UTF-8");
	/* a NUL byte inside the text */
	{
		char *err = NULL;
		struct cli_json *v = cli_json_parse("{\"a\":\"b\0c\"}", 11, &err);

		CHECK(v == NULL);
		CHECK_HAS(err, "NUL");
		cli_json_free(v);
		g_free(err);
	}
	/* CLI_JSON_MAX_DEPTH nested arrays are fine, one more is not */
	for (i = 0; i < CLI_JSON_MAX_DEPTH; i++)
		deep[i] = '[';
	for (i = 0; i < CLI_JSON_MAX_DEPTH; i++)
		deep[CLI_JSON_MAX_DEPTH + i] = ']';
	deep[2 * CLI_JSON_MAX_DEPTH] = '\0';
	{
		struct cli_json *v = parse(deep);

		CHECK(v != NULL);
		cli_json_free(v);
	}
	memmove(deep + 1, deep, strlen(deep) + 1);
	deep[0] = '[';
	strcat(deep, "]");
	refused(deep, "nested too deeply");
	/* the error names where */
	refused("{\"lun\":\"a\",\"phase\":x}", "at byte 19");
}

static void accessors_on_non_objects(void)
{
	struct cli_json *v = parse("[1,2]");
	uint64_t n;
	bool b;

	CHECK(cli_json_get(v, "a") == NULL);
	CHECK(cli_json_get(NULL, "a") == NULL);
	CHECK(!cli_json_get_u64(v, "a", &n));
	CHECK(!cli_json_get_bool(v, "a", &b));
	CHECK_EQ(cli_json_count(v), 2);
	CHECK_EQ(cli_json_count(NULL), 0);
	cli_json_free(v);
	cli_json_free(NULL);
}

void json_test(void)
{
	status_answer();
	list_and_errors();
	strings();
	numbers();
	refusals();
	accessors_on_non_objects();
}
