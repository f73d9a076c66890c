/* The standard process_* metrics of Prometheus' Go client (its process collector), read from
 * /proc at every scrape: same names, types and units, so dashboards built for upstream work. */
#include "internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

struct process_sample {
	double cpu_seconds, start_time, virtual_bytes, resident_bytes;
	double open_fds, max_fds, virtual_max;
	bool have_stat, have_fds;
};

/* Boot time (seconds since the epoch) from /proc/stat's btime line; 0 when unknown. */
static double boot_time(void)
{
	FILE *f = fopen("/proc/stat", "r");
	char line[256];
	double btime = 0;
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "btime %lf", &btime) == 1)
			break;
	}
	if (f)
		fclose(f);
	return btime;
}

/* /proc/self/stat: fields 14-15 (utime, stime), 22 (starttime), 23 (vsize), 24 (rss). The
 * command name (field 2) may hold spaces, so parsing starts after its closing parenthesis. */
static bool read_stat(struct process_sample *s)
{
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	unsigned long long utime, stime, start, vsize;
	long long rss;
	if (!p || sscanf(p + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d "
			 "%*d %*d %llu %llu %lld",
			 &utime, &stime, &start, &vsize, &rss) != 5)
		return false;
	double tick = (double)sysconf(_SC_CLK_TCK);
	s->cpu_seconds = (double)(utime + stime) / tick;
	s->start_time = boot_time() + (double)start / tick;
	s->virtual_bytes = (double)vsize;
	s->resident_bytes = (double)rss * (double)sysconf(_SC_PAGESIZE);
	return true;
}

static bool count_fds(double *open)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return false;
	long n = 0;
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	*open = (double)(n - 1); /* without the descriptor of the listing itself */
	return true;
}

/* A soft limit as the Go client reports it: "unlimited" is the largest uint64. */
static double soft_limit(int resource)
{
	struct rlimit rl;
	if (getrlimit(resource, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return 18446744073709551615.0;
	return (double)rl.rlim_cur;
}

static void emit(FILE *out, const char *name, const char *type, const char *help, double v)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
}

void metrics_render_process(FILE *out)
{
	struct process_sample s = {0};
	s.have_stat = read_stat(&s);
	s.have_fds = count_fds(&s.open_fds);
	s.max_fds = soft_limit(RLIMIT_NOFILE);
	s.virtual_max = soft_limit(RLIMIT_AS);
	if (s.have_stat)
		emit(out, "process_cpu_seconds_total", "counter",
		     "Total user and system CPU time spent in seconds.", s.cpu_seconds);
	emit(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
	     s.max_fds);
	if (s.have_fds)
		emit(out, "process_open_fds", "gauge", "Number of open file descriptors.",
		     s.open_fds);
	if (!s.have_stat)
		return;
	emit(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
	     s.resident_bytes);
	emit(out, "process_start_time_seconds", "gauge",
	     "Start time of the process since unix epoch in seconds.", s.start_time);
	emit(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
	     s.virtual_bytes);
	emit(out, "process_virtual_memory_max_bytes", "gauge",
	     "Maximum amount of virtual memory available in bytes.", s.virtual_max);
}
