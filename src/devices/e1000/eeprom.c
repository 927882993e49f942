// SPDX-License-Identifier: GPL-2.0-only
/*
 * The 82540EM's 64-word Microwire EEPROM: the words QEMU's e1000 has (the
 * manual's tables 5-2 and 5-3), the MAC in words 0-2, the device id in 11
 * and 13, and word 63 making the sum 0xBABA, which Linux checks.
 *
 * Two ways in: EERD (start a read, the word comes back with DONE) and the
 * bit-banged EECD that Linux's e1000 uses on this chip: with CS high, each
 * rising SK edge shifts DI in; after the 3-bit READ opcode (110b) and the
 * 6-bit address, each falling edge moves DO to the next bit, MSB first,
 * running on into the next words. Writes and erases are ignored: the
 * contents are read-only to the guest.
 */
#include "e1000.h"

#define EE_READ_OPCODE		0x6	/* Microwire READ, 3 bits */
#define EE_CMD_BITS		9	/* opcode + 6 address bits */
#define EE_CHECKSUM_WORD	(E1000_EEPROM_WORDS - 1)

static const uint16_t eeprom_template[E1000_EEPROM_WORDS] = {
	0x0000, 0x0000, 0x0000, 0x0000, 0xffff, 0x0000, 0x0000, 0x0000,
	0x3000, 0x1000, 0x6403, 0x100e, 0x8086, 0x100e, 0x8086, 0x3040,
	0x0008, 0x2000, 0x7e14, 0x0048, 0x1000, 0x00d8, 0x0000, 0x2700,
	0x6cc9, 0x3150, 0x0722, 0x040b, 0x0984, 0x0000, 0xc000, 0x0706,
	0x1008, 0x0000, 0x0f04, 0x7fff, 0x4d01, 0xffff, 0xffff, 0xffff,
	0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
	0x0100, 0x4000, 0x121c, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
	0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0x0000,
};

void e1000_eeprom_init(struct e1000 *s)
{
	uint16_t sum = 0;

	for (unsigned i = 0; i < E1000_EEPROM_WORDS; i++)
		s->eeprom[i] = eeprom_template[i];
	for (unsigned i = 0; i < 3; i++)
		s->eeprom[i] = s->mac[2 * i] | s->mac[2 * i + 1] << 8;
	for (unsigned i = 0; i < EE_CHECKSUM_WORD; i++)
		sum += s->eeprom[i];
	s->eeprom[EE_CHECKSUM_WORD] = (uint16_t)(E1000_EEPROM_SUM - sum);
}

uint32_t e1000_eecd_read(struct e1000 *s)
{
	uint32_t v = EECD_PRES | EECD_GNT | s->ee.old;
	unsigned bit = s->ee.bit_out;

	/* DO idles high; while reading it is the current bit, MSB first. */
	if (!s->ee.reading ||
	    (s->eeprom[(bit >> 4) % E1000_EEPROM_WORDS] >> (15 - (bit & 15))) & 1)
		v |= EECD_DO;
	return v;
}

void e1000_eecd_write(struct e1000 *s, uint32_t val)
{
	uint32_t old = s->ee.old;

	s->ee.old = val & (EECD_SK | EECD_CS | EECD_DI | EECD_FWE_MASK | EECD_REQ);
	if (!(val & EECD_CS))
		return;
	if (!(old & EECD_CS)) {
		/* Chip select rises: a new command. */
		s->ee.val_in = 0;
		s->ee.bits_in = 0;
		s->ee.bit_out = 0;
		s->ee.reading = false;
	}
	if (!((val ^ old) & EECD_SK))
		return;
	if (!(val & EECD_SK)) {
		/* Falling edge: the next output bit. */
		if (s->ee.reading)
			s->ee.bit_out++;
		return;
	}
	s->ee.val_in = s->ee.val_in << 1 | !!(val & EECD_DI);
	if (++s->ee.bits_in == EE_CMD_BITS && !s->ee.reading) {
		/* The falling edge after the last address bit brings the first data bit. */
		s->ee.reading = (s->ee.val_in >> 6 & 7) == EE_READ_OPCODE;
		s->ee.bit_out = (s->ee.val_in & 0x3f) * 16 - 1;
	}
}

uint32_t e1000_eerd_read(struct e1000 *s)
{
	uint32_t v = e1000_reg(s, EERD), addr = (v >> EERD_ADDR_SHIFT) & 0xff;

	if (!(v & EERD_START))
		return v;
	v = (v & ~EERD_START & 0xffff) | EERD_DONE;
	if (addr < E1000_EEPROM_WORDS)
		v |= (uint32_t)s->eeprom[addr] << EERD_DATA_SHIFT;
	return v;
}
