// SPDX-License-Identifier: GPL-2.0-only
/*
 * ACPI tables (ACPI 6.5): how a guest with ACPI finds its CPUs, the IOAPIC,
 * the PM device (src/devices/acpi_pm.c), how PCI INTx is routed and how to
 * sleep (\_S3) and power off (\_S5). The RSDP (revision 2) sits in the BIOS area's F segment,
 * where Linux and kvm-unit-tests scan; PVH start_info and the zero page
 * also carry its address (boot_set_rsdp). The rest lives in the E segment:
 * FACS, DSDT, FADT, MADT, RSDT, XSDT, and the DMAR (Intel VT-d 3.x, chapter
 * 8) when the machine has an intel-iommu. The DSDT is AML written here byte
 * by byte (ACPI 6.5, chapter 20), no compiler involved.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/acpi.h"
#include "qlite/devices.h"
#include "qlite/fw_cfg.h"
#include "qlite/machine.h"
#include "qlite/pci.h"
#include "qlite/platform.h"
#include "qlite/util.h"

#define ACPI_OEM_ID		"QLITE "
#define ACPI_OEM_TABLE_ID	"QLITEVMM"
#define ACPI_CREATOR_ID		"QLIT"

struct acpi_header {
	char sig[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_rsdp {
	char sig[8];
	uint8_t checksum;	/* of the first 20 bytes (ACPI 1.0 part) */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t ext_checksum;	/* of all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));

/* Generic Address Structure. */
struct acpi_gas {
	uint8_t space;		/* 1: system I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;	/* 1 byte, 2 word, 3 dword */
	uint64_t addr;
} __attribute__((packed));

struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
	uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg, sleep_status_reg;
	uint64_t hypervisor_vendor;
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6 is 276 bytes");

struct acpi_facs {
	char sig[4];
	uint32_t length;
	uint32_t hw_signature;
	uint32_t waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_waking_vector;
	uint8_t version;
	uint8_t reserved0[3];
	uint32_t ospm_flags;
	uint8_t reserved1[24];
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_facs) == 64, "FACS is 64 bytes");

/* ospm_flags: a 64-bit waking environment, which flags' 64BIT_WAKE_SUPPORTED_F (clear) refuses. */
#define FACS_OSPM_64BIT_WAKE	(1u << 0)

struct madt_lapic {
	uint8_t type, length, uid, apic_id;
	uint32_t flags;
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type, length, id, reserved;
	uint32_t addr;
	uint32_t gsi_base;
} __attribute__((packed));

struct madt_iso {
	uint8_t type, length, bus, source;
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));

struct madt_lapic_nmi {
	uint8_t type, length, uid;
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));

enum { MADT_LAPIC, MADT_IOAPIC, MADT_ISO, MADT_NMI_SRC, MADT_LAPIC_NMI };

/* DMAR: the remapping hardware unit (DRHD) and its device scope. */
struct dmar_drhd {
	uint16_t type, length;
	uint8_t flags;
	uint8_t size;		/* register pages, as 2^size: 0 for one */
	uint16_t segment;
	uint64_t base;
} __attribute__((packed));

struct dmar_scope {
	uint8_t type, length, flags, reserved, enumeration_id, start_bus;
	uint8_t dev, fn;	/* one path entry */
} __attribute__((packed));

#define DMAR_F_INTR_REMAP	(1u << 0)
#define DMAR_F_X2APIC_OPT_OUT	(1u << 1)	/* no x2APIC (EIM) behind the remapping */
#define DMAR_TYPE_DRHD		0
#define DRHD_F_INCLUDE_PCI_ALL	(1u << 0)
#define DMAR_SCOPE_IOAPIC	3

#define FADT_F_WBINVD		(1u << 0)
#define FADT_F_PROC_C1		(1u << 2)
#define FADT_F_PWR_BUTTON	(1u << 4)	/* no fixed power button */
#define FADT_F_SLP_BUTTON	(1u << 5)	/* no fixed sleep button */
#define FADT_F_TMR_VAL_EXT	(1u << 8)	/* 32-bit PM timer */
#define FADT_F_RESET_REG_SUP	(1u << 10)

#define IAPC_LEGACY_DEVICES	(1u << 0)	/* COM1, the RTC: ISA devices */
#define IAPC_8042		(1u << 1)
#define IAPC_VGA_NOT_PRESENT	(1u << 2)

#define GAS_SYSTEM_IO		1
#define MADT_PCAT_COMPAT	1		/* dual 8259s: KVM's PICs */
#define MADT_FLAGS_LEVEL_HIGH	0x000d		/* active high (01), level (11 << 2) */
#define PIIX_RESET_CONTROL	0xcf9		/* the PCI host's, as on QEMU's pc */
#define PIIX_RESET_VALUE	0x06		/* SYS_RST | RST_CPU: a hard reset */
#define RTC_CENTURY_REG		0x32

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return -sum;
}

uint32_t acpi_eisaid(const char *id)
{
	uint32_t v = 0;

	if (strlen(id) != 7)
		return 0;
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return 0;
		v = (v << 5) | (id[i] - 'A' + 1);
	}
	for (int i = 3; i < 7; i++) {
		char c = id[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return 0;
		v = (v << 4) | d;
	}
	/* The 31 bits above, stored big-endian. */
	return __builtin_bswap32(v);
}

/* ---- AML: a growable byte string per term; nested terms are built inside out ---- */

struct aml {
	uint8_t *b;
	size_t len, cap;
	bool nomem;
};

static void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->nomem)
		return;
	if (a->len + n > a->cap) {
		size_t cap = a->cap ? a->cap : 256;
		uint8_t *b;

		while (cap < a->len + n)
			cap *= 2;
		b = realloc(a->b, cap);
		if (!b) {
			a->nomem = true;
			return;
		}
		a->b = b;
		a->cap = cap;
	}
	memcpy(a->b + a->len, p, n);
	a->len += n;
}

static void aml_byte(struct aml *a, uint8_t v)
{
	aml_bytes(a, &v, 1);
}

static void aml_free(struct aml *a)
{
	free(a->b);
	*a = (struct aml){ 0 };
}

enum {
	AML_ZERO = 0x00, AML_ONE = 0x01, AML_NAME = 0x08, AML_BYTE_PREFIX = 0x0a,
	AML_WORD_PREFIX = 0x0b, AML_DWORD_PREFIX = 0x0c, AML_QWORD_PREFIX = 0x0e,
	AML_STRING_PREFIX = 0x0d,
	AML_SCOPE = 0x10, AML_BUFFER = 0x11, AML_PACKAGE = 0x12, AML_EXT_PREFIX = 0x5b,
	AML_DEVICE = 0x82, AML_ROOT_CHAR = 0x5c,
};

/* An integer in its shortest encoding (ZeroOp, OneOp, or a prefixed constant). */
static void aml_int(struct aml *a, uint64_t v)
{
	if (v <= 1) {
		aml_byte(a, v ? AML_ONE : AML_ZERO);
		return;
	}
	uint8_t le[8];
	unsigned n = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffff ? 4 : 8;

	aml_byte(a, n == 1 ? AML_BYTE_PREFIX : n == 2 ? AML_WORD_PREFIX :
		    n == 4 ? AML_DWORD_PREFIX : AML_QWORD_PREFIX);
	le_store(le, v, n);
	aml_bytes(a, le, n);
}

/* A NameSeg: four characters, "\\" first for the root. */
static void aml_name(struct aml *a, const char *name)
{
	if (*name == '\\') {
		aml_byte(a, AML_ROOT_CHAR);
		name++;
	}
	aml_bytes(a, name, 4);
}

/* PkgLength (20.2.4) for a body of len bytes: it counts its own bytes too. */
static void aml_pkglen(struct aml *a, size_t len)
{
	size_t total;
	unsigned n;

	for (n = 1; n < 4; n++)
		if (len + n < (n == 1 ? 0x40u : 1u << (4 + 8 * (n - 1))))
			break;
	total = len + n;
	if (n == 1) {
		aml_byte(a, total);
		return;
	}
	aml_byte(a, (n - 1) << 6 | (total & 0xf));
	for (unsigned i = 1; i < n; i++)
		aml_byte(a, total >> (4 + 8 * (i - 1)));
}

/* OP PkgLength body, and body is consumed. */
static void aml_wrap(struct aml *a, const uint8_t *op, size_t oplen, struct aml *body)
{
	if (body->nomem)
		a->nomem = true;
	aml_bytes(a, op, oplen);
	aml_pkglen(a, body->len);
	aml_bytes(a, body->b, body->len);
	aml_free(body);
}

static void aml_name_int(struct aml *a, const char *name, uint64_t v)
{
	aml_byte(a, AML_NAME);
	aml_name(a, name);
	aml_int(a, v);
}

/* Name (name, "s") */
static void aml_name_string(struct aml *a, const char *name, const char *s)
{
	aml_byte(a, AML_NAME);
	aml_name(a, name);
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

/* Package (N) { ints... } */
static void aml_package_ints(struct aml *a, const uint64_t *v, unsigned n)
{
	static const uint8_t op = AML_PACKAGE;
	struct aml body = { 0 };

	aml_byte(&body, n);
	for (unsigned i = 0; i < n; i++)
		aml_int(&body, v[i]);
	aml_wrap(a, &op, 1, &body);
}

/* ---- \_SB.PCI0: resources and INTx routing ---- */

static void res_word_addr(struct aml *a, uint8_t type, uint8_t tflags, uint16_t min, uint16_t max)
{
	uint8_t d[16] = {
		0x88, 13, 0,	/* Word Address Space Descriptor */
		type, 0x0c,	/* producer, min and max fixed, positive decode */
		tflags,
	};

	/* granularity 0, min, max, translation 0, length */
	le_store(d + 8, min, 2);
	le_store(d + 10, max, 2);
	le_store(d + 14, (uint32_t)max - min + 1, 2);
	aml_bytes(a, d, sizeof(d));
}

static void res_dword_mem(struct aml *a, uint32_t min, uint32_t max)
{
	uint8_t d[26] = {
		0x87, 23, 0,	/* DWord Address Space Descriptor */
		0, 0x0c,	/* memory; producer, min and max fixed */
		0x01,		/* read-write, non-cacheable */
	};

	le_store(d + 10, min, 4);
	le_store(d + 14, max, 4);
	le_store(d + 22, max - min + 1, 4);
	aml_bytes(a, d, sizeof(d));
}

/* IO (Decode16, port, port, 1, len) */
static void res_io(struct aml *a, uint16_t port, uint8_t len)
{
	const uint8_t d[8] = { 0x47, 0x01, port & 0xff, port >> 8, port & 0xff, port >> 8, 1, len };

	aml_bytes(a, d, sizeof(d));
}

/* IRQNoFlags () { irq }: an ISA line, edge-triggered, active high. */
static void res_irq(struct aml *a, unsigned irq)
{
	const uint8_t d[3] = { 0x22, (1u << irq) & 0xff, (1u << irq) >> 8 };

	aml_bytes(a, d, sizeof(d));
}

/* Name (_CRS, ResourceTemplate () { res... }), and res is consumed. */
static void aml_crs(struct aml *a, struct aml *res)
{
	static const uint8_t buffer_op = AML_BUFFER;
	static const uint8_t end_tag[] = { 0x79, 0x00 };
	struct aml body = { 0 };

	aml_bytes(res, end_tag, sizeof(end_tag));
	if (res->nomem)
		body.nomem = true;
	aml_int(&body, res->len);
	aml_bytes(&body, res->b, res->len);
	aml_free(res);
	aml_byte(a, AML_NAME);
	aml_name(a, "_CRS");
	aml_wrap(a, &buffer_op, 1, &body);
}

/* _CRS: bus 0, the I/O space, the BAR window. */
static void pci0_crs(struct aml *a)
{
	struct aml res = { 0 };

	res_word_addr(&res, 2, 0, 0, 0xff);			/* bus numbers */
	res_io(&res, 0xcf8, 8);					/* the host's */
	res_word_addr(&res, 1, 0x03, 0x0000, 0x0cf7);		/* I/O, entire range */
	res_word_addr(&res, 1, 0x03, 0x0d00, 0xffff);
	res_dword_mem(&res, PCI_MMIO_WINDOW_START, PCI_MMIO_WINDOW_END - 1);
	aml_crs(a, &res);
}

/* Name (_PRT, Package () { { 0xSSSSFFFF, pin, 0, GSI }... }): every slot, straight to GSIs. */
static void pci0_prt(struct aml *a)
{
	static const uint8_t package_op = AML_PACKAGE;
	struct aml body = { 0 };

	aml_byte(&body, PCI_MAX_DEVICES * 4);
	for (unsigned slot = 0; slot < PCI_MAX_DEVICES; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			uint64_t e[4] = { (uint64_t)slot << 16 | 0xffff, pin, 0,
					  pci_intx_gsi(slot, pin + 1) };

			aml_package_ints(&body, e, 4);
		}
	}
	aml_byte(a, AML_NAME);
	aml_name(a, "_PRT");
	aml_wrap(a, &package_op, 1, &body);
}

/*
 * The ISA devices every VM has, described as QEMU's pc describes them, so an
 * OS finds them through ACPI (Linux's PnP) rather than by probing: name, _HID
 * (an EISA ID, or a string), two I/O ranges at most, an IRQ or none.
 */
struct isa_node {
	const char *name, *hid;
	unsigned uid;	/* _UID; 0: none */
	uint16_t port[2];
	uint8_t len[2];
	int irq;
	bool fw_cfg;	/* only with fw_cfg, which says _STA 0xb: present, not shown */
};

static const struct isa_node isa_nodes[] = {
	{ "COM1", "PNP0501", 1, { UART_COM1_BASE }, { 8 }, UART_COM1_GSI, false },
	{ "RTC_", "PNP0B00", 0, { RTC_INDEX_PORT }, { RTC_NR_PORTS }, RTC_GSI, false },
	{ "KBD_", "PNP0303", 0, { I8042_DATA_PORT, I8042_CMD_PORT }, { 1, 1 }, I8042_KBD_GSI, false },
	{ "MOU_", "PNP0F13", 0, { 0 }, { 0 }, I8042_AUX_GSI, false },
	/* the selector, data and DMA ports: 0x510-0x51b */
	{ "FWCF", "QEMU0002", 0, { FW_CFG_PORT_SEL }, { FW_CFG_PORT_DMA + 8 - FW_CFG_PORT_SEL }, -1,
	  true },
};

/* Device (name) { _HID, [_UID], [_STA], _CRS } for each node, into the scope sb. */
static void isa_nodes_add(struct aml *sb, bool fw_cfg)
{
	static const uint8_t device_op[] = { AML_EXT_PREFIX, AML_DEVICE };

	for (size_t i = 0; i < ARRAY_SIZE(isa_nodes); i++) {
		const struct isa_node *n = &isa_nodes[i];
		struct aml dev = { 0 }, res = { 0 };

		if (n->fw_cfg && !fw_cfg)
			continue;
		aml_name(&dev, n->name);
		if (strlen(n->hid) == 7)
			aml_name_int(&dev, "_HID", acpi_eisaid(n->hid));
		else
			aml_name_string(&dev, "_HID", n->hid);
		if (n->uid)
			aml_name_int(&dev, "_UID", n->uid);
		if (n->fw_cfg)
			aml_name_int(&dev, "_STA", 0xb);
		for (unsigned r = 0; r < 2 && n->len[r]; r++)
			res_io(&res, n->port[r], n->len[r]);
		if (n->irq >= 0)
			res_irq(&res, n->irq);
		aml_crs(&dev, &res);
		aml_wrap(sb, device_op, sizeof(device_op), &dev);
	}
}

/*
 * The DSDT's definition block: \_S3, \_S5 and Scope (\_SB) { Device (PCI0) { ... }
 * and the ISA devices }.
 */
static int dsdt_body(struct aml *a, bool fw_cfg)
{
	static const uint8_t scope_op = AML_SCOPE;
	static const uint8_t device_op[] = { AML_EXT_PREFIX, AML_DEVICE };
	static const uint64_t s3[4] = { ACPI_S3_SLP_TYP, ACPI_S3_SLP_TYP, 0, 0 };
	static const uint64_t s5[4] = { ACPI_S5_SLP_TYP, ACPI_S5_SLP_TYP, 0, 0 };
	struct aml sb = { 0 }, pci0 = { 0 };

	/* Name (_S3, Package (4) { SLP_TYPa, SLP_TYPb, 0, 0 }), and _S5 the same way */
	aml_byte(a, AML_NAME);
	aml_name(a, "_S3_");
	aml_package_ints(a, s3, 4);
	aml_byte(a, AML_NAME);
	aml_name(a, "_S5_");
	aml_package_ints(a, s5, 4);

	aml_name(&pci0, "PCI0");
	aml_name_int(&pci0, "_HID", acpi_eisaid("PNP0A03"));
	aml_name_int(&pci0, "_UID", 0);
	aml_name_int(&pci0, "_BBN", 0);
	pci0_crs(&pci0);
	pci0_prt(&pci0);

	aml_name(&sb, "\\_SB_");
	aml_wrap(&sb, device_op, sizeof(device_op), &pci0);
	isa_nodes_add(&sb, fw_cfg);
	aml_wrap(a, &scope_op, 1, &sb);
	return a->nomem ? -ENOMEM : 0;
}

/* ---- the tables ---- */

struct acpi_writer {
	struct guest_mem *gm;
	uint64_t next;		/* next free guest-physical address in the E segment */
	struct acpi_tables *out;
	bool fw_cfg;		/* the DSDT describes fw_cfg's ports */
	const struct acpi_iommu *iommu;	/* NULL: no DMAR table */
};

static void *acpi_alloc(struct acpi_writer *w, size_t len, size_t align, uint64_t *gpa)
{
	uint64_t at = ALIGN_UP(w->next, align);

	if (at + len > ACPI_TABLES_END)
		return NULL;
	w->next = at + len;
	*gpa = at;
	return guest_mem_ptr(w->gm, at, len);
}

static void acpi_note(struct acpi_writer *w, const char *sig, size_t siglen, uint64_t addr,
		      uint32_t len)
{
	struct acpi_table_info *t;

	if (w->out->n >= ACPI_MAX_TABLES)
		return;
	t = &w->out->t[w->out->n++];
	memset(t->sig, 0, sizeof(t->sig));
	memcpy(t->sig, sig, siglen);
	t->addr = addr;
	t->len = len;
}

static void header_init(struct acpi_header *h, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(h->sig, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = 1;
}

/* A table of len bytes whose header the caller has filled: checksum it and list it. */
static void table_done(struct acpi_writer *w, struct acpi_header *h, uint64_t gpa)
{
	h->checksum = 0;
	h->checksum = acpi_checksum(h, h->length);
	acpi_note(w, h->sig, 4, gpa, h->length);
}

static struct acpi_gas gas_io(uint16_t port, unsigned bytes)
{
	return (struct acpi_gas){
		.space = GAS_SYSTEM_IO, .bit_width = bytes * 8,
		.access_size = bytes == 1 ? 1 : bytes == 2 ? 2 : 3, .addr = port,
	};
}

static int write_fadt(struct acpi_writer *w, uint64_t facs, uint64_t dsdt, uint64_t *gpa)
{
	struct acpi_fadt *f = acpi_alloc(w, sizeof(*f), 16, gpa);

	if (!f)
		return -ENOSPC;
	memset(f, 0, sizeof(*f));
	header_init(&f->h, "FACP", sizeof(*f), 6);
	f->firmware_ctrl = facs;
	f->dsdt = dsdt;
	f->x_dsdt = dsdt;
	f->sci_int = ACPI_SCI_IRQ;
	/* smi_cmd 0: the machine is always in ACPI mode, so SCI_EN reads 1. */
	f->pm1a_evt_blk = ACPI_PM1_EVT_BLK;
	f->pm1a_cnt_blk = ACPI_PM1_CNT_BLK;
	f->pm_tmr_blk = ACPI_PM_TMR_BLK;
	f->pm1_evt_len = ACPI_PM1_EVT_LEN;
	f->pm1_cnt_len = ACPI_PM1_CNT_LEN;
	f->pm_tmr_len = ACPI_PM_TMR_LEN;
	f->x_pm1a_evt_blk = gas_io(ACPI_PM1_EVT_BLK, ACPI_PM1_EVT_LEN);
	/* ACPICA splits the event block in halves (status, enable) and reads them as words. */
	f->x_pm1a_evt_blk.access_size = 2;
	f->x_pm1a_cnt_blk = gas_io(ACPI_PM1_CNT_BLK, ACPI_PM1_CNT_LEN);
	f->x_pm_tmr_blk = gas_io(ACPI_PM_TMR_BLK, ACPI_PM_TMR_LEN);
	f->p_lvl2_lat = 0xfff;		/* > 100: no C2 */
	f->p_lvl3_lat = 0xfff;		/* > 1000: no C3 */
	f->century = RTC_CENTURY_REG;
	f->iapc_boot_arch = IAPC_LEGACY_DEVICES | IAPC_8042 | IAPC_VGA_NOT_PRESENT;
	f->flags = FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON |
		   FADT_F_TMR_VAL_EXT | FADT_F_RESET_REG_SUP;
	/* Reset through the PIIX reset control register, as QEMU's pc. */
	f->reset_reg = gas_io(PIIX_RESET_CONTROL, 1);
	f->reset_value = PIIX_RESET_VALUE;
	f->minor_version = 5;
	memcpy(&f->hypervisor_vendor, "QLITEVMM", 8);
	table_done(w, &f->h, *gpa);
	return 0;
}

/* The IOAPIC's id follows the CPUs', as in the MP table; the DMAR's IOAPIC scope names it too. */
static unsigned ioapic_id(unsigned nr_cpus)
{
	return nr_cpus;
}

static int write_madt(struct acpi_writer *w, unsigned nr_cpus, uint64_t *gpa)
{
	size_t len = sizeof(struct acpi_header) + 8 + nr_cpus * sizeof(struct madt_lapic) +
		     sizeof(struct madt_ioapic) + sizeof(struct madt_iso) +
		     sizeof(struct madt_lapic_nmi);
	struct acpi_header *h = acpi_alloc(w, len, 16, gpa);
	uint8_t *p;

	if (!h)
		return -ENOSPC;
	memset(h, 0, len);
	header_init(h, "APIC", len, 5);
	p = (uint8_t *)(h + 1);
	le_store(p, LAPIC_BASE, 4);
	le_store(p + 4, MADT_PCAT_COMPAT, 4);
	p += 8;
	for (unsigned i = 0; i < nr_cpus; i++, p += sizeof(struct madt_lapic)) {
		struct madt_lapic l = { MADT_LAPIC, sizeof(l), i, i, 1 /* enabled */ };

		memcpy(p, &l, sizeof(l));
	}
	{
		struct madt_ioapic io = { MADT_IOAPIC, sizeof(io), ioapic_id(nr_cpus), 0,
					  IOAPIC_BASE, 0 };
		/*
		 * ISA IRQs are identity-mapped, IRQ 0 included: qlite routes GSI 0 to
		 * IOAPIC pin 0 (KVM's default), where QEMU routes it to pin 2 and says
		 * so with an override. Only the SCI needs one: level, active high.
		 */
		struct madt_iso sci = { MADT_ISO, sizeof(sci), 0, ACPI_SCI_IRQ, ACPI_SCI_IRQ,
					MADT_FLAGS_LEVEL_HIGH };
		/* LINT1 of every CPU is NMI, as the MP table says. */
		struct madt_lapic_nmi nmi = { MADT_LAPIC_NMI, sizeof(nmi), 0xff, 0, 1 };

		memcpy(p, &io, sizeof(io));
		p += sizeof(io);
		memcpy(p, &sci, sizeof(sci));
		p += sizeof(sci);
		memcpy(p, &nmi, sizeof(nmi));
	}
	table_done(w, h, *gpa);
	return 0;
}

/*
 * One remapping unit for every PCI device of segment 0. With interrupt
 * remapping, the IOAPIC is in its scope: the MADT's IOAPIC, at the
 * requester id its messages carry (MACHINE_SID_IOAPIC, bus 0xff).
 */
static int write_dmar(struct acpi_writer *w, unsigned nr_cpus, const struct acpi_iommu *iommu,
		      uint64_t *gpa)
{
	size_t scope_len = iommu->intremap ? sizeof(struct dmar_scope) : 0;
	size_t len = sizeof(struct acpi_header) + 12 + sizeof(struct dmar_drhd) + scope_len;
	struct acpi_header *h = acpi_alloc(w, len, 16, gpa);
	struct dmar_drhd drhd = {
		.type = DMAR_TYPE_DRHD, .length = sizeof(drhd) + scope_len,
		.flags = DRHD_F_INCLUDE_PCI_ALL, .base = iommu->base,
	};
	struct dmar_scope ioapic = {
		.type = DMAR_SCOPE_IOAPIC, .length = sizeof(ioapic),
		.enumeration_id = ioapic_id(nr_cpus), .start_bus = MACHINE_SID_IOAPIC >> 8,
		.dev = (MACHINE_SID_IOAPIC >> 3) & 0x1f, .fn = MACHINE_SID_IOAPIC & 7,
	};
	uint8_t *p;

	if (!h)
		return -ENOSPC;
	memset(h, 0, len);
	header_init(h, "DMAR", len, 1);
	p = (uint8_t *)(h + 1);
	p[0] = ACPI_DMAR_HAW_BITS - 1;
	p[1] = iommu->intremap ? DMAR_F_INTR_REMAP | DMAR_F_X2APIC_OPT_OUT : 0;
	p += 12;	/* 10 reserved bytes */
	memcpy(p, &drhd, sizeof(drhd));
	if (iommu->intremap)
		memcpy(p + sizeof(drhd), &ioapic, sizeof(ioapic));
	table_done(w, h, *gpa);
	return 0;
}

static int write_dsdt(struct acpi_writer *w, bool fw_cfg, uint64_t *gpa)
{
	struct aml body = { 0 };
	struct acpi_header *h;
	int ret = dsdt_body(&body, fw_cfg);

	if (ret < 0) {
		aml_free(&body);
		return ret;
	}
	h = acpi_alloc(w, sizeof(*h) + body.len, 16, gpa);
	if (!h) {
		aml_free(&body);
		return -ENOSPC;
	}
	memset(h, 0, sizeof(*h));
	header_init(h, "DSDT", sizeof(*h) + body.len, 2);	/* 2: 64-bit integers */
	memcpy(h + 1, body.b, body.len);
	aml_free(&body);
	table_done(w, h, *gpa);
	return 0;
}

/* RSDT (32-bit pointers) or XSDT (64-bit) to the FADT, the MADT and the DMAR. */
static int write_sdt(struct acpi_writer *w, const char *sig, unsigned width,
		     const uint64_t *tables, unsigned n, uint64_t *gpa)
{
	size_t len = sizeof(struct acpi_header) + n * width;
	struct acpi_header *h = acpi_alloc(w, len, 16, gpa);

	if (!h)
		return -ENOSPC;
	memset(h, 0, len);
	header_init(h, sig, len, 1);
	for (unsigned i = 0; i < n; i++)
		le_store((uint8_t *)(h + 1) + i * width, tables[i], width);
	table_done(w, h, *gpa);
	return 0;
}

static int write_all(struct acpi_writer *w, unsigned nr_cpus)
{
	struct acpi_rsdp *rsdp = guest_mem_ptr(w->gm, ACPI_RSDP_ADDR, sizeof(*rsdp));
	uint64_t facs_at, dsdt_at, tables[3], rsdt_at, xsdt_at;
	unsigned n = 2;
	struct acpi_facs *facs;
	int ret;

	if (!rsdp)
		return -ENOSPC;
	/* Listed first, though written last: it is where a guest starts. */
	acpi_note(w, "RSD PTR ", 8, ACPI_RSDP_ADDR, sizeof(*rsdp));
	facs = acpi_alloc(w, sizeof(*facs), 64, &facs_at);
	if (!facs)
		return -ENOSPC;
	*facs = (struct acpi_facs){ .length = sizeof(*facs), .version = 2 };
	memcpy(facs->sig, "FACS", 4);
	acpi_note(w, "FACS", 4, facs_at, sizeof(*facs));
	ret = write_dsdt(w, w->fw_cfg, &dsdt_at);
	if (!ret)
		ret = write_fadt(w, facs_at, dsdt_at, &tables[0]);
	if (!ret)
		ret = write_madt(w, nr_cpus, &tables[1]);
	if (!ret && w->iommu)
		ret = write_dmar(w, nr_cpus, w->iommu, &tables[n++]);
	if (!ret)
		ret = write_sdt(w, "RSDT", 4, tables, n, &rsdt_at);
	if (!ret)
		ret = write_sdt(w, "XSDT", 8, tables, n, &xsdt_at);
	if (ret)
		return ret;

	*rsdp = (struct acpi_rsdp){
		.revision = 2, .rsdt = rsdt_at, .length = sizeof(*rsdp), .xsdt = xsdt_at,
	};
	memcpy(rsdp->sig, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, ACPI_OEM_ID, 6);
	rsdp->checksum = acpi_checksum(rsdp, 20);
	rsdp->ext_checksum = acpi_checksum(rsdp, sizeof(*rsdp));
	w->out->rsdp = ACPI_RSDP_ADDR;
	return 0;
}

int acpi_write(struct guest_mem *gm, unsigned nr_cpus, bool fw_cfg, const struct acpi_iommu *iommu,
	       struct acpi_tables *out)
{
	uint8_t *area = guest_mem_ptr(gm, ACPI_TABLES_START, ACPI_TABLES_END - ACPI_TABLES_START);
	struct acpi_writer w = { .gm = gm, .next = ACPI_TABLES_START, .out = out, .fw_cfg = fw_cfg,
				 .iommu = iommu };
	int ret;

	memset(out, 0, sizeof(*out));
	if (!area || !guest_mem_ptr(gm, ACPI_RSDP_ADDR, sizeof(struct acpi_rsdp)))
		return report(-ENOSPC, "ACPI tables: BIOS area not in RAM");
	if (!nr_cpus || nr_cpus > 254)
		return report(-EINVAL, "ACPI tables: %u CPUs (1 to 254 have an xAPIC id)", nr_cpus);
	memset(area, 0, ACPI_TABLES_END - ACPI_TABLES_START);
	ret = write_all(&w, nr_cpus);
	if (ret == -ENOMEM)
		return report(ret, "ACPI tables: out of memory");
	if (ret < 0) {
		memset(out, 0, sizeof(*out));
		return report(ret, "ACPI tables do not fit in the BIOS area");
	}
	return 0;
}

int acpi_waking_vector(const struct guest_mem *gm, uint64_t facs_addr, struct acpi_wake *out)
{
	const struct acpi_facs *facs = guest_mem_ptr(gm, facs_addr, sizeof(*facs));
	struct acpi_facs f;

	*out = (struct acpi_wake){ ACPI_WAKE_NONE, 0 };
	if (!facs)
		return report(-EINVAL, "ACPI wake: no FACS at %#llx", (unsigned long long)facs_addr);
	/* One copy, checked and used: the FACS is in the guest's RAM, its to write. */
	memcpy(&f, facs, sizeof(f));
	if (memcmp(f.sig, "FACS", 4) || f.length < sizeof(f))
		return report(-EINVAL, "ACPI wake: the FACS at %#llx was overwritten",
			      (unsigned long long)facs_addr);
	if (f.x_waking_vector) {
		/* ACPI 6.5, 5.2.10: 64BIT_WAKE_F only where the FACS offers it, and it does not. */
		if (f.ospm_flags & FACS_OSPM_64BIT_WAKE)
			return report(-EINVAL, "ACPI wake: the guest asked for a 64-bit waking environment, which the FACS does not offer");
		if (f.x_waking_vector > UINT32_MAX || !guest_mem_ptr(gm, f.x_waking_vector, 1))
			return report(-EINVAL, "ACPI wake: X_Firmware_Waking_Vector %#llx is not in RAM below 4 GiB",
				      (unsigned long long)f.x_waking_vector);
		*out = (struct acpi_wake){ ACPI_WAKE_PROTECTED32, f.x_waking_vector };
		return 0;
	}
	if (!f.waking_vector)
		return 0;
	/* Real mode: CS = vector >> 4 must fit its 16 bits. */
	if (f.waking_vector >= 0x100000 || !guest_mem_ptr(gm, f.waking_vector, 1))
		return report(-EINVAL, "ACPI wake: Firmware_Waking_Vector %#x is not in RAM below 1 MiB",
			      f.waking_vector);
	*out = (struct acpi_wake){ ACPI_WAKE_REAL, f.waking_vector };
	return 0;
}
