/* fuzz_conf.c - libFuzzer target for the configuration parser: the input is a file,
 * fed line by line as conf_load_file does, then dumped and parsed again (the dump of a
 * valid configuration must always read back identically). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse_text(const char *text, size_t len, struct gw_conf *c)
{
	struct conf_reader r;
	char line[2048];
	size_t i = 0;

	conf_read_init(&r, c, "fuzz.conf");
	while (i < len) {
		size_t n = 0;

		while (i < len && text[i] != '\n') {
			if (n < sizeof(line) - 1)
				line[n++] = text[i];
			i++;
		}
		i++;
		line[n] = '\0';
		if (conf_read_line(&r, line) < 0)
			return -1;
	}
	return conf_read_finish(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gw_conf a, b;
	char *dump = NULL;
	size_t dlen = 0;
	FILE *f;

	if (memchr(data, 0, size))
		return 0;
	if (parse_text((const char *)data, size, &a) < 0)
		return 0;
	f = open_memstream(&dump, &dlen);
	if (!f)
		return 0;
	conf_dump(&a, f);
	fclose(f);
	if (parse_text(dump, dlen, &b) < 0)
		abort();
	/* Line numbers differ between a file and its dump; everything else must not. */
	for (unsigned i = 0; i < CONF_MAX_ENCAP; i++)
		a.encap[i].line = b.encap[i].line = 0;
	for (unsigned i = 0; i < CONF_MAX_FORWARD; i++)
		a.forward[i].line = b.forward[i].line = 0;
	for (unsigned i = 0; i < CONF_MAX_RELAY; i++)
		a.relay[i].line = b.relay[i].line = 0;
	if (memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	free(dump);
	return 0;
}
