/* The plugin's environment variables (the CNI specification's "Parameters"
 * section, libcni's skel rules)
 * and the identifier checks that go with them. */
#include "cni/cni.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define IFNAME_MAX 15 /* IFNAMSIZ - 1 */

static const char *const command_names[] = {
    [CNI_CMD_ADD] = "ADD",	   [CNI_CMD_DEL] = "DEL",	[CNI_CMD_CHECK] = "CHECK",
    [CNI_CMD_VERSION] = "VERSION", [CNI_CMD_STATUS] = "STATUS", [CNI_CMD_GC] = "GC",
};

enum cni_command cni_command_parse(const char *text)
{
	if (!text || !text[0])
		return CNI_CMD_NONE;
	for (size_t i = CNI_CMD_ADD; i <= CNI_CMD_GC; i++) {
		if (strcmp(text, command_names[i]) == 0)
			return (enum cni_command)i;
	}
	return CNI_CMD_UNKNOWN;
}

const char *cni_command_name(enum cni_command command)
{
	if (command < CNI_CMD_ADD || command > CNI_CMD_GC)
		return "";
	return command_names[command];
}

static const char *env_or_empty(const char *name)
{
	const char *value = getenv(name);
	return value ? value : "";
}

void cni_env_read(struct cni_env *env)
{
	env->command_text = env_or_empty("CNI_COMMAND");
	env->command = cni_command_parse(env->command_text);
	env->container_id = env_or_empty("CNI_CONTAINERID");
	env->netns = env_or_empty("CNI_NETNS");
	env->ifname = env_or_empty("CNI_IFNAME");
	env->args = env_or_empty("CNI_ARGS");
	env->path = env_or_empty("CNI_PATH");
	env->netns_override = env_or_empty("CNI_NETNS_OVERRIDE");
}

/* Which commands need a variable, as bit masks of enum cni_command. */
#define CMD_BIT(c)    (1u << (c))
#define ADD_CHECK_DEL (CMD_BIT(CNI_CMD_ADD) | CMD_BIT(CNI_CMD_CHECK) | CMD_BIT(CNI_CMD_DEL))

int cni_env_check_required(const struct cni_env *env, struct cni_error *err)
{
	/* The order of this table is the order of names in the message. */
	const struct {
		const char *name;
		const char *value;
		unsigned required_for;
	} vars[] = {
	    {"CNI_COMMAND", env->command_text, ~0u},
	    {"CNI_CONTAINERID", env->container_id, ADD_CHECK_DEL},
	    {"CNI_NETNS", env->netns, CMD_BIT(CNI_CMD_ADD) | CMD_BIT(CNI_CMD_CHECK)},
	    {"CNI_IFNAME", env->ifname, ADD_CHECK_DEL},
	    {"CNI_ARGS", env->args, 0},
	    {"CNI_PATH", env->path, ADD_CHECK_DEL | CMD_BIT(CNI_CMD_GC) | CMD_BIT(CNI_CMD_STATUS)},
	    {"CNI_NETNS_OVERRIDE", env->netns_override, 0},
	};
	char missing[256] = "";
	size_t used = 0;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		if (vars[i].value[0] || !(vars[i].required_for & CMD_BIT(env->command)))
			continue;
		used += (size_t)snprintf(missing + used, sizeof(missing) - used, "%s%s",
					 used ? "," : "", vars[i].name);
	}
	if (!used)
		return 0;
	return cni_error_set(err, CNI_ERR_INVALID_ENV, NULL, "required env variables [%s] missing",
			     missing);
}

static bool is_name_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return !first && (c == '_' || c == '.' || c == '-');
}

/* ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$ */
static bool matches_name_pattern(const char *text)
{
	if (!is_name_char(text[0], true))
		return false;
	for (const char *c = text + 1; *c; c++) {
		if (!is_name_char(*c, false))
			return false;
	}
	return true;
}

int cni_validate_container_id(const char *id, struct cni_error *err)
{
	if (!id[0])
		return cni_error_set(err, CNI_ERR_UNKNOWN_CONTAINER, NULL, "missing containerID");
	if (!matches_name_pattern(id))
		return cni_error_set(err, CNI_ERR_INVALID_ENV, id,
				     "invalid characters in containerID");
	return 0;
}

int cni_validate_network_name(const char *name, struct cni_error *err)
{
	if (!name[0])
		return cni_error_set(err, CNI_ERR_INVALID_NETCONF, NULL, "missing network name");
	if (!matches_name_pattern(name))
		return cni_error_set(err, CNI_ERR_INVALID_NETCONF, name,
				     "invalid characters found in network name");
	return 0;
}

/* Go's unicode.IsSpace for the code point starting at *p; advances *p. Invalid
 * UTF-8 decodes as U+FFFD (not a space), one byte at a time, as Go does. */
static bool next_is_space(const unsigned char **p)
{
	const unsigned char *s = *p;
	unsigned cp = s[0];
	size_t n = 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf && (s[1] & 0xc0) == 0x80) {
		cp = ((s[0] & 0x1fu) << 6) | (s[1] & 0x3fu);
		n = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80) {
		cp = ((s[0] & 0x0fu) << 12) | ((s[1] & 0x3fu) << 6) | (s[2] & 0x3fu);
		n = 3;
	}
	*p += n;
	if (n == 1)
		return cp == ' ' || (cp >= '\t' && cp <= '\r');
	return cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
	       cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

int cni_validate_ifname(const char *ifname, struct cni_error *err)
{
	if (!ifname[0])
		return cni_error_set(err, CNI_ERR_INVALID_ENV, NULL, "interface name is empty");
	if (strlen(ifname) > IFNAME_MAX)
		return cni_error_set(err, CNI_ERR_INVALID_ENV,
				     "interface name should be less than 16 characters",
				     "interface name is too long");
	if (strcmp(ifname, ".") == 0 || strcmp(ifname, "..") == 0)
		return cni_error_set(err, CNI_ERR_INVALID_ENV, NULL, "interface name is . or ..");
	for (const unsigned char *p = (const unsigned char *)ifname; *p;) {
		bool bad = *p == '/' || *p == ':';
		if (bad || next_is_space(&p))
			return cni_error_set(err, CNI_ERR_INVALID_ENV, NULL,
					     "interface name contains / or : or whitespace "
					     "characters");
	}
	return 0;
}

bool cni_env_netns_override(const struct cni_env *env)
{
	return strcmp(env->netns_override, "1") == 0 ||
	       strcasecmp(env->netns_override, "true") == 0;
}

int cni_netns_check(const char *netns, struct cni_error *err)
{
	struct stat own, target;
	if (!netns[0] || stat(netns, &target) < 0)
		return 0;
	if (stat("/proc/self/ns/net", &own) < 0)
		return cni_error_set(err, CNI_ERR_INVALID_NETNS, strerror(errno),
				     "get plugin's netns failed");
	if (own.st_dev == target.st_dev && own.st_ino == target.st_ino)
		return cni_error_set(err, CNI_ERR_INVALID_NETNS, NULL,
				     "plugin's netns and netns from CNI_NETNS should not be the "
				     "same");
	return 0;
}
