/* Internal to lib/migrate: what its files share. */
#ifndef COIL_MIGRATE_INTERNAL_H
#define COIL_MIGRATE_INTERNAL_H

/* Sleeps ms milliseconds, resumed after signals (the polls of dump and replace). */
void migrate_sleep_ms(long ms);

#endif
