/* CNI_ARGS: any text up to the first NUL. */
#include "cni/cni.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct cni_args args;
	struct cni_error err;
	cni_args_parse(text, &args, &err);
	cni_args_free(&args);
	cni_validate_container_id(text, &err);
	cni_validate_ifname(text, &err);
	int parts[3];
	cni_version_parse(text, parts, &err);
	free(text);
	return 0;
}
