// SPDX-License-Identifier: GPL-2.0-only
/*
 * Layer 2: the kernel's own counters through KVM_GET_STATS_FD (binary
 * stats, Linux 5.14+). Descriptors are read once; values are re-read from
 * the data block on every report. Whatever the running kernel offers is
 * reported, under its own names: never a hard-coded list.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "qlite/stats.h"

int kvm_binary_stats_open(struct kvm_binary_stats *s, int ioctl_fd, char *err, size_t errlen)
{
	struct kvm_stats_header hdr;
	size_t dsize;
	uint8_t *descs = NULL;
	int ret;

	memset(s, 0, sizeof(*s));
	s->fd = ioctl(ioctl_fd, KVM_GET_STATS_FD, NULL);
	if (s->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "KVM_GET_STATS_FD: %s", strerror(errno));
		return ret;
	}
	if (pread(s->fd, &hdr, sizeof(hdr), 0) != sizeof(hdr) || !hdr.num_desc ||
	    hdr.num_desc > 4096 || hdr.name_size > 4096) {
		snprintf(err, errlen, "KVM stats: unreadable header");
		goto err;
	}
	if (hdr.id_offset)
		pread(s->fd, s->id, sizeof(s->id) - 1, hdr.id_offset);
	dsize = sizeof(struct kvm_stats_desc) + hdr.name_size;
	descs = malloc(dsize * hdr.num_desc);
	s->name = calloc(hdr.num_desc, sizeof(*s->name));
	s->flags = calloc(hdr.num_desc, sizeof(*s->flags));
	s->exponent = calloc(hdr.num_desc, sizeof(*s->exponent));
	s->offset = calloc(hdr.num_desc, sizeof(*s->offset));
	s->size = calloc(hdr.num_desc, sizeof(*s->size));
	if (!descs || !s->name || !s->flags || !s->exponent || !s->offset || !s->size) {
		snprintf(err, errlen, "KVM stats: out of memory");
		goto err;
	}
	if (pread(s->fd, descs, dsize * hdr.num_desc, hdr.desc_offset) != (ssize_t)(dsize * hdr.num_desc)) {
		snprintf(err, errlen, "KVM stats: unreadable descriptors");
		goto err;
	}
	for (unsigned i = 0; i < hdr.num_desc; i++) {
		struct kvm_stats_desc *d = (struct kvm_stats_desc *)(descs + i * dsize);
		size_t end = (size_t)d->offset + (size_t)d->size * 8;

		snprintf(s->name[i], sizeof(s->name[i]), "%.*s", (int)hdr.name_size, d->name);
		s->flags[i] = d->flags;
		s->exponent[i] = d->exponent;
		s->offset[i] = d->offset;
		s->size[i] = d->size;
		if (end > s->data_size)
			s->data_size = end;
	}
	s->nr = hdr.num_desc;
	s->data_offset = hdr.data_offset;
	free(descs);
	descs = NULL;
	s->base = calloc(1, s->data_size);
	s->now = calloc(1, s->data_size);
	if (!s->base || !s->now || kvm_binary_stats_read(s) < 0) {
		snprintf(err, errlen, "KVM stats: cannot read values");
		goto err;
	}
	memcpy(s->base, s->now, s->data_size);
	return 0;
err:
	free(descs);
	kvm_binary_stats_close(s);
	return -EIO;
}

int kvm_binary_stats_read(struct kvm_binary_stats *s)
{
	if (s->fd < 0)
		return -EBADF;
	if (pread(s->fd, s->now, s->data_size, s->data_offset) != (ssize_t)s->data_size)
		return -EIO;
	return 0;
}

bool kvm_binary_stats_value(const struct kvm_binary_stats *s, unsigned i, uint64_t *v)
{
	uint32_t type = s->flags[i] & KVM_STATS_TYPE_MASK;
	unsigned at = s->offset[i] / 8;

	if (s->size[i] != 1)
		return false;	/* histograms: not reported as single values */
	if (type == KVM_STATS_TYPE_CUMULATIVE)
		*v = s->now[at] - s->base[at];
	else if (type == KVM_STATS_TYPE_INSTANT || type == KVM_STATS_TYPE_PEAK)
		*v = s->now[at];
	else
		return false;
	return true;
}

void kvm_binary_stats_close(struct kvm_binary_stats *s)
{
	if (s->fd > 0)
		close(s->fd);
	free(s->name);
	free(s->flags);
	free(s->exponent);
	free(s->offset);
	free(s->size);
	free(s->base);
	free(s->now);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}
