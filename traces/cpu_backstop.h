/* cpu_backstop: the last stop of a scenario's limits.
 *
 * Owns a process CPU timer (ITIMER_PROF) for what Lua's count hook cannot
 * interrupt: one C call that runs for hours (a backtracking string pattern,
 * an API call past the CPU limit), and Lua code that runs with hooks off
 * after a limit was passed (an xpcall message handler, a __close method of
 * a coroutine being reset).  When it fires, the handler writes the message
 * given when armed, removes the run's staged files (and an output folder
 * the run created for them) and ends the process
 * with status 2 (it cannot return into the stuck code); in the fuzzing
 * build it aborts, so that libFuzzer keeps the input. */
#ifndef CS_CPU_BACKSTOP_H
#define CS_CPU_BACKSTOP_H

/* Seconds of CPU past a scenario's limit before the timer fires: the
 * limit's own checks (each API call, every 10,000 instructions, some 50 us
 * of Lua) stop a scenario first, with its file and line, whenever they can. */
#define CPU_BACKSTOP_GRACE_S 1.0

/* Fires after cpu_s more seconds of the process's CPU (every thread's);
 * arming again replaces the deadline and the message. */
void cpu_backstop_arm(double cpu_s, const char *message);
/* Stops the timer and puts back the SIGPROF handler found when armed. */
void cpu_backstop_disarm(void);

#endif
