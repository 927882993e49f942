// SPDX-License-Identifier: GPL-2.0-only
/*
 * Stand-ins for the virtio transports while they are written on other
 * branches (src/virtio/pci.c, src/virtio/mmio.c). This file goes at the
 * merge, with the prototypes at the end of virtio_blk.h; until then a
 * device line that needs a transport says which one is missing.
 */
#include <errno.h>

#include "qlite/util.h"
#include "qlite/virtio.h"
#include "qlite/virtio_blk.h"

int virtio_pci_attach(struct machine *m, struct virtio_device *vdev,
		      const struct virtio_transport_opts *opts)
{
	return report(-ENOSYS, "%s: transport pci: virtio-pci is not in this build yet",
		      vdev->info->name);
}

int virtio_mmio_attach(struct machine *m, struct virtio_device *vdev,
		       const struct virtio_transport_opts *opts)
{
	return report(-ENOSYS, "%s: transport mmio: virtio-mmio is not in this build yet",
		      vdev->info->name);
}
