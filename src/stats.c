/* stats.c - names of the drop reasons (counters.h), stable for sctpgwctl and its JSON. */
#include "stats.h"

static const char *const drop_names[DROP_COUNT] = {
#define STATS_DROP_NAME(id, name, what) [id] = name,
	GW_DROPS(STATS_DROP_NAME)
#undef STATS_DROP_NAME
};

const char *stats_drop_name(enum gw_drop d)
{
	return (unsigned)d < DROP_COUNT ? drop_names[d] : "unknown";
}
