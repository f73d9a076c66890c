/* libFuzzer: Secret data from the API server (base64 then PEM) through the assessment. The
 * input is split at NUL bytes into up to four base64 fields (ca.crt, ca.key, tls.crt,
 * tls.key). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "certrotate/certrotate.h"
#include "base64/base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), why[256];
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct certrotate_pems pems = {0};
	char **slots[4] = {&pems.ca_crt, &pems.ca_key, &pems.tls_crt, &pems.tls_key};
	const char *field = text;
	for (int i = 0; i < 4 && field <= text + size; i++) {
		size_t len;
		base64_decode(field, slots[i], &len);
		field += strlen(field) + 1;
	}
	certrotate_assess(&CERTROTATE_IPAM, &pems, 1700000000, why, sizeof(why));
	certrotate_pems_clear(&pems);
	free(text);
	return 0;
}
