/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a guest's PCI code does, on the fake machine: configuration cycles
 * through mechanism #1 (0xcf8/0xcfc, bus 0, function 0) and Linux's walk of
 * the capabilities list.
 */
#ifndef QLITE_TEST_PCI_GUEST_H
#define QLITE_TEST_PCI_GUEST_H

#include <stdint.h>

#include "fake_machine.h"

uint32_t pci_guest_cfg_read(struct fake_machine *fm, unsigned slot, unsigned reg, unsigned len);
void pci_guest_cfg_write(struct fake_machine *fm, unsigned slot, unsigned reg, unsigned len,
			 uint32_t val);
/*
 * Linux's pci_find_next_capability(): the first capability id after the one
 * at pos (0: from the list's start), or 0.
 */
unsigned pci_guest_find_cap(struct fake_machine *fm, unsigned slot, uint8_t id, unsigned pos);

#endif
