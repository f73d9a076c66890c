/* The version-neutral CNI result: memory, builders and address text helpers. */
#include "cni/cni.h"
#include "cni/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void free_strings(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void cni_result_free(struct cni_result *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->n_interfaces; i++) {
		struct cni_interface *intf = &res->interfaces[i];
		free(intf->name);
		free(intf->mac);
		free(intf->sandbox);
		free(intf->socket_path);
		free(intf->pci_id);
	}
	free(res->interfaces);
	free(res->ips);
	free(res->routes);
	free(res->dns.domain);
	free_strings(res->dns.nameservers, res->dns.n_nameservers);
	free_strings(res->dns.search, res->dns.n_search);
	free_strings(res->dns.options, res->dns.n_options);
	memset(res, 0, sizeof(*res));
}

int cni_parse_ip(const char *text, unsigned char bytes[16], int *family)
{
	if (inet_pton(AF_INET, text, bytes) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, bytes) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

int cni_canonical_ip(const char *text, char out[INET6_ADDRSTRLEN], int *family)
{
	unsigned char bytes[16];
	int fam;
	if (cni_parse_ip(text, bytes, &fam) < 0)
		return -EINVAL;
	inet_ntop(fam, bytes, out, INET6_ADDRSTRLEN);
	if (family)
		*family = fam;
	return 0;
}

int cni_canonical_cidr(const char *text, char out[CNI_CIDR_MAX], int *family)
{
	const char *slash = strchr(text, '/');
	if (!slash || slash == text || (size_t)(slash - text) >= INET6_ADDRSTRLEN)
		return -EINVAL;
	char addr[INET6_ADDRSTRLEN];
	memcpy(addr, text, (size_t)(slash - text));
	addr[slash - text] = '\0';
	char canon[INET6_ADDRSTRLEN];
	int fam;
	if (cni_canonical_ip(addr, canon, &fam) < 0)
		return -EINVAL;
	/* Go's ParseCIDR: 1-3 decimal digits, at most the address length. */
	const char *p = slash + 1;
	size_t digits = strspn(p, "0123456789");
	if (digits == 0 || digits > 3 || p[digits] != '\0')
		return -EINVAL;
	unsigned prefix = (unsigned)atoi(p);
	if (prefix > (fam == AF_INET ? 32u : 128u))
		return -EINVAL;
	/* canon is shorter than INET6_ADDRSTRLEN and the prefix at most 3 digits: fits. */
	snprintf(out, CNI_CIDR_MAX, "%.*s/%u", INET6_ADDRSTRLEN - 1, canon, prefix & 0xffu);
	if (family)
		*family = fam;
	return 0;
}

int cni_cidr_address(const char *cidr, char out[INET6_ADDRSTRLEN])
{
	char canon[CNI_CIDR_MAX];
	if (cni_canonical_cidr(cidr, canon, NULL) < 0)
		return -EINVAL;
	*strchr(canon, '/') = '\0';
	memcpy(out, canon, strlen(canon) + 1);
	return 0;
}

void *cni_grow_array(void *array, size_t *count, size_t elem_size)
{
	void *grown = realloc(array, (*count + 1) * elem_size);
	if (!grown)
		return NULL;
	memset((char *)grown + *count * elem_size, 0, elem_size);
	(*count)++;
	return grown;
}

static char *dup_or_null(const char *text)
{
	return text ? strdup(text) : NULL;
}

int cni_result_add_interface(struct cni_result *res, const char *name, const char *mac,
			     const char *sandbox)
{
	size_t n = res->n_interfaces;
	struct cni_interface *grown = cni_grow_array(res->interfaces, &n, sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	res->interfaces = grown;
	res->n_interfaces = n;
	struct cni_interface *intf = &grown[n - 1];
	intf->name = strdup(name ? name : "");
	intf->mac = dup_or_null(mac);
	intf->sandbox = dup_or_null(sandbox);
	if (!intf->name || (mac && !intf->mac) || (sandbox && !intf->sandbox))
		return -ENOMEM;
	return (int)(n - 1);
}

int cni_result_add_ip(struct cni_result *res, const char *cidr, const char *gateway, int interface)
{
	struct cni_ip ip = {0};
	if (cni_canonical_cidr(cidr, ip.address, &ip.family) < 0)
		return -EINVAL;
	if (gateway && gateway[0] && cni_canonical_ip(gateway, ip.gateway, NULL) < 0)
		return -EINVAL;
	ip.has_interface = interface >= 0;
	ip.interface = interface;
	size_t n = res->n_ips;
	struct cni_ip *grown = cni_grow_array(res->ips, &n, sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	res->ips = grown;
	res->n_ips = n;
	grown[n - 1] = ip;
	return (int)(n - 1);
}
