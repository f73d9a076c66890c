# Certificates and kubeconfigs of the test cluster, made with openssl at `up`.
# Sourced by cluster.sh. One CA signs everything: the API server's serving
# certificate, the client certificates of every component (their subject is
# their Kubernetes identity: CN = user, O = group) and nothing else; the
# service-account tokens are signed by a separate key pair.

# pki__key OUT: a fresh P-256 key (fast to make, accepted by every component).
pki__key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

# pki_ca DIR: DIR/ca.key, DIR/ca.crt.
pki_ca() {
	local dir=$1
	pki__key "$dir/ca.key"
	openssl req -x509 -new -key "$dir/ca.key" -subj "/CN=coil-realcluster-ca" -days 3650 \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
		-out "$dir/ca.crt" 2>/dev/null
}

# pki_cert DIR NAME USAGE CN [O] [SANS]: DIR/NAME.key and DIR/NAME.crt signed
# by DIR/ca.*; USAGE is serverAuth, clientAuth or both ("serverAuth,clientAuth");
# SANS an openssl subjectAltName value ("DNS:x,IP:1.2.3.4").
pki_cert() {
	local dir=$1 name=$2 usage=$3 cn=$4 org=${5:-} sans=${6:-} subj ext
	subj="/CN=$cn"
	[[ -z $org ]] || subj="/O=$org$subj"
	ext=$(printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n' "$usage")
	[[ -z $sans ]] || ext+=$(printf '\nsubjectAltName=%s\n' "$sans")
	pki__key "$dir/$name.key"
	openssl req -new -key "$dir/$name.key" -subj "$subj" -out "$dir/$name.csr" 2>/dev/null
	openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
		-CAcreateserial -days 365 -extfile <(echo "$ext") -out "$dir/$name.crt" 2>/dev/null
	rm -f "$dir/$name.csr"
}

# pki_sa_keys DIR: the key pair that signs and verifies service-account tokens.
pki_sa_keys() {
	local dir=$1
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/sa.key" 2>/dev/null
	openssl pkey -in "$dir/sa.key" -pubout -out "$dir/sa.pub"
}

# pki_kubeconfig OUT SERVER CA CERT KEY: a kubeconfig for one identity.
pki_kubeconfig() {
	local out=$1 server=$2 ca=$3 cert=$4 key=$5
	cat >"$out" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: realcluster
  cluster:
    server: $server
    certificate-authority: $ca
users:
- name: user
  user:
    client-certificate: $cert
    client-key: $key
contexts:
- name: realcluster
  context:
    cluster: realcluster
    user: user
current-context: realcluster
EOF
}
