// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ACPI tables for 1, 2 and 8 CPUs, read as a guest reads them: from the
 * RSDP found by scanning the BIOS area, through the XSDT and the RSDT, to
 * the FADT (its ports and flags), the FACS, the DSDT (_S3, _S5, PCI0, _PRT)
 * and the MADT (one enabled local APIC per CPU, the IOAPIC, the SCI
 * override), and the DMAR of a machine with intel-iommu (decompiled by
 * iasl when it is installed). Every signature, length and checksum is
 * checked on the way.
 * Then the waking vector the FACS hands back after S3, and the BSP state
 * qlite enters it with.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_capture.h"
#include "qlite/acpi.h"
#include "qlite/boot.h"
#include "qlite/pci.h"
#include "qlite/platform.h"
#include "qlite/util.h"

#define RAM (64ULL << 20)

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* A table at gpa with signature sig: its length in the header, its checksum. */
static const uint8_t *table(struct guest_mem *gm, uint64_t gpa, const char *sig)
{
	const uint8_t *h = guest_mem_ptr(gm, gpa, 36);
	uint32_t len;

	assert_non_null(h);
	assert_memory_equal(h, sig, 4);
	len = le_load(h + 4, 4);
	assert_true(len >= 36);
	assert_non_null(guest_mem_ptr(gm, gpa, len));
	assert_int_equal(sum(h, len), 0);
	assert_memory_equal(h + 10, "QLITE ", 6);	/* OEM id, as in the RSDP */
	return h;
}

/* As Linux does: the first "RSD PTR " on a 16-byte boundary of 0xe0000-0xfffff. */
static uint64_t scan_rsdp(struct guest_mem *gm)
{
	for (uint64_t a = 0xe0000; a < 0x100000; a += 16) {
		const uint8_t *p = guest_mem_ptr(gm, a, 8);

		if (!memcmp(p, "RSD PTR ", 8) && sum(p, 20) == 0)
			return a;
	}
	return 0;
}

static const uint8_t *find_in(const uint8_t *p, size_t len, const void *what, size_t n)
{
	for (size_t i = 0; i + n <= len; i++)
		if (!memcmp(p + i, what, n))
			return p + i;
	return NULL;
}

static void check_fadt(struct guest_mem *gm, const uint8_t *f)
{
	uint32_t flags = le_load(f + 112, 4);
	const uint8_t *facs, *dsdt;

	assert_int_equal(le_load(f + 4, 4), 276);
	assert_int_equal(f[8], 6);				/* revision */
	assert_int_equal(le_load(f + 46, 2), ACPI_SCI_IRQ);
	assert_int_equal(le_load(f + 48, 4), 0);		/* no SMI_CMD: ACPI mode */
	assert_int_equal(le_load(f + 56, 4), 0x600);		/* PM1a_EVT_BLK */
	assert_int_equal(le_load(f + 64, 4), 0x604);		/* PM1a_CNT_BLK */
	assert_int_equal(le_load(f + 76, 4), 0x608);		/* PM_TMR_BLK */
	assert_int_equal(f[88], 4);
	assert_int_equal(f[89], 2);
	assert_int_equal(f[91], 4);
	assert_int_equal(le_load(f + 60, 4), 0);		/* no PM1b */
	assert_true(flags & (1u << 8));				/* TMR_VAL_EXT: 32 bits */
	assert_false(flags & (1u << 20));			/* not HW_REDUCED */
	assert_true(flags & (1u << 4));				/* no fixed power button */
	assert_true(flags & (1u << 10));			/* RESET_REG_SUP */
	/* RESET_REG: system I/O, 8 bits at 0xcf9, value 6 (the PIIX reset control, as QEMU). */
	assert_int_equal(f[116], 1);
	assert_int_equal(f[117], 8);
	assert_int_equal(le_load(f + 120, 8), 0xcf9);
	assert_int_equal(f[128], 0x06);
	/* The extended blocks say the same ports (system I/O). */
	assert_int_equal(f[148], 1);
	assert_int_equal(le_load(f + 152, 8), 0x600);
	assert_int_equal(f[149], 32);
	assert_int_equal(le_load(f + 176, 8), 0x604);
	assert_int_equal(f[173], 16);
	assert_int_equal(le_load(f + 212, 8), 0x608);
	assert_int_equal(f[209], 32);

	facs = guest_mem_ptr(gm, le_load(f + 36, 4), 64);
	assert_non_null(facs);
	assert_int_equal(le_load(f + 36, 4) % 64, 0);
	assert_memory_equal(facs, "FACS", 4);
	assert_int_equal(le_load(facs + 4, 4), 64);
	assert_int_equal(le_load(f + 40, 4), le_load(f + 140, 8));	/* DSDT, X_DSDT */

	dsdt = table(gm, le_load(f + 40, 4), "DSDT");
	assert_int_equal(dsdt[8], 2);				/* 64-bit integers */
	{
		size_t len = le_load(dsdt + 4, 4);
		/* Name (_S5, Package (4) { ACPI_S5_SLP_TYP, ... }), the type a Zero. */
		static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04,
					       ACPI_S5_SLP_TYP, ACPI_S5_SLP_TYP, 0, 0 };
		/* Name (_S3, Package (4) { One, One, Zero, Zero }): QEMU's S3 type. */
		static const uint8_t s3[] = { 0x08, '_', 'S', '3', '_', 0x12, 0x06, 0x04,
					       0x01, 0x01, 0, 0 };
		/* Name (_HID, EisaId ("PNP0A03")) */
		static const uint8_t hid[] = { 0x08, '_', 'H', 'I', 'D',
					       0x0c, 0x41, 0xd0, 0x0a, 0x03 };
		/* _PRT: slot 3 pin B is GSI 16 + (3 + 1) % 8. */
		static const uint8_t prt_3b[] = { 0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x03, 0x00,
						  0x01, 0x00, 0x0a, 20 };

		assert_int_equal(ACPI_S3_SLP_TYP, 1);
		assert_non_null(find_in(dsdt, len, s3, sizeof(s3)));
		assert_non_null(find_in(dsdt, len, s5, sizeof(s5)));
		assert_non_null(find_in(dsdt, len, "PCI0", 4));
		assert_non_null(find_in(dsdt, len, hid, sizeof(hid)));
		assert_non_null(find_in(dsdt, len, "_CRS", 4));
		assert_non_null(find_in(dsdt, len, prt_3b, sizeof(prt_3b)));
		assert_int_equal(pci_intx_gsi(3, 2), 20);
	}
}

/* The DSDT of tables written with or without fw_cfg, and its length. */
static const uint8_t *dsdt_of(struct guest_mem *gm, bool fw_cfg, size_t *len)
{
	struct acpi_tables t;
	const uint8_t *d;

	assert_int_equal(acpi_write(gm, 1, fw_cfg, NULL, &t), 0);
	for (unsigned i = 0; i < t.n; i++) {
		if (strcmp(t.t[i].sig, "DSDT"))
			continue;
		d = table(gm, t.t[i].addr, "DSDT");
		*len = le_load(d + 4, 4);
		return d;
	}
	fail_msg("no DSDT listed");
	return NULL;
}

/* The ISA devices in \_SB, with QEMU's _HIDs and the ports and IRQs the devices claim. */
static void test_isa_nodes(void **state)
{
	/* Device (COM1) { Name (_HID, EisaId ("PNP0501")), Name (_UID, One), _CRS ... */
	static const uint8_t com1[] = { 'C', 'O', 'M', '1', 0x08, '_', 'H', 'I', 'D',
					0x0c, 0x41, 0xd0, 0x05, 0x01, 0x08, '_', 'U', 'I', 'D', 0x01 };
	/* ... IO (Decode16, 0x3f8, 0x3f8, 1, 8), IRQNoFlags () { 4 }, EndTag */
	static const uint8_t com1_crs[] = { 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
					    0x22, 0x10, 0x00, 0x79, 0x00 };
	static const uint8_t rtc_crs[] = { 0x47, 0x01, 0x70, 0x00, 0x70, 0x00, 0x01, 0x02,
					   0x22, 0x00, 0x01, 0x79, 0x00 };
	static const uint8_t kbd_crs[] = { 0x47, 0x01, 0x60, 0x00, 0x60, 0x00, 0x01, 0x01,
					   0x47, 0x01, 0x64, 0x00, 0x64, 0x00, 0x01, 0x01,
					   0x22, 0x02, 0x00, 0x79, 0x00 };
	static const uint8_t mou_crs[] = { 0x22, 0x00, 0x10, 0x79, 0x00 };
	/* Device (FWCF) { Name (_HID, "QEMU0002"), Name (_STA, 0x0B), IO 0x510-0x51b } */
	static const uint8_t fwcf[] = { 'F', 'W', 'C', 'F', 0x08, '_', 'H', 'I', 'D', 0x0d,
					'Q', 'E', 'M', 'U', '0', '0', '0', '2', 0x00,
					0x08, '_', 'S', 'T', 'A', 0x0a, 0x0b };
	static const uint8_t fwcf_crs[] = { 0x47, 0x01, 0x10, 0x05, 0x10, 0x05, 0x01, 0x0c,
					    0x79, 0x00 };
	struct guest_mem gm;
	const uint8_t *d;
	size_t len;

	(void)state;
	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	d = dsdt_of(&gm, true, &len);
	assert_non_null(find_in(d, len, com1, sizeof(com1)));
	assert_non_null(find_in(d, len, com1_crs, sizeof(com1_crs)));
	assert_non_null(find_in(d, len, rtc_crs, sizeof(rtc_crs)));
	assert_non_null(find_in(d, len, kbd_crs, sizeof(kbd_crs)));
	assert_non_null(find_in(d, len, mou_crs, sizeof(mou_crs)));
	assert_non_null(find_in(d, len, fwcf, sizeof(fwcf)));
	assert_non_null(find_in(d, len, fwcf_crs, sizeof(fwcf_crs)));

	/* fw-cfg off: no FWCF, the rest as before. */
	d = dsdt_of(&gm, false, &len);
	assert_null(find_in(d, len, "FWCF", 4));
	assert_null(find_in(d, len, "QEMU0002", 8));
	assert_non_null(find_in(d, len, com1, sizeof(com1)));
	guest_mem_destroy(&gm);
}

static void check_madt(const uint8_t *m, unsigned cpus)
{
	uint32_t len = le_load(m + 4, 4);
	unsigned lapics = 0, ioapics = 0, isos = 0, nmis = 0;

	assert_int_equal(le_load(m + 36, 4), LAPIC_BASE);
	assert_int_equal(le_load(m + 40, 4), 1);		/* PCAT_COMPAT */
	for (uint32_t off = 44; off < len;) {
		const uint8_t *e = m + off;

		assert_true(off + 2 <= len);
		assert_true(e[1] >= 2 && off + e[1] <= len);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], lapics);		/* processor uid */
			assert_int_equal(e[3], lapics);		/* APIC id = vCPU index */
			assert_int_equal(le_load(e + 4, 4), 1);	/* enabled */
			lapics++;
			break;
		case 1:
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], cpus);		/* after the CPUs' ids */
			assert_int_equal(le_load(e + 4, 4), IOAPIC_BASE);
			assert_int_equal(le_load(e + 8, 4), 0);
			ioapics++;
			break;
		case 2:
			assert_int_equal(e[1], 10);
			assert_int_equal(e[2], 0);		/* ISA */
			assert_int_equal(e[3], ACPI_SCI_IRQ);
			assert_int_equal(le_load(e + 4, 4), ACPI_SCI_IRQ);
			assert_int_equal(le_load(e + 8, 2), 0xd);	/* level, active high */
			isos++;
			break;
		case 4:
			assert_int_equal(e[1], 6);
			assert_int_equal(e[2], 0xff);
			assert_int_equal(e[5], 1);		/* LINT1 */
			nmis++;
			break;
		default:
			fail_msg("MADT entry type %u", e[0]);
		}
		off += e[1];
	}
	assert_int_equal(lapics, cpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(isos, 1);
	assert_int_equal(nmis, 1);
}

static void check_tables(unsigned cpus)
{
	struct guest_mem gm;
	struct acpi_tables t;
	struct report_capture c;
	const uint8_t *rsdp, *rsdt, *xsdt, *fadt = NULL, *madt = NULL;
	uint64_t at;
	int ret;

	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	/* As the VM writes them: the MP table first, then ACPI. */
	report_capture_start(&c);
	assert_int_equal(mptable_write(&gm, cpus, NULL), 0);
	ret = acpi_write(&gm, cpus, true, NULL, &t);
	assert_string_equal(report_capture_text(&c), "");
	report_capture_stop(&c);
	assert_int_equal(ret, 0);
	assert_memory_equal(guest_mem_ptr(&gm, BIOS_START, 4), "_MP_", 4);	/* still there */

	at = scan_rsdp(&gm);
	assert_int_equal(at, ACPI_RSDP_ADDR);
	assert_int_equal(t.rsdp, at);
	rsdp = guest_mem_ptr(&gm, at, 36);
	assert_int_equal(rsdp[15], 2);				/* revision */
	assert_int_equal(le_load(rsdp + 20, 4), 36);
	assert_int_equal(sum(rsdp, 36), 0);
	rsdt = table(&gm, le_load(rsdp + 16, 4), "RSDT");
	xsdt = table(&gm, le_load(rsdp + 24, 8), "XSDT");
	assert_int_equal(le_load(rsdt + 4, 4), 36 + 2 * 4);
	assert_int_equal(le_load(xsdt + 4, 4), 36 + 2 * 8);
	for (unsigned i = 0; i < 2; i++) {
		uint64_t a = le_load(xsdt + 36 + 8 * i, 8);
		const uint8_t *h = guest_mem_ptr(&gm, a, 4);

		assert_int_equal(le_load(rsdt + 36 + 4 * i, 4), a);	/* the same tables */
		if (!memcmp(h, "FACP", 4))
			fadt = table(&gm, a, "FACP");
		else
			madt = table(&gm, a, "APIC");
	}
	assert_non_null(fadt);
	assert_non_null(madt);
	check_fadt(&gm, fadt);
	check_madt(madt, cpus);

	/* The list `qlite check` prints: the RSDP first, each table where it is. */
	assert_int_equal(t.n, 7);
	assert_string_equal(t.t[0].sig, "RSD PTR ");
	assert_int_equal(t.t[0].addr, ACPI_RSDP_ADDR);
	for (unsigned i = 1; i < t.n; i++) {
		const uint8_t *h = guest_mem_ptr(&gm, t.t[i].addr, t.t[i].len);

		assert_non_null(h);
		assert_memory_equal(h, t.t[i].sig, 4);
		assert_int_equal(le_load(h + 4, 4), t.t[i].len);
		assert_true(t.t[i].addr >= ACPI_TABLES_START &&
			    t.t[i].addr + t.t[i].len <= ACPI_TABLES_END);
	}
	guest_mem_destroy(&gm);
}

static void test_one_cpu(void **state)
{
	check_tables(1);
}

static void test_two_cpus(void **state)
{
	check_tables(2);
}

static void test_eight_cpus(void **state)
{
	check_tables(8);
}

static void test_errors(void **state)
{
	struct guest_mem gm;
	struct acpi_tables t;
	struct report_capture c;

	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	report_capture_start(&c);
	assert_int_equal(acpi_write(&gm, 255, true, NULL, &t), -EINVAL);
	assert_int_equal(acpi_write(&gm, 0, true, NULL, &t), -EINVAL);
	assert_true(report_capture_has(&c, "qlite: ACPI tables: 255 CPUs"));
	assert_int_equal(report_capture_lines(&c), 2);
	report_capture_stop(&c);
	assert_int_equal(t.n, 0);
	guest_mem_destroy(&gm);

	assert_int_equal(guest_mem_init(&gm, 512 * KiB, false), 0);
	report_capture_start(&c);
	assert_int_equal(acpi_write(&gm, 1, true, NULL, &t), -ENOSPC);
	assert_string_equal(report_capture_text(&c), "qlite: ACPI tables: BIOS area not in RAM\n");
	report_capture_stop(&c);
	guest_mem_destroy(&gm);
}

/* The DMAR table of a machine with intel-iommu, found through the XSDT; the RSDT lists it too. */
static const uint8_t *dmar_of(struct guest_mem *gm, unsigned cpus, const struct acpi_iommu *io,
			      uint32_t *len)
{
	struct acpi_tables t;
	const uint8_t *rsdp, *rsdt, *xsdt, *d;
	unsigned i;

	assert_int_equal(acpi_write(gm, cpus, true, io, &t), 0);
	assert_int_equal(t.n, 8);
	for (i = 0; i < t.n && strcmp(t.t[i].sig, "DMAR"); i++)
		;
	assert_true(i < t.n);
	rsdp = guest_mem_ptr(gm, t.rsdp, 36);
	rsdt = table(gm, le_load(rsdp + 16, 4), "RSDT");
	xsdt = table(gm, le_load(rsdp + 24, 8), "XSDT");
	assert_int_equal(le_load(rsdt + 4, 4), 36 + 3 * 4);
	assert_int_equal(le_load(xsdt + 4, 4), 36 + 3 * 8);
	assert_int_equal(le_load(xsdt + 36 + 16, 8), t.t[i].addr);
	assert_int_equal(le_load(rsdt + 36 + 8, 4), t.t[i].addr);
	d = table(gm, t.t[i].addr, "DMAR");
	*len = le_load(d + 4, 4);
	assert_int_equal(*len, t.t[i].len);
	return d;
}

/*
 * iasl -d on the table: decompiled without an error or a warning, and the
 * text has each of want. Skipped (said) without iasl (acpica-tools).
 */
static void iasl_decompiles(const uint8_t *tbl, uint32_t len, const char *const *want)
{
	char dir[] = "/tmp/qlite-dmar-XXXXXX", cmd[256], path[128], line[512];
	char *dsl = NULL;
	size_t dsl_len = 0;
	FILE *f, *p;
	int rc;

	if (system("command -v iasl >/dev/null 2>&1")) {
		print_message("iasl not installed (acpica-tools): DMAR not decompiled\n");
		return;
	}
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dmar.dat", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(tbl, 1, len, f), len);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd %s && iasl -d dmar.dat 2>&1", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p))
		if ((strcasestr(line, "error") || strcasestr(line, "warning")) &&
		    !strstr(line, " 0 Errors"))
			fail_msg("iasl -d: %s", line);
	rc = pclose(p);
	assert_int_equal(rc, 0);
	snprintf(path, sizeof(path), "%s/dmar.dsl", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	p = open_memstream(&dsl, &dsl_len);
	while (fgets(line, sizeof(line), f))
		fputs(line, p);
	fclose(f);
	fclose(p);
	for (; *want; want++)
		if (!strstr(dsl, *want))
			fail_msg("iasl -d: no \"%s\" in\n%s", *want, dsl);
	free(dsl);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/*
 * The DMAR (VT-d 3.x, 8.1): HAW 39 bits, one DRHD for all of segment 0 at
 * the unit's page and, with interrupt remapping, the IOAPIC in its scope:
 * the MADT's IOAPIC id, the requester id its messages carry (bus 0xff).
 */
static void test_dmar(void **state)
{
	static const char *const with_ir[] = {
		"Signature : \"DMAR\"", "Host Address Width : 26", "Flags : 03",
		"Register Base Address : 00000000FED90000", "Device Scope Type : 03",
		"PCI Bus Number : FF", NULL,
	};
	static const char *const without_ir[] = {
		"Host Address Width : 26", "Flags : 00", "Register Base Address : 00000000FED90000",
		NULL,
	};
	struct acpi_iommu io = { .base = 0xfed90000, .intremap = true };
	struct guest_mem gm;
	const uint8_t *d, *drhd, *scope;
	uint32_t len;

	(void)state;
	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	for (unsigned cpus = 1; cpus <= 4; cpus += 3) {
		d = dmar_of(&gm, cpus, &io, &len);
		assert_int_equal(len, 36 + 12 + 16 + 8);
		assert_int_equal(d[8], 1);			/* revision */
		assert_int_equal(d[36], ACPI_DMAR_HAW_BITS - 1);
		assert_int_equal(d[36], 38);
		assert_int_equal(d[37], 3);			/* INTR_REMAP, X2APIC_OPT_OUT */
		for (unsigned i = 38; i < 48; i++)
			assert_int_equal(d[i], 0);
		drhd = d + 48;
		assert_int_equal(le_load(drhd, 2), 0);		/* DRHD */
		assert_int_equal(le_load(drhd + 2, 2), 24);
		assert_int_equal(drhd[4], 1);			/* INCLUDE_PCI_ALL */
		assert_int_equal(drhd[5], 0);			/* one page */
		assert_int_equal(le_load(drhd + 6, 2), 0);	/* segment 0 */
		assert_int_equal(le_load(drhd + 8, 8), 0xfed90000);
		scope = drhd + 16;
		assert_int_equal(scope[0], 3);			/* IOAPIC */
		assert_int_equal(scope[1], 8);
		assert_int_equal(scope[2], 0);
		assert_int_equal(scope[3], 0);
		assert_int_equal(scope[4], cpus);		/* the MADT's IOAPIC id */
		assert_int_equal(scope[5], 0xff);		/* MACHINE_SID_IOAPIC: ff:00.0 */
		assert_int_equal(scope[6], 0);
		assert_int_equal(scope[7], 0);
	}
	iasl_decompiles(d, len, with_ir);

	io.intremap = false;
	d = dmar_of(&gm, 2, &io, &len);
	assert_int_equal(len, 36 + 12 + 16);
	assert_int_equal(d[37], 0);
	assert_int_equal(le_load(d + 48 + 2, 2), 16);
	assert_int_equal(le_load(d + 48 + 8, 8), 0xfed90000);
	iasl_decompiles(d, len, without_ir);
	guest_mem_destroy(&gm);
}

static void test_eisaid(void **state)
{
	assert_int_equal(acpi_eisaid("PNP0A03"), 0x030ad041);
	assert_int_equal(acpi_eisaid("PNP0501"), 0x0105d041);
	assert_int_equal(acpi_eisaid("PNP0B00"), 0x000bd041);
	assert_int_equal(acpi_eisaid("pnp0a03"), 0);
	assert_int_equal(acpi_eisaid("PNP0A0"), 0);
	assert_int_equal(acpi_eisaid("PNP0A0G"), 0);
}

static void test_checksum(void **state)
{
	uint8_t b[5] = { 1, 2, 3, 250, 0 };

	b[4] = acpi_checksum(b, 4);
	assert_int_equal(sum(b, 5), 0);
}

/* The FACS after the guest wrote its waking vectors, read as the wake reads it. */
static int waking_vector(struct guest_mem *gm, uint64_t facs, uint32_t vec, uint64_t xvec,
			 uint32_t ospm_flags, struct acpi_wake *w)
{
	uint8_t *f = guest_mem_ptr(gm, facs, 64);

	le_store(f + 12, vec, 4);
	le_store(f + 24, xvec, 8);
	le_store(f + 36, ospm_flags, 4);
	return acpi_waking_vector(gm, facs, w);
}

static void test_waking_vector(void **state)
{
	struct guest_mem gm;
	struct acpi_tables t;
	struct acpi_wake w;
	struct report_capture c;
	struct kvm_regs regs = { .rip = 0xfff0, .rdx = 0x600 };
	/* KVM's reset state: CS f000 at ffff0000, caches off. */
	struct kvm_sregs sregs = {
		.cs = { .base = 0xffff0000, .limit = 0xffff, .selector = 0xf000, .type = 0xb,
			.present = 1, .s = 1 },
		.ds = { .limit = 0xffff, .type = 3, .present = 1, .s = 1 },
		.cr0 = 0x60000010,
	};
	struct kvm_regs r;
	struct kvm_sregs s;
	uint64_t facs = 0;

	assert_int_equal(guest_mem_init(&gm, RAM, false), 0);
	assert_int_equal(acpi_write(&gm, 1, true, NULL, &t), 0);
	for (unsigned i = 0; i < t.n; i++)
		if (!strcmp(t.t[i].sig, "FACS"))
			facs = t.t[i].addr;
	assert_int_not_equal(facs, 0);

	/* Nothing written yet: no vector (the firmware would boot afresh). */
	assert_int_equal(acpi_waking_vector(&gm, facs, &w), 0);
	assert_int_equal(w.mode, ACPI_WAKE_NONE);

	/* Real mode: CS:IP = (vector >> 4):(vector & 0xf), the rest as reset, caches on. */
	assert_int_equal(waking_vector(&gm, facs, 0x9a123, 0, 0, &w), 0);
	assert_int_equal(w.mode, ACPI_WAKE_REAL);
	assert_int_equal(w.addr, 0x9a123);
	r = regs;
	s = sregs;
	boot_wake_regs(&w, &r, &s);
	assert_int_equal(s.cs.selector, 0x9a12);
	assert_int_equal(s.cs.base, 0x9a120);
	assert_int_equal(s.cs.limit, 0xffff);
	assert_int_equal(r.rip, 3);
	assert_int_equal(r.rflags, 2);				/* interrupts off */
	assert_int_equal(r.rdx, 0x600);
	assert_int_equal(s.cr0, 0x10);
	assert_memory_equal(&s.ds, &sregs.ds, sizeof(s.ds));

	/* X_Firmware_Waking_Vector wins: 32-bit flat protected mode, paging off. */
	assert_int_equal(waking_vector(&gm, facs, 0x1000, 0x123456, 0, &w), 0);
	assert_int_equal(w.mode, ACPI_WAKE_PROTECTED32);
	r = regs;
	s = sregs;
	boot_wake_regs(&w, &r, &s);
	assert_int_equal(r.rip, 0x123456);
	assert_int_equal(s.cr0, 0x11);
	assert_int_equal(s.cs.base, 0);
	assert_int_equal(s.cs.limit, 0xffffffff);
	assert_true(s.cs.db && s.cs.g && s.ss.db && s.ds.type == 3);

	/* What qlite cannot enter: said, and refused. */
	report_capture_start(&c);
	assert_int_equal(waking_vector(&gm, facs, 0x100000, 0, 0, &w), -EINVAL);
	assert_true(report_capture_has(&c, "not in RAM below 1 MiB"));
	assert_int_equal(waking_vector(&gm, facs, 0, 0x123456, 1, &w), -EINVAL);
	assert_true(report_capture_has(&c, "64-bit waking environment"));
	assert_int_equal(waking_vector(&gm, facs, 0, 1ULL << 32, 0, &w), -EINVAL);
	assert_int_equal(waking_vector(&gm, facs, 0, RAM, 0, &w), -EINVAL);
	assert_true(report_capture_has(&c, "not in RAM below 4 GiB"));
	memcpy(guest_mem_ptr(&gm, facs, 4), "XXXX", 4);
	assert_int_equal(waking_vector(&gm, facs, 0x1000, 0, 0, &w), -EINVAL);
	assert_true(report_capture_has(&c, "was overwritten"));
	assert_int_equal(acpi_waking_vector(&gm, RAM - 8, &w), -EINVAL);
	assert_true(report_capture_has(&c, "no FACS at"));
	report_capture_stop(&c);
	guest_mem_destroy(&gm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_cpu),
		cmocka_unit_test(test_two_cpus),
		cmocka_unit_test(test_eight_cpus),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_dmar),
		cmocka_unit_test(test_eisaid),
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_waking_vector),
		cmocka_unit_test(test_isa_nodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
