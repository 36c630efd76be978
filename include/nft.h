/* nft.h - the daemon's own nftables table, and nothing else: all netlink to nftables
 * lives in nft.c. Installed and removed as one atomic batch each (libnftnl + libmnl). */
#ifndef SCTPGW_NFT_H
#define SCTPGW_NFT_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

#define NFT_TABLE_NAME "sctp_udp_gw"

enum nft_queue_kind {
	NFT_QUEUE_NATIVE,    /* the nft "queue" expression */
	NFT_QUEUE_XT_COMPAT, /* xtables NFQUEUE target (rev 3) through nft_compat */
	NFT_QUEUE_NONE       /* the configuration queues nothing (relay rules, raw ingest) */
};
const char *nft_queue_kind_name(enum nft_queue_kind k);

/*
 * Install (or replace, in the same batch) table inet sctp_udp_gw. Its chains queue to
 * conf->queue_num SCTP packets whose mark is not conf->mark: forward_sctp (forward hook)
 * those from an internal network, output_sctp (output hook, host mode) those this host
 * sends, input_sctp (input hook; only with relay_queue) those to a relay port. Tries the
 * native queue expression first and falls back to the xtables target. 0 on success
 * (*used says which), -1 with err set.
 */
int nft_install(const struct gw_conf *conf, bool relay_queue, enum nft_queue_kind *used, char *err,
		size_t errlen);
/* Delete the table if it exists. 0 on success (also when it did not exist), -1 with err. */
int nft_remove(char *err, size_t errlen);

#endif
