// SPDX-License-Identifier: GPL-2.0-only
/*
 * main.c - the scenarios, run in ring 3 in command-line order.
 *
 * Each word drives one kind of exit (PIO, string PIO, MMIO, reset, SIPI,
 * console input) so that integration tests and benchmarks can ask for
 * exactly the exits they want to see; README.md is the contract.
 */
#include "guest.h"

#define HVM_START_MAGIC		0x336ec578
#define HVM_VERSION_OFF		4
#define HVM_CMDLINE_OFF		24
#define HVM_MEMMAP_OFF		40	/* version 1: memmap_paddr, then memmap_entries */
#define HVM_MEMMAP_N_OFF	48
#define MEMMAP_ENTRY		24	/* addr, size (le64), type (le32), reserved */
#define MEMMAP_RAM		1
#define IMAGE_BASE		0x100000
#define I8042_STATUS		0x64
#define I8042_CMD		0x64
#define I8042_RESET		0xfe
#define STR_MAX			65536
#define UART_ECHO_TIMEOUT_US	10000000
#define RESET_GRACE_US		2000000

static char cmdline[4096];
static uint8_t str_buf[STR_MAX];

noreturn void guest_exit(uint8_t code)
{
	outb(DEBUG_EXIT_PORT, code);
	gprintf("qlite-test-guest: exit 0x%x ignored (no debug-exit device?), halting\n", code);
	guest_park();
}

noreturn void fail(const char *fmt, ...)
{
	va_list ap;

	gprintf("FAIL: ");
	va_start(ap, fmt);
	vgprintf(fmt, ap);
	va_end(ap);
	gprintf("\n");
	guest_exit(EXIT_FAIL);
}

/* "<word>: 10 ops, 12 us, 1200 ns/op, clock cmdline" - what benchmarks read. */
void report(const char *word, uint64_t ops, uint64_t cycles)
{
	uint64_t ns = tsc_to_ns(cycles);

	gprintf("%s: %lu ops, %lu us, %lu ns/op, clock %s\n", word, (unsigned long)ops,
		(unsigned long)(ns / 1000), (unsigned long)(ops ? ns / ops : 0), tsc_clock());
}

/* Parse the word's arguments: between min and max numbers, defaults after. */
void args(const char *word, char *arg, uint64_t *v, int min, int max)
{
	int n = split_args(arg, v, max);

	if (n < min)
		fail("%s: expected %d to %d numeric arguments", word, min, max);
}

static void no_args(const char *word, char *arg)
{
	if (arg)
		fail("%s: takes no argument", word);
}

static void do_hello(const char *word, char *arg)
{
	no_args(word, arg);
	gprintf("qlite-test-guest: hello\n");
}

static void do_exit(const char *word, char *arg)
{
	uint64_t v[1];

	args(word, arg, v, 1, 1);
	if (v[0] > 0xff)
		fail("exit: %lu does not fit the byte the debug-exit port takes",
		     (unsigned long)v[0]);
	guest_exit(v[0]);
}

/*
 * count accesses, i counting; with `hist` each one timed into the histogram (a loop of its own,
 * so the plain loop stays as tight as it was).
 */
#define ACCESS_LOOP(count, access)						\
	do {									\
		if (!hist_on) {							\
			for (i = 0; i < (count); i++)				\
				access;						\
			break;							\
		}								\
		for (i = 0; i < (count); i++) {					\
			uint64_t t = rdtsc();					\
										\
			access;							\
			hist_add(rdtsc() - t);					\
		}								\
	} while (0)

static void do_hist(const char *word, char *arg)
{
	no_args(word, arg);
	hist_on = true;
}

static void do_pio(const char *word, char *arg, bool write)
{
	uint64_t v[3] = { 0, 0, 1 }, count, i, t0;
	uint16_t port;

	args(word, arg, v, 2, 3);
	if (v[0] > 0xffff || (v[2] != 1 && v[2] != 2 && v[2] != 4))
		fail("%s: port must be 0..0xffff and size 1, 2 or 4", word);
	port = v[0];
	count = v[1];
	tsc_ensure();
	hist_reset();
	t0 = rdtsc();
	switch (v[2] * 2 + write) {
	case 2: ACCESS_LOOP(count, (void)inb(port)); break;
	case 3: ACCESS_LOOP(count, outb(port, i)); break;
	case 4: ACCESS_LOOP(count, (void)inw(port)); break;
	case 5: ACCESS_LOOP(count, outw(port, i)); break;
	case 8: ACCESS_LOOP(count, (void)inl(port)); break;
	case 9: ACCESS_LOOP(count, outl(port, i)); break;
	}
	report(word, count, rdtsc() - t0);
	if (hist_on)
		hist_print(word);
}

static void do_pio_write(const char *word, char *arg) { do_pio(word, arg, true); }
static void do_pio_read(const char *word, char *arg) { do_pio(word, arg, false); }

/* One rep outsb/insb: a single string-PIO exit carrying COUNT bytes. */
static void do_pio_str(const char *word, char *arg, bool write)
{
	uint64_t v[2], count, t0;
	uint8_t *p = str_buf;

	args(word, arg, v, 2, 2);
	if (v[0] > 0xffff || v[1] > STR_MAX)
		fail("%s: port must be 0..0xffff and count at most %u", word, STR_MAX);
	count = v[1];
	for (uint64_t i = 0; i < count; i++)
		str_buf[i] = i;
	tsc_ensure();
	t0 = rdtsc();
	if (write)
		asm volatile("rep outsb" : "+S"(p), "+c"(count) : "d"((uint16_t)v[0]) : "memory");
	else
		asm volatile("rep insb" : "+D"(p), "+c"(count) : "d"((uint16_t)v[0]) : "memory");
	report(word, 1, rdtsc() - t0);
}

static void do_pio_outs(const char *word, char *arg) { do_pio_str(word, arg, true); }
static void do_pio_ins(const char *word, char *arg) { do_pio_str(word, arg, false); }

static void do_mmio(const char *word, char *arg, bool write)
{
	uint64_t v[3] = { 0, 0, 4 }, count, i, t0;
	uintptr_t a;

	args(word, arg, v, 2, 3);
	if (v[2] != 1 && v[2] != 2 && v[2] != 4 && v[2] != 8)
		fail("%s: size must be 1, 2, 4 or 8", word);
	if (!phys_mapped(v[0], v[2]))
		fail("%s: 0x%lx is not mapped (0..1 GiB and 3..4 GiB are)", word,
		     (unsigned long)v[0]);
	a = v[0];
	count = v[1];
	tsc_ensure();
	hist_reset();
	t0 = rdtsc();
	switch (v[2] * 2 + write) {
	case 2: ACCESS_LOOP(count, (void)*(volatile uint8_t *)a); break;
	case 3: ACCESS_LOOP(count, *(volatile uint8_t *)a = i); break;
	case 4: ACCESS_LOOP(count, (void)*(volatile uint16_t *)a); break;
	case 5: ACCESS_LOOP(count, *(volatile uint16_t *)a = i); break;
	case 8: ACCESS_LOOP(count, (void)*(volatile uint32_t *)a); break;
	case 9: ACCESS_LOOP(count, *(volatile uint32_t *)a = i); break;
	case 16: ACCESS_LOOP(count, (void)*(volatile uint64_t *)a); break;
	case 17: ACCESS_LOOP(count, *(volatile uint64_t *)a = i); break;
	}
	report(word, count, rdtsc() - t0);
	if (hist_on)
		hist_print(word);
}

static void do_mmio_write(const char *word, char *arg) { do_mmio(word, arg, true); }
static void do_mmio_read(const char *word, char *arg) { do_mmio(word, arg, false); }

static void do_reset(const char *word, char *arg)
{
	uint64_t deadline;

	no_args(word, arg);
	deadline = tsc_deadline(100000);
	while (inb(I8042_STATUS) & 0x02)
		if (rdtsc() > deadline)
			fail("reset: i8042 input buffer still full after 100 ms");
	outb(I8042_CMD, I8042_RESET);
	udelay(RESET_GRACE_US);
	fail("reset: still running %u ms after writing 0xfe to port 0x64",
	     RESET_GRACE_US / 1000);
}

static void do_smp(const char *word, char *arg)
{
	uint64_t v[1];

	args(word, arg, v, 1, 1);
	if (v[0] < 1 || v[0] > MAX_CPUS)
		fail("smp: %lu cpus requested, 1..%u supported", (unsigned long)v[0], MAX_CPUS);
	smp_bringup(v[0]);
}

static void do_uart_echo(const char *word, char *arg)
{
	uint64_t v[1];

	args(word, arg, v, 1, 1);
	for (uint64_t i = 0; i < v[0]; i++) {
		int c = uart_getc(UART_ECHO_TIMEOUT_US);

		if (c < 0)
			fail("uart-echo: no byte %lu of %lu within %u s", (unsigned long)i + 1,
			     (unsigned long)v[0], UART_ECHO_TIMEOUT_US / 1000000);
		if (c == UART_BREAK)
			gprintf("[break]");
		else
			uart_putc(c);
	}
	uart_putc('\n');
}

static void do_spin(const char *word, char *arg)
{
	uint64_t v[1], t0;

	args(word, arg, v, 1, 1);
	tsc_ensure();
	t0 = rdtsc();
	udelay(v[0] * 1000);
	gprintf("spin: %lu ms (%lu us measured)\n", (unsigned long)v[0],
		(unsigned long)tsc_to_us(rdtsc() - t0));
}

/* Deliberate exceptions from ring 3, to test the exception path and exit code. */
static void do_fault(const char *word, char *arg)
{
	if (!arg)
		fail("fault: expected ud, pf, gp or de");
	if (!strcmp(arg, "ud"))
		asm volatile("ud2");
	else if (!strcmp(arg, "pf"))
		(void)*(volatile uint32_t *)0x80000000UL;	/* 2 GiB: not mapped */
	else if (!strcmp(arg, "gp"))
		(void)*(volatile uint32_t *)0x8000000000000000UL;	/* non-canonical */
	else if (!strcmp(arg, "de"))
		asm volatile("xorl %%ecx, %%ecx; divl %%ecx" : : : "eax", "ecx", "edx");
	else
		fail("fault: unknown kind '%s'", arg);
	fail("fault=%s: no exception", arg);
}

static const struct {
	const char *name;
	void (*run)(const char *word, char *arg);
} scenarios[] = {
	{ "hello", do_hello },
	{ "exit", do_exit },
	{ "hist", do_hist },
	{ "pio-write", do_pio_write },
	{ "pio-read", do_pio_read },
	{ "pio-outs", do_pio_outs },
	{ "pio-ins", do_pio_ins },
	{ "mmio-write", do_mmio_write },
	{ "mmio-read", do_mmio_read },
	{ "reset", do_reset },
	{ "smp", do_smp },
	{ "uart-echo", do_uart_echo },
	{ "spin", do_spin },
	{ "tsc-khz", do_tsc_khz },
	{ "fault", do_fault },
	{ "pci", do_pci },
	{ "ide-pio", do_ide_pio },
	{ "ide-identify", do_ide_identify },
	{ "ide-dma", do_ide_dma },
	{ "vblk", do_vblk },
	{ "vblk-mmio", do_vblk_mmio },
	{ "vblk-kick", do_vblk_kick },
	{ "vblk-mmio-kick", do_vblk_mmio_kick },
	{ "flushed", do_flushed },
	{ "acpi", do_acpi },
	{ "acpi-poweroff", do_acpi_poweroff },
	{ "acpi-reset", do_acpi_reset },
	{ "acpi-s3", do_acpi_s3 },
	{ "nic", do_nic },
	{ "net-tx", do_net_tx },
	{ "net-rx", do_net_rx },
	{ "net-echo", do_net_echo },
	{ "net-dhcp", do_net_dhcp },
	{ "fw-cfg", do_fw_cfg },
	{ "edu", do_edu },
	{ "pic-ticks", do_pic_ticks },
};

static void run_word(char *word)
{
	char *arg = NULL;

	for (char *p = word; *p; p++) {
		if (*p == '=') {
			*p = '\0';
			arg = p + 1;
			break;
		}
	}
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		if (!strcmp(word, scenarios[i].name)) {
			scenarios[i].run(word, arg);
			return;
		}
	}
	fail("unknown word '%s'", word);
}

/* Copy the command line out of hvm_start_info before anything reuses low memory. */
static void read_cmdline(void)
{
	const uint8_t *si = (const uint8_t *)(uintptr_t)boot_info_pa;
	uint64_t pa;
	size_t n;

	if (!phys_mapped(boot_info_pa, 56))
		fail("hvm_start_info at 0x%lx is not mapped", (unsigned long)boot_info_pa);
	if (*(const uint32_t *)si != HVM_START_MAGIC)
		fail("bad hvm_start_info magic 0x%x", *(const uint32_t *)si);
	pa = *(const uint64_t *)(si + HVM_CMDLINE_OFF);
	if (!pa)
		return;
	for (n = 0; n < sizeof(cmdline); n++) {
		if (!phys_mapped(pa + n, 1))
			fail("command line at 0x%lx is not mapped", (unsigned long)pa);
		cmdline[n] = *(const char *)(uintptr_t)(pa + n);
		if (!cmdline[n])
			return;
	}
	fail("command line longer than %u bytes", (unsigned)sizeof(cmdline) - 1);
}

/*
 * The end of the RAM range the image is in, from hvm_start_info's memory
 * map (version 1), read before anything reuses low memory: what
 * ram_alloc() may hand out. Left 0 (unknown) without a map.
 */
static void read_memmap(void)
{
	const uint8_t *si = (const uint8_t *)(uintptr_t)boot_info_pa;
	uint64_t pa;
	uint32_t n;

	if (*(const uint32_t *)(si + HVM_VERSION_OFF) < 1)
		return;
	pa = *(const uint64_t *)(si + HVM_MEMMAP_OFF);
	n = *(const uint32_t *)(si + HVM_MEMMAP_N_OFF);
	if (!pa || !phys_mapped(pa, (uint64_t)n * MEMMAP_ENTRY))
		return;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = (const uint8_t *)(uintptr_t)(pa + (uint64_t)i * MEMMAP_ENTRY);
		uint64_t addr = *(const uint64_t *)e, size = *(const uint64_t *)(e + 8);

		if (*(const uint32_t *)(e + 16) == MEMMAP_RAM && addr <= IMAGE_BASE &&
		    size > IMAGE_BASE - addr)
			ram_top = addr + size;
	}
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

noreturn void guest_main(void)
{
	char *p = cmdline;

	read_cmdline();
	read_memmap();
	while (*p) {
		char *word;

		while (is_space(*p))
			p++;
		if (!*p)
			break;
		word = p;
		while (*p && !is_space(*p))
			p++;
		if (*p)
			*p++ = '\0';
		run_word(word);
	}
	gprintf("qlite-test-guest: done\n");
	guest_exit(EXIT_PASS);
}
