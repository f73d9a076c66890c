/* libFuzzer target for the installer's parsers of outside input: the CNI_NETCONF text and
 * files found in the CNI config dir. Neither may crash or leak on any bytes. */
#include <stddef.h>
#include <stdint.h>

#include "install/install.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	const char *text = (const char *)data;
	install_validate_netconf(text, size, "10-coil.conflist", err, sizeof(err));
	install_validate_netconf(text, size, "10-coil.conf", err, sizeof(err));
	install_is_coil_conflist(text, size);
	return 0;
}
