/* cpu_backstop: the last stop of a scenario's CPU limit.
 *
 * Owns a process CPU timer (ITIMER_PROF) for the calls Lua's count hook
 * cannot interrupt: a string pattern that backtracks for hours, one API
 * call that runs past the limit.  When it fires, the handler writes the
 * message given when armed, removes the run's staged files and ends the
 * process with status 2 (the handler cannot return into the stuck call). */
#ifndef CS_CPU_BACKSTOP_H
#define CS_CPU_BACKSTOP_H

/* Seconds of CPU past a scenario's limit before the timer fires: the
 * limit's own checks (each API call, every 10,000 instructions, some 50 us
 * of Lua) stop a scenario first, with its file and line, whenever they can. */
#define CPU_BACKSTOP_GRACE_S 1.0

/* Fires after cpu_s more seconds of the process's CPU (every thread's). */
void cpu_backstop_arm(double cpu_s, const char *message);
void cpu_backstop_disarm(void);

#endif
