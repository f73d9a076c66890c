/* A TLS client handshake against a local server: the readiness check of the
 * webhook server, and how tests read the served certificate's serial. */
#include "tls_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define PROBE_TIMEOUT_MS 2000

static int connect_to(const char *host, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
		len = sizeof(*v4);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		len = sizeof(*v6);
	} else {
		snprintf(err, errlen, "TLS probe: %s is not a numeric address", host);
		return -EINVAL;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "TLS probe: socket: %s", strerror(errno));
		return -errno;
	}
	/* SO_SNDTIMEO also bounds connect(); SO_RCVTIMEO bounds the handshake reads. */
	struct timeval tv = {PROBE_TIMEOUT_MS / 1000, (PROBE_TIMEOUT_MS % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
		int e = errno;
		snprintf(err, errlen, "TLS probe: connect to %s port %u: %s", host, port,
			 strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

/* Serial of the peer's leaf certificate after a completed handshake. */
static int peer_serial(gnutls_session_t session, char *serial, size_t seriallen, char *err,
		       size_t errlen)
{
	unsigned n = 0;
	const gnutls_datum_t *certs = gnutls_certificate_get_peers(session, &n);
	if (!certs || n == 0 || cert_serial_hex(&certs[0], serial, seriallen) < 0) {
		snprintf(err, errlen, "TLS probe: no readable peer certificate");
		return -EPROTO;
	}
	return 0;
}

static int handshake(int fd, char *serial, size_t seriallen, char *err, size_t errlen)
{
	gnutls_session_t session = NULL;
	gnutls_certificate_credentials_t cred = NULL;
	int rc = gnutls_certificate_allocate_credentials(&cred);
	if (rc >= 0)
		rc = gnutls_init(&session, GNUTLS_CLIENT);
	if (rc >= 0)
		rc = gnutls_set_default_priority(session);
	if (rc >= 0)
		rc = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred);
	if (rc >= 0) {
		gnutls_transport_set_int(session, fd);
		gnutls_handshake_set_timeout(session, PROBE_TIMEOUT_MS);
		do
			rc = gnutls_handshake(session);
		while (rc < 0 && !gnutls_error_is_fatal(rc));
	}
	int ret = 0;
	if (rc < 0) {
		snprintf(err, errlen, "TLS probe: handshake failed: %s", gnutls_strerror(rc));
		ret = -EPROTO;
	} else if (serial) {
		ret = peer_serial(session, serial, seriallen, err, errlen);
	}
	if (session)
		gnutls_deinit(session);
	if (cred)
		gnutls_certificate_free_credentials(cred);
	return ret;
}

int webhook_tls_probe(const char *host, uint16_t port, char *serial, size_t seriallen, char *err,
		      size_t errlen)
{
	int fd = connect_to(host, port, err, errlen);
	if (fd < 0)
		return fd;
	int rc = handshake(fd, serial, seriallen, err, errlen);
	close(fd);
	return rc;
}
