/* stats.c - names of the counters, stable for sctpgwctl and its JSON. */
#include "stats.h"

static const char *const drop_names[DROP_COUNT] = {
	[DROP_OUT_MALFORMED] = "out_malformed",
	[DROP_OUT_BAD_CRC] = "out_bad_checksum",
	[DROP_OUT_NO_ASSOC] = "out_no_association",
	[DROP_OUT_TABLE_FULL] = "out_table_full",
	[DROP_OUT_SEND] = "out_send_error",
	[DROP_OUT_TOO_BIG] = "out_too_big",
	[DROP_IN_SHORT] = "in_short",
	[DROP_IN_MALFORMED] = "in_malformed",
	[DROP_IN_BAD_CRC] = "in_bad_checksum",
	[DROP_IN_NO_ASSOC] = "in_no_association",
	[DROP_IN_NO_FORWARD] = "in_no_forward_rule",
	[DROP_IN_TABLE_FULL] = "in_table_full",
	[DROP_IN_INJECT] = "in_inject_error",
	[DROP_IN_UNVERIFIED] = "in_unverified_checksum",
	[DROP_IN_INIT_PORT_CHANGE] = "in_init_port_change",
	[DROP_OUT_UNVERIFIED] = "out_unverified_checksum",
	[DROP_IN_FAMILY] = "in_family_mismatch",
	[DROP_OUT_NO_PORT] = "out_no_free_port",
	[DROP_IN_INIT_RATE] = "in_init_rate_limited",
	[DROP_IN_TAG_COLLISION] = "in_tag_collision",
	[DROP_ICMP_UNVERIFIED] = "icmp_unverified",
	[DROP_ICMP_IGNORED] = "icmp_not_translated",
	[DROP_ICMP_RATE] = "icmp_rate_limited",
	[DROP_ICMP_SEND] = "icmp_send_error",
	[DROP_RELAY_NOT_INTERNAL] = "relay_not_internal",
	[DROP_RELAY_RECV_ERROR] = "relay_receive_error",
	[DROP_IN_TOO_BIG] = "in_too_big",
};

const char *stats_drop_name(enum gw_drop d)
{
	return (unsigned)d < DROP_COUNT ? drop_names[d] : "unknown";
}
