/* One way to sleep until something happens or a deadline passes: a mutex, a condition
 * variable on CLOCK_MONOTONIC (so a step of the wall clock neither shortens nor stretches a
 * wait) and a stop flag. Deadlines are monotonic milliseconds from wake_now_ms().
 *
 * The mutex is the owner's lock: a structure embeds a struct wake and guards its own fields
 * with wake_lock()/wake_unlock(), so "check the condition, then wait" happens under one lock
 * and no wake-up is lost. */
#ifndef COIL_WAKE_H
#define COIL_WAKE_H

#include <pthread.h>
#include <stdbool.h>

#define WAKE_NEVER (-1L) /* a deadline that never passes */

struct wake {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* on CLOCK_MONOTONIC */
	bool stopped;	     /* set once by wake_stop(); guarded by lock */
};

/* Returns 0 or a negative errno (then nothing is left to destroy). */
int wake_init(struct wake *w);
void wake_destroy(struct wake *w);

/* Milliseconds on CLOCK_MONOTONIC, and that clock ms from now (WAKE_NEVER when ms < 0). */
long wake_now_ms(void);
long wake_deadline_after(long ms);

void wake_lock(struct wake *w);
void wake_unlock(struct wake *w);

/* With the lock held: sleeps until woken or the deadline (WAKE_NEVER: no deadline). Returns
 * false once the deadline has passed, true otherwise (woken, stopped or spuriously: the
 * caller re-checks its condition in a loop). */
bool wake_wait_until_locked(struct wake *w, long deadline_ms);

/* With the lock held: wakes every waiter, or one. */
void wake_notify_locked(struct wake *w);
void wake_notify_one_locked(struct wake *w);

/* Takes the lock and wakes every waiter. */
void wake_notify(struct wake *w);

/* Sets the stop flag for good and wakes every waiter. */
void wake_stop(struct wake *w);
bool wake_stopped(struct wake *w);

/* Sleeps ms (or until stopped). Returns true when stopped. */
bool wake_sleep(struct wake *w, long ms);

#endif
