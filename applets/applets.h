/* The applets of the coil multi-call binary: one file each, one main each.
 * cmd/coil.c holds the table that maps names and upstream aliases to these. */
#ifndef COIL_APPLETS_H
#define COIL_APPLETS_H

int cni_main(int argc, char **argv);
int daemon_main(int argc, char **argv);
int ipam_controller_main(int argc, char **argv);
int egress_controller_main(int argc, char **argv);
int egress_main(int argc, char **argv);
int router_main(int argc, char **argv);
int install_main(int argc, char **argv);
int migrate_main(int argc, char **argv);
int doctor_main(int argc, char **argv);

/* For applets a later issue builds: answers --help/-h with usage and --version with
 * "<program> version <v>" (program: upstream's name), otherwise says "not implemented yet"
 * on stderr and returns 1. Never a fake success. */
int applet_not_implemented(const char *name, const char *program, const char *usage, int argc,
			   char **argv);

/* True when argv holds -h or --help. */
int applet_wants_help(int argc, char **argv);

#endif
