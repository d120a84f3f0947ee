/* lua_report: the report.* functions scenarios write their files with.
 *
 * Owns report.csv (rows as CSV through libcsv), report.table (an aligned
 * table on standard output), report.timeline, report.schedule_svg and
 * report.memory_svg (a simulate{} result's trace and pictures) and
 * report.chart (an SVG line or scatter chart).  Files go into the run's
 * report set: they appear only when the scenario succeeds. */
#ifndef CS_LUA_REPORT_H
#define CS_LUA_REPORT_H

#include <lua.h>

/* Registers the global table `report`. */
void lua_report_open(lua_State *L);

#endif
