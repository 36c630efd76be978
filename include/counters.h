/* counters.h - every statistic of `show stats`, in the order the daemon sends them: its
 * wire name, its Prometheus type and help text, where its value comes from. One list
 * (an X-macro) read by the daemon (enum gw_drop, stats_drop_name, the check on struct
 * gw_stats), the reply builder (ctlreply.c) and sctpgwctl's Prometheus output.
 *
 *   STAT(field, name, type, help)  member of struct gw_stats, summed over the workers
 *   DROPS()                        every drop reason, as "drop_<name>" (GW_DROPS below)
 *   VALUE(field, name, type, help) a value of the moment, member of struct ctlreply_view
 *
 * A new counter: its member in struct gw_stats and one STAT line (stats.h's static
 * assertion fails until both are there). A new drop reason: one GW_DROPS line. */
#ifndef SCTPGW_COUNTERS_H
#define SCTPGW_COUNTERS_H

enum counter_type {
	COUNTER_COUNTER, /* only grows: Prometheus "counter", with a _total suffix */
	COUNTER_GAUGE,   /* goes up and down */
};

#define GW_COUNTERS(STAT, DROPS, VALUE)                                                         \
	STAT(out_pkts, "out_packets", COUNTER_COUNTER,                                          \
	     "SCTP packets encapsulated and sent over UDP.")                                    \
	STAT(out_bytes, "out_bytes", COUNTER_COUNTER,                                           \
	     "SCTP bytes encapsulated and sent over UDP.")                                      \
	STAT(in_pkts, "in_packets", COUNTER_COUNTER, "SCTP packets decapsulated and injected.") \
	STAT(in_bytes, "in_bytes", COUNTER_COUNTER, "SCTP bytes decapsulated and injected.")    \
	STAT(out_accepted, "out_accepted", COUNTER_COUNTER,                                     \
	     "Queued packets not for the gateway, accepted unchanged.")                         \
	/* drops right after the traffic counters, as operators read them */                    \
	DROPS()                                                                                 \
	VALUE(associations_active, "associations_active", COUNTER_GAUGE,                        \
	      "Associations in the table.")                                                     \
	VALUE(associations_capacity, "associations_capacity", COUNTER_GAUGE,                    \
	      "Maximum number of associations.")                                                \
	STAT(assoc_created, "associations_created", COUNTER_COUNTER, "Associations created.")   \
	STAT(assoc_expired, "associations_expired", COUNTER_COUNTER,                            \
	     "Associations removed after their idle timeout.")                                  \
	STAT(assoc_closed, "associations_closed", COUNTER_COUNTER,                              \
	     "Associations closed by ABORT or SHUTDOWN-COMPLETE.")                              \
	STAT(port_changes, "port_changes", COUNTER_COUNTER,                                     \
	     "Learned remote UDP ports that changed.")                                          \
	STAT(aborts_sent, "aborts_sent", COUNTER_COUNTER,                                       \
	     "ABORTs sent for out-of-the-blue packets.")                                        \
	STAT(addr_params_removed, "addr_params_removed", COUNTER_COUNTER,                       \
	     "Address parameters removed from INIT / INIT-ACK.")                                \
	STAT(ports_translated, "ports_translated", COUNTER_COUNTER,                             \
	     "Associations given another source port to avoid a collision.")                    \
	VALUE(control_refused, "control_refused", COUNTER_COUNTER,                              \
	      "Control requests refused: the client may not change the daemon.")                \
	STAT(assoc_relearned, "associations_relearned", COUNTER_COUNTER,                        \
	     "Associations rebuilt from mid-association traffic (after a restart).")            \
	STAT(nfq_enobufs, "queue_enobufs", COUNTER_COUNTER, "Netfilter queue overruns.")        \
	STAT(nfq_waiting, "queue_waiting", COUNTER_GAUGE,                                       \
	     "Packets waiting in the kernel queues for a verdict.")                             \
	STAT(nfq_queue_dropped, "queue_kernel_dropped_full", COUNTER_COUNTER,                   \
	     "Packets the kernel dropped because a queue was full.")                            \
	STAT(nfq_user_dropped, "queue_kernel_dropped_delivery", COUNTER_COUNTER,                \
	     "Packets the kernel dropped because delivery to the daemon failed.")               \
	STAT(nfq_batch_verdicts, "queue_batch_verdicts", COUNTER_COUNTER,                       \
	     "Batch verdict messages sent (one drops a whole batch).")                          \
	STAT(nfq_single_verdicts, "queue_single_verdicts", COUNTER_COUNTER,                     \
	     "Per-packet verdict messages sent (accepts, id wrap).")                            \
	STAT(icmp_received, "icmp_received", COUNTER_COUNTER,                                   \
	     "ICMP errors received about the gateway's datagrams.")                             \
	STAT(icmp_sent, "icmp_sent", COUNTER_COUNTER,                                           \
	     "ICMP errors sent to internal hosts (RFC 6951 5.5, path MTU).")                    \
	STAT(relay_ingested, "relay_ingested", COUNTER_COUNTER,                                 \
	     "Native SCTP packets to relay ports of the gateway itself read.")                  \
	STAT(keepalives_sent, "keepalives_sent", COUNTER_COUNTER,                               \
	     "HEARTBEATs the gateway sent on idle paths to keep NAT mappings open.")            \
	STAT(keepalives_answered, "keepalives_answered", COUNTER_COUNTER,                       \
	     "HEARTBEAT-ACKs answering the gateway's keepalives, verified and absorbed.")       \
	STAT(relay_no_rule, "relay_no_rule", COUNTER_COUNTER,                                   \
	     "Native SCTP packets to the gateway itself for a port no relay rule has, left "    \
	     "alone.")                                                                          \
	VALUE(workers, "workers", COUNTER_GAUGE, "Data-path workers (one per queue).")          \
	VALUE(uptime_seconds, "uptime_seconds", COUNTER_GAUGE, "Seconds since the daemon started.")

/* Drop reasons: X(enum, name, what was dropped). The name is stable snake_case: the wire
 * sends it as "drop_<name>"; Prometheus help is "Packets dropped: <name>.". */
#define GW_DROPS(X)                                                                                \
	X(DROP_OUT_MALFORMED, "out_malformed", "queued packet did not parse")                      \
	X(DROP_OUT_BAD_CRC, "out_bad_checksum", "queued packet with a wrong CRC32c")               \
	X(DROP_OUT_NO_ASSOC, "out_no_association",                                                 \
	  "queued non-INIT packet with no association and no rule")                                \
	X(DROP_OUT_TABLE_FULL, "out_table_full", "INIT when the table is full")                    \
	X(DROP_OUT_SEND, "out_send_error", "sendmsg on the UDP socket failed")                     \
	X(DROP_OUT_TOO_BIG, "out_too_big", "datagram would exceed 65535 / the path MTU")           \
	X(DROP_IN_SHORT, "in_short", "datagram shorter than the SCTP common header")               \
	X(DROP_IN_MALFORMED, "in_malformed", "datagram did not parse as SCTP")                     \
	X(DROP_IN_BAD_CRC, "in_bad_checksum", "datagram with a wrong CRC32c")                      \
	X(DROP_IN_NO_ASSOC, "in_no_association", "no association for its ports and tag")           \
	X(DROP_IN_NO_FORWARD, "in_no_forward_rule", "INIT with no forward rule for its port")      \
	X(DROP_IN_TABLE_FULL, "in_table_full", "INIT when the table is full")                      \
	X(DROP_IN_INJECT, "in_inject_error", "raw send failed")                                    \
	X(DROP_IN_UNVERIFIED, "in_unverified_checksum",                                            \
	  "zero checksum on a packet that would create state")                                     \
	X(DROP_IN_INIT_PORT_CHANGE, "in_init_port_change",                                         \
	  "INIT for a live association from a new UDP port")                                       \
	X(DROP_OUT_UNVERIFIED, "out_unverified_checksum",                                          \
	  "zero checksum on a queued packet that would create state")                              \
	X(DROP_IN_FAMILY, "in_family_mismatch",                                                    \
	  "peer and internal host of different address families")                                  \
	X(DROP_OUT_NO_PORT, "out_no_free_port", "port collision and no free port to translate to") \
	X(DROP_IN_INIT_RATE, "in_init_rate_limited",                                               \
	  "INIT from outside over the init-rate limits")                                           \
	X(DROP_IN_TAG_COLLISION, "in_tag_collision",                                               \
	  "INIT colliding with a live association's ports and tag")                                \
	X(DROP_ICMP_UNVERIFIED, "icmp_unverified",                                                 \
	  "ICMP error naming no association (ports, tag) or too short")                            \
	X(DROP_ICMP_IGNORED, "icmp_not_translated", "ICMP error of a type / code not translated")  \
	X(DROP_ICMP_RATE, "icmp_rate_limited",                                                     \
	  "ICMP error for an internal host over the rate limit")                                   \
	X(DROP_ICMP_SEND, "icmp_send_error", "sending an ICMP error to an internal host failed")   \
	X(DROP_RELAY_NOT_INTERNAL, "relay_not_internal",                                           \
	  "to a relay port from outside the internal networks")                                    \
	X(DROP_RELAY_RECV_ERROR, "relay_receive_error",                                            \
	  "reading the raw SCTP socket failed, or the packet was cut")                             \
	X(DROP_IN_TOO_BIG, "in_too_big", "datagram longer than the receive buffer (cut)")          \
	X(DROP_IN_KEEPALIVE_FORGED, "in_keepalive_forged",                                         \
	  "keepalive answer with the gateway's magic and a MAC that does not verify")              \
	X(DROP_IN_KEEPALIVE_STALE, "in_keepalive_stale",                                           \
	  "keepalive answer older than twice the interval, or from the future")                    \
	X(DROP_IN_KEEPALIVE_REPLAYED, "in_keepalive_replayed",                                     \
	  "keepalive answer already taken, or older than the newest one taken")                    \
	X(DROP_OUT_UNLISTED_ADDR, "out_unlisted_address",                                          \
	  "packet with an association's ports and tag from an address its host never listed")

/* Counting entries: GW_COUNTERS(COUNTER_ONE, COUNTER_NONE, COUNTER_NONE) and so on. */
#define COUNTER_ONE(...) +1
#define COUNTER_NONE(...)

#endif
