/* SPDX-License-Identifier: Apache-2.0 */
/* A strict recursive-descent JSON reader and a compact writer (see json.h). */
#include "json.h"

#include <string.h>

struct parser {
	const char *s;
	size_t len;
	size_t pos;
	int depth;
	char *err; /* the first error, g_malloc'd */
};

static struct cli_json *parse_value(struct parser *p);

static bool fail(struct parser *p, const char *what)
{
	if (!p->err)
		p->err = g_strdup_printf("%s at byte %zu", what, p->pos);
	return false;
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
				   p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static int peek(const struct parser *p)
{
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static bool literal(struct parser *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n))
		return fail(p, "unexpected character");
	p->pos += n;
	return true;
}

static int hex4(struct parser *p)
{
	int v = 0;

	if (p->len - p->pos < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int d = g_ascii_xdigit_value(p->s[p->pos + i]);

		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	p->pos += 4;
	return v;
}

/* After a backslash and 'u': one code point, or a surrogate pair as two escapes. */
static bool unicode_escape(struct parser *p, GString *out)
{
	int hi = hex4(p), lo;
	gunichar c;

	if (hi < 0)
		return fail(p, "malformed \\u escape");
	if (hi >= 0xDC00 && hi <= 0xDFFF)
		return fail(p, "lone low surrogate in \\u escape");
	c = hi;
	if (hi >= 0xD800 && hi <= 0xDBFF) {
		if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
			return fail(p, "high surrogate without its low surrogate");
		p->pos += 2;
		lo = hex4(p);
		if (lo < 0xDC00 || lo > 0xDFFF)
			return fail(p, "high surrogate without its low surrogate");
		c = 0x10000 + (((gunichar)hi - 0xD800) << 10) + ((gunichar)lo - 0xDC00);
	}
	if (c == 0)
		return fail(p, "\\u0000 in a string");
	g_string_append_unichar(out, c);
	return true;
}

/* A string literal at p->pos (the opening quote); returns the decoded text or NULL. */
static char *parse_string(struct parser *p)
{
	GString *out = g_string_new(NULL);
	int c;

	p->pos++; /* the opening quote */
	for (;;) {
		c = peek(p);
		if (c < 0) {
			fail(p, "unterminated string");
			goto free_out;
		}
		p->pos++;
		if (c == '"')
			break;
		if (c < 0x20) {
			p->pos--;
			fail(p, "control character in a string");
			goto free_out;
		}
		if (c != '\\') {
			g_string_append_c(out, (char)c);
			continue;
		}
		c = peek(p);
		p->pos++;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			g_string_append_c(out, (char)c);
			break;
		case 'b':
			g_string_append_c(out, '\b');
			break;
		case 'f':
			g_string_append_c(out, '\f');
			break;
		case 'n':
			g_string_append_c(out, '\n');
			break;
		case 'r':
			g_string_append_c(out, '\r');
			break;
		case 't':
			g_string_append_c(out, '\t');
			break;
		case 'u':
			if (!unicode_escape(p, out))
				goto free_out;
			break;
		default:
			p->pos--;
			fail(p, "unknown escape in a string");
			goto free_out;
		}
	}
	return g_string_free(out, FALSE);

free_out:
	g_string_free(out, TRUE);
	return NULL;
}

static bool digits(struct parser *p)
{
	size_t start = p->pos;

	while (g_ascii_isdigit(peek(p)))
		p->pos++;
	return p->pos > start;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool parse_number(struct parser *p, struct cli_json *v)
{
	size_t start = p->pos;

	if (peek(p) == '-')
		p->pos++;
	if (peek(p) == '0') {
		p->pos++;
		if (g_ascii_isdigit(peek(p)))
			return fail(p, "leading zero in a number");
	} else if (!digits(p)) {
		return fail(p, "malformed number");
	}
	if (peek(p) == '.') {
		p->pos++;
		if (!digits(p))
			return fail(p, "malformed number");
	}
	if (peek(p) == 'e' || peek(p) == 'E') {
		p->pos++;
		if (peek(p) == '+' || peek(p) == '-')
			p->pos++;
		if (!digits(p))
			return fail(p, "malformed number");
	}
	v->str = g_strndup(p->s + start, p->pos - start);
	v->number = g_ascii_strtod(v->str, NULL);
	return true;
}

static bool has_key(const struct cli_json *first, const char *key)
{
	for (; first; first = first->next)
		if (!strcmp(first->key, key))
			return true;
	return false;
}

/* An array (close ']') or object (close '}') at p->pos, its opening bracket. */
static bool parse_container(struct parser *p, struct cli_json *v, char close)
{
	struct cli_json **tail = &v->child, *elem;
	char *key = NULL;

	if (++p->depth > CLI_JSON_MAX_DEPTH)
		return fail(p, "nested too deeply");
	p->pos++;
	skip_ws(p);
	if (peek(p) == close) {
		p->pos++;
		p->depth--;
		return true;
	}
	for (;;) {
		skip_ws(p);
		if (close == '}') {
			if (peek(p) != '"')
				return fail(p, "expected a member name");
			key = parse_string(p);
			if (!key)
				return false;
			if (has_key(v->child, key)) {
				g_free(key);
				return fail(p, "duplicate member name");
			}
			skip_ws(p);
			if (peek(p) != ':') {
				g_free(key);
				return fail(p, "expected ':'");
			}
			p->pos++;
		}
		elem = parse_value(p);
		if (!elem) {
			g_free(key);
			return false;
		}
		elem->key = key;
		key = NULL;
		*tail = elem;
		tail = &elem->next;
		skip_ws(p);
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p) == close) {
			p->pos++;
			p->depth--;
			return true;
		}
		return fail(p, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static struct cli_json *parse_value(struct parser *p)
{
	struct cli_json *v = g_new0(struct cli_json, 1);
	bool ok;

	skip_ws(p);
	switch (peek(p)) {
	case '{':
		v->type = CLI_JSON_OBJECT;
		ok = parse_container(p, v, '}');
		break;
	case '[':
		v->type = CLI_JSON_ARRAY;
		ok = parse_container(p, v, ']');
		break;
	case '"':
		v->type = CLI_JSON_STRING;
		v->str = parse_string(p);
		ok = v->str != NULL;
		break;
	case 't':
		v->type = CLI_JSON_BOOL;
		v->boolean = true;
		ok = literal(p, "true");
		break;
	case 'f':
		v->type = CLI_JSON_BOOL;
		ok = literal(p, "false");
		break;
	case 'n':
		v->type = CLI_JSON_NULL;
		ok = literal(p, "null");
		break;
	case -1:
		ok = fail(p, "unexpected end of text");
		break;
	default:
		v->type = CLI_JSON_NUMBER;
		if (peek(p) == '-' || g_ascii_isdigit(peek(p)))
			ok = parse_number(p, v);
		else
			ok = fail(p, "unexpected character");
		break;
	}
	if (!ok) {
		cli_json_free(v);
		return NULL;
	}
	return v;
}

struct cli_json *cli_json_parse(const char *text, size_t len, char **err)
{
	struct parser p = {.s = text, .len = len};
	const char *bad;
	struct cli_json *v;

	if (!g_utf8_validate(text, len, &bad)) {
		*err = g_strdup_printf("invalid UTF-8 or a NUL byte at byte %td", bad - text);
		return NULL;
	}
	v = parse_value(&p);
	if (v) {
		skip_ws(&p);
		if (p.pos != p.len) {
			fail(&p, "text after the value");
			cli_json_free(v);
			v = NULL;
		}
	}
	if (!v)
		*err = p.err;
	return v;
}

void cli_json_free(struct cli_json *v)
{
	struct cli_json *next;

	for (; v; v = next) {
		next = v->next;
		cli_json_free(v->child);
		g_free(v->key);
		g_free(v->str);
		g_free(v);
	}
}

const struct cli_json *cli_json_get(const struct cli_json *obj, const char *key)
{
	const struct cli_json *m;

	if (!obj || obj->type != CLI_JSON_OBJECT)
		return NULL;
	for (m = obj->child; m; m = m->next)
		if (!strcmp(m->key, key))
			return m;
	return NULL;
}

const char *cli_json_get_str(const struct cli_json *obj, const char *key)
{
	const struct cli_json *m = cli_json_get(obj, key);

	return m && m->type == CLI_JSON_STRING ? m->str : NULL;
}

bool cli_json_get_u64(const struct cli_json *obj, const char *key, uint64_t *out)
{
	const struct cli_json *m = cli_json_get(obj, key);
	guint64 n;

	if (!m || m->type != CLI_JSON_NUMBER || !g_ascii_isdigit(m->str[0]) ||
	    strspn(m->str, "0123456789") != strlen(m->str))
		return false;
	if (!g_ascii_string_to_unsigned(m->str, 10, 0, G_MAXUINT64, &n, NULL))
		return false;
	*out = n;
	return true;
}

bool cli_json_get_bool(const struct cli_json *obj, const char *key, bool *out)
{
	const struct cli_json *m = cli_json_get(obj, key);

	if (!m || m->type != CLI_JSON_BOOL)
		return false;
	*out = m->boolean;
	return true;
}

size_t cli_json_count(const struct cli_json *v)
{
	size_t n = 0;

	if (v && (v->type == CLI_JSON_ARRAY || v->type == CLI_JSON_OBJECT))
		for (v = v->child; v; v = v->next)
			n++;
	return n;
}

void cli_json_write_string(GString *out, const char *s)
{
	g_string_append_c(out, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"':
			g_string_append(out, "\\\"");
			break;
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '\b':
			g_string_append(out, "\\b");
			break;
		case '\f':
			g_string_append(out, "\\f");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '\r':
			g_string_append(out, "\\r");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		default:
			if (c < 0x20)
				g_string_append_printf(out, "\\u%04x", c);
			else
				g_string_append_c(out, (char)c);
		}
	}
	g_string_append_c(out, '"');
}

void cli_json_write(GString *out, const struct cli_json *v)
{
	const struct cli_json *m;

	switch (v->type) {
	case CLI_JSON_NULL:
		g_string_append(out, "null");
		break;
	case CLI_JSON_BOOL:
		g_string_append(out, v->boolean ? "true" : "false");
		break;
	case CLI_JSON_NUMBER:
		g_string_append(out, v->str);
		break;
	case CLI_JSON_STRING:
		cli_json_write_string(out, v->str);
		break;
	case CLI_JSON_ARRAY:
	case CLI_JSON_OBJECT:
		g_string_append_c(out, v->type == CLI_JSON_ARRAY ? '[' : '{');
		for (m = v->child; m; m = m->next) {
			if (m != v->child)
				g_string_append_c(out, ',');
			if (v->type == CLI_JSON_OBJECT) {
				cli_json_write_string(out, m->key);
				g_string_append_c(out, ':');
			}
			cli_json_write(out, m);
		}
		g_string_append_c(out, v->type == CLI_JSON_ARRAY ? ']' : '}');
		break;
	}
}
