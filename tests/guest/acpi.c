// SPDX-License-Identifier: GPL-2.0-only
/*
 * acpi.c - the ACPI tables as a guest finds them, and S5 from the guest's side.
 *
 * `acpi`: scan 0xe0000-0xfffff for the RSDP (as Linux does), check its
 * checksum and the RSDT's, find the FADT and the MADT through the RSDT
 * (QEMU's SeaBIOS writes a revision-0 RSDP: no XSDT), count the MADT's
 * enabled local APICs and time the PM timer against the TSC:
 *   acpi: rsdp 0xADDR, N cpus, pm1a_cnt 0xPORT, pm_tmr 0xPORT, sci N, timer K kHz
 * `acpi-poweroff`: write SLP_TYP (from the DSDT's _S5) | SLP_EN to the FADT's
 * PM1a control block; the VMM powers off, and a guest still running after
 * 1 s FAILs.
 * `acpi-reset`: write the FADT's RESET_VALUE to its RESET_REG (system I/O),
 * as Linux's reboot=acpi does; the VMM resets, and still running after 1 s
 * FAILs.
 * `acpi-s3`: suspend to RAM and be woken by the RTC alarm, as an OS does:
 * copy a real-mode stub to S3_STUB and put it in the FACS's waking vector,
 * enable RTC_EN, arm the alarm for the next second (AIE), write the DSDT's
 * _S3 SLP_TYP with SLP_EN. The stub says `acpi-s3: resumed in real mode` on
 * COM1 and writes the byte at S3_FLAG to the debug-exit port: 0 (status 1,
 * as `done`) when the OUT to PM1a_CNT was the last instruction before the
 * sleep, 1 (status 3) when the vCPU ran on past it. Not asleep 3 s later
 * FAILs.
 */
#include "guest.h"

#define SLP_EN		(1u << 13)
#define SLP_TYP_SHIFT	10
#define PM1_RTC		(1u << 10)	/* RTC_STS, RTC_EN */
#define PM1_WAK		(1u << 15)	/* WAK_STS */
#define RTC_INDEX	0x70
#define RTC_DATA	0x71
#define RTC_SEC_ALARM	0x01
#define RTC_MIN_ALARM	0x03
#define RTC_HOUR_ALARM	0x05
#define RTC_A		0x0a
#define RTC_B		0x0b
#define RTC_C		0x0c
#define RTC_A_UIP	0x80
#define RTC_B_AIE	0x20
#define RTC_ANY		0xc0		/* an alarm byte that matches every value */
#define S3_STUB		0x18000		/* the waking vector: CS 0x1800, IP 0 */
#define S3_FLAG		(S3_STUB + 0x100)

struct acpi_found {
	uint64_t rsdp;
	const uint8_t *fadt, *madt;
};

static uint8_t sum(const uint8_t *p, uint32_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static bool sig_is(const uint8_t *p, const char *sig)
{
	for (int i = 0; sig[i]; i++)
		if (p[i] != (uint8_t)sig[i])
			return false;
	return true;
}

/* A table at pa with signature sig, mapped, its length and checksum right; else FAIL. */
static const uint8_t *table(uint32_t pa, const char *sig)
{
	const uint8_t *t = (const uint8_t *)(uintptr_t)pa;
	uint32_t len;

	if (!phys_mapped(pa, 36))
		fail("acpi: %s at 0x%x is not mapped", sig, pa);
	len = le32(t + 4);
	if (len < 36 || !phys_mapped(pa, len))
		fail("acpi: %s at 0x%x: bad length %u", sig, pa, len);
	if (sum(t, len))
		fail("acpi: %s at 0x%x: bad checksum", sig, pa);
	return t;
}

static void acpi_find(struct acpi_found *f)
{
	const uint8_t *rsdt;

	*f = (struct acpi_found){ 0 };
	for (uint64_t a = 0xe0000; a < 0x100000 && !f->rsdp; a += 16)
		if (sig_is((const uint8_t *)(uintptr_t)a, "RSD PTR ") &&
		    !sum((const uint8_t *)(uintptr_t)a, 20))
			f->rsdp = a;
	if (!f->rsdp)
		fail("acpi: no RSDP in 0xe0000-0xfffff");
	rsdt = table(le32((const uint8_t *)(uintptr_t)f->rsdp + 16), "RSDT");
	for (uint32_t off = 36; off + 4 <= le32(rsdt + 4); off += 4) {
		const uint8_t *h;
		uint32_t pa = le32(rsdt + off);

		if (!phys_mapped(pa, 4))
			fail("acpi: RSDT entry 0x%x is not mapped", pa);
		h = (const uint8_t *)(uintptr_t)pa;
		if (sig_is(h, "FACP"))
			f->fadt = table(pa, "FACP");
		else if (sig_is(h, "APIC"))
			f->madt = table(pa, "APIC");
	}
	if (!f->fadt || !f->madt)
		fail("acpi: the RSDT lacks the %s", f->fadt ? "MADT" : "FADT");
}

static unsigned madt_cpus(const uint8_t *m)
{
	uint32_t len = le32(m + 4);
	unsigned n = 0;

	for (uint32_t off = 44; off + 2 <= len && m[off + 1] >= 2; off += m[off + 1])
		if (m[off] == 0 && m[off + 1] == 8 && (le32(m + off + 4) & 1))
			n++;
	return n;
}

/* The PM timer's rate in kHz over 10 ms of TSC. */
static uint64_t pm_timer_khz(uint16_t port, bool ext)
{
	uint32_t mask = ext ? 0xffffffff : 0xffffff;
	uint32_t a, b;
	uint64_t t0, t1;

	tsc_ensure();
	a = inl(port);
	t0 = rdtsc();
	udelay(10000);
	b = inl(port);
	t1 = rdtsc();
	return (uint64_t)((b - a) & mask) * 1000 / tsc_to_us(t1 - t0);
}

void do_acpi(const char *word, char *arg)
{
	struct acpi_found f;
	uint16_t cnt, tmr;

	if (arg)
		fail("%s: takes no argument", word);
	acpi_find(&f);
	cnt = le32(f.fadt + 64);
	tmr = le32(f.fadt + 76);
	if (!cnt || !tmr)
		fail("acpi: the FADT has no PM1a control block or PM timer");
	gprintf("acpi: rsdp 0x%lx, %u cpus, pm1a_cnt 0x%x, pm_tmr 0x%x, sci %u, timer %lu kHz\n",
		(unsigned long)f.rsdp, madt_cpus(f.madt), cnt, tmr, le16(f.fadt + 46),
		(unsigned long)pm_timer_khz(tmr, le32(f.fadt + 112) & (1u << 8)));
}

/* SLP_TYPa of a sleep state (name "_S5_") in the DSDT: Name (name, Package (N) { TYP, ... }). */
static unsigned slp_typ(const uint8_t *fadt, const char *name)
{
	const uint8_t *d = table(le32(fadt + 40), "DSDT");
	uint32_t len = le32(d + 4);

	for (uint32_t i = 36; i + 9 < len; i++) {
		const uint8_t *p = d + i;

		/* NameOp NAME PackageOp PkgLength(1 byte) NumElements */
		if (p[0] != 0x08 || !sig_is(p + 1, name) || p[5] != 0x12 || (p[6] & 0xc0))
			continue;
		if (p[8] == 0x00 || p[8] == 0x01)	/* ZeroOp, OneOp */
			return p[8];
		if (p[8] == 0x0a)			/* BytePrefix */
			return p[9];
		fail("acpi: %s's SLP_TYP is not a small integer (op 0x%x)", name, p[8]);
	}
	fail("acpi: no %s in the DSDT", name);
}

static noreturn void wait_for_vmm(const char *what, unsigned seconds)
{
	uint64_t end;

	tsc_ensure();
	end = tsc_deadline(seconds * 1000000ULL);
	while (rdtsc() < end)
		cpu_relax();
	fail("%s: still running %u s later", what, seconds);
}

void do_acpi_reset(const char *word, char *arg)
{
	struct acpi_found f;
	const uint8_t *gas;
	uint8_t value;

	if (arg)
		fail("%s: takes no argument", word);
	acpi_find(&f);
	gas = f.fadt + 116;
	if (le32(f.fadt + 4) < 129 || !(le32(f.fadt + 112) & (1u << 10)))
		fail("acpi-reset: the FADT has no reset register");
	if (gas[0] != 1 || gas[1] != 8 || le32(gas + 4) > 0xffff || le32(gas + 8))
		fail("acpi-reset: the reset register is not an I/O port byte (space %u, %u bits)",
		     gas[0], gas[1]);
	value = f.fadt[128];
	gprintf("acpi-reset: 0x%x to port 0x%x\n", value, le32(gas + 4));
	tsc_ensure();
	outb(le32(gas + 4), value);
	wait_for_vmm("acpi-reset", 1);
}

/* A sleep word's start: no argument, the tables, PM1a_CNT and the SLP_TYP of state ("_S5_"). */
static unsigned sleep_setup(const char *word, char *arg, const char *state, struct acpi_found *f,
			    uint16_t *cnt)
{
	if (arg)
		fail("%s: takes no argument", word);
	acpi_find(f);
	*cnt = le32(f->fadt + 64);
	return slp_typ(f->fadt, state);
}

/* SLP_TYP typ with SLP_EN, the other bits of PM1a_CNT as they are. */
static void enter_sleep(uint16_t cnt, unsigned typ)
{
	outw(cnt, (inw(cnt) & ~(7u << SLP_TYP_SHIFT)) | typ << SLP_TYP_SHIFT | SLP_EN);
}

void do_acpi_poweroff(const char *word, char *arg)
{
	struct acpi_found f;
	uint16_t cnt;
	unsigned typ = sleep_setup(word, arg, "_S5_", &f, &cnt);

	gprintf("acpi-poweroff: SLP_TYP %u | SLP_EN to 0x%x\n", typ, cnt);
	tsc_ensure();
	enter_sleep(cnt, typ);
	wait_for_vmm("acpi-poweroff", 1);
}

/*
 * The waking vector's code, real mode at S3_STUB: print, then the flag byte to the
 * debug-exit port (the stub's offsets are from its start: CS = S3_STUB >> 4, IP 0).
 */
extern const char s3_stub_start[], s3_stub_end[];
asm(".pushsection .rodata\n"
    ".code16\n"
    "s3_stub_start:\n"
    "	cld\n"
    "	mov %cs, %ax\n"
    "	mov %ax, %ds\n"
    "	mov $(s3_stub_msg - s3_stub_start), %si\n"
    "	mov $0x3f8, %dx\n"
    "1:	lodsb\n"
    "	test %al, %al\n"
    "	jz 2f\n"
    "	out %al, %dx\n"
    "	jmp 1b\n"
    "2:	mov (0x100), %al\n"
    "	mov $0xf4, %dx\n"
    "	out %al, %dx\n"
    "3:	hlt\n"
    "	jmp 3b\n"
    "s3_stub_msg: .asciz \"acpi-s3: resumed in real mode\\n\"\n"
    "s3_stub_end:\n"
    ".code64\n"
    ".popsection\n");

static uint8_t rtc_read(uint8_t reg)
{
	outb(RTC_INDEX, reg);
	return inb(RTC_DATA);
}

static void rtc_write(uint8_t reg, uint8_t v)
{
	outb(RTC_INDEX, reg);
	outb(RTC_DATA, v);
}

void do_acpi_s3(const char *word, char *arg)
{
	volatile uint8_t *flag = (volatile uint8_t *)(uintptr_t)S3_FLAG;
	struct acpi_found f;
	uint16_t cnt;
	unsigned typ = sleep_setup(word, arg, "_S3_", &f, &cnt);
	uint16_t evt = le32(f.fadt + 56);
	uint32_t facs = le32(f.fadt + 36);

	if (!phys_mapped(facs, 64) || !sig_is((const uint8_t *)(uintptr_t)facs, "FACS"))
		fail("acpi-s3: no FACS at 0x%x", facs);
	if (s3_stub_end - s3_stub_start > 0x100)
		fail("acpi-s3: the stub is %ld bytes", (long)(s3_stub_end - s3_stub_start));
	memcpy((void *)(uintptr_t)S3_STUB, s3_stub_start, s3_stub_end - s3_stub_start);
	*(volatile uint32_t *)(uintptr_t)(facs + 12) = S3_STUB;	/* Firmware_Waking_Vector */
	gprintf("acpi-s3: waking vector 0x%x, SLP_TYP %u | SLP_EN to 0x%x, RTC_EN at 0x%x\n",
		S3_STUB, typ, cnt, evt + 2);
	tsc_ensure();
	/* As an OS: clear the wake and RTC status, enable the RTC's wake event. */
	outw(evt, PM1_WAK | PM1_RTC);
	outw(evt + 2, PM1_RTC);
	/* Just after an update cycle, the alarm for "any second" is a whole second away. */
	while (!(rtc_read(RTC_A) & RTC_A_UIP))
		;
	while (rtc_read(RTC_A) & RTC_A_UIP)
		;
	rtc_read(RTC_C);
	rtc_write(RTC_SEC_ALARM, RTC_ANY);
	rtc_write(RTC_MIN_ALARM, RTC_ANY);
	rtc_write(RTC_HOUR_ALARM, RTC_ANY);
	rtc_write(RTC_B, rtc_read(RTC_B) | RTC_B_AIE);
	*flag = 0;
	barrier();
	enter_sleep(cnt, typ);
	barrier();
	*flag = 1;
	wait_for_vmm("acpi-s3", 3);
}
