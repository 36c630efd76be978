/* stat_names.h - every statistic `show stats` sends, in its order: the wire, which
 * operators' scripts read. test_ctlreply checks the daemon sends exactly these;
 * tests/ctl renders them. A new counter goes here too, on purpose. */
#ifndef SCTPGW_TESTS_STAT_NAMES_H
#define SCTPGW_TESTS_STAT_NAMES_H

#define STAT_WIRE_NAMES                                                                            \
	"out_packets", "out_bytes", "in_packets", "in_bytes", "out_accepted",                      \
		"drop_out_malformed", "drop_out_bad_checksum", "drop_out_no_association",          \
		"drop_out_table_full", "drop_out_send_error", "drop_out_too_big", "drop_in_short", \
		"drop_in_malformed", "drop_in_bad_checksum", "drop_in_no_association",             \
		"drop_in_no_forward_rule", "drop_in_table_full", "drop_in_inject_error",           \
		"drop_in_unverified_checksum", "drop_in_init_port_change",                         \
		"drop_out_unverified_checksum", "drop_in_family_mismatch",                         \
		"drop_out_no_free_port", "drop_in_init_rate_limited", "drop_in_tag_collision",     \
		"drop_icmp_unverified", "drop_icmp_not_translated", "drop_icmp_rate_limited",      \
		"drop_icmp_send_error", "drop_relay_not_internal", "drop_relay_receive_error",     \
		"drop_in_too_big", "drop_in_keepalive_forged", "drop_in_keepalive_stale",          \
		"drop_in_keepalive_replayed", "drop_out_unlisted_address", "associations_active",  \
		"associations_capacity", "associations_created", "associations_expired",           \
		"associations_closed", "port_changes", "aborts_sent", "addr_params_removed",       \
		"ports_translated", "control_refused", "associations_relearned", "queue_enobufs",  \
		"queue_waiting", "queue_kernel_dropped_full", "queue_kernel_dropped_delivery",     \
		"queue_batch_verdicts", "queue_single_verdicts", "icmp_received", "icmp_sent",     \
		"relay_ingested", "keepalives_sent", "keepalives_answered", "relay_no_rule",       \
		"workers", "uptime_seconds",

#endif
