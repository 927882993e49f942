// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ACPI power-management registers the FADT points to (src/boot/acpi.c),
 * at the ports of QEMU's pc (PIIX4 PM):
 *   0x600  PM1_STS  status, write 1 to clear: TMR_STS, set when the timer's
 *                   most significant bit toggles; RTC_STS, set when the RTC
 *                   raises its interrupt (a machine PM event); WAK_STS, set
 *                   when an enabled event wakes the machine from S3 (the FADT
 *                   says the buttons are not fixed hardware)
 *   0x602  PM1_EN   enables; TMR_EN or RTC_EN with its status raises the SCI,
 *                   RTC_EN also lets the RTC wake the machine
 *   0x604  PM1_CNT  SCI_EN reads 1 (no SMI_CMD: always in ACPI mode); with
 *                   SLP_EN, SLP_TYP = S5 powers the VM off with status 0, and
 *                   SLP_TYP = S3 puts it to sleep (machine->sleep) until an
 *                   enabled wake event (machine->wake)
 *   0x608  PM_TMR   3.579545 MHz, 32 bits (TMR_VAL_EXT), from CLOCK_MONOTONIC
 * The SCI is ISA IRQ 9, level-triggered, active high, as the MADT says.
 * Accesses of any width are taken byte by byte, as the hardware decodes them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qlite/acpi.h"
#include "qlite/devices.h"
#include "qlite/util.h"

#define PM_STS		0
#define PM_EN		2
#define PM_CNT		4
#define PM_TMR		8

#define PM1_EN_WRITABLE	(ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | \
			 ACPI_PM1_RTC)
#define PM1_CNT_BM_RLS	(1u << 1)
#define PM1_CNT_KEPT	(ACPI_PM1_CNT_SLP_TYP | PM1_CNT_BM_RLS)
#define PM1_STS_LATCHED	(ACPI_PM1_RTC | ACPI_PM1_WAK)	/* the others are computed */
#define PM1_WAKE_EVENTS	ACPI_PM1_RTC	/* enables that can wake from S3 */
#define TMR_MSB		(1ULL << (ACPI_PM_TIMER_BITS - 1))

struct acpi_pm {
	struct machine *m;
	pthread_mutex_t lock;		/* vCPUs' accesses against the timer's callback */
	struct timespec t0;		/* the timer counts from here... */
	uint64_t tick0;			/* ...starting at this count */
	uint16_t sts, en, cnt;		/* sts: the latched bits (PM1_STS_LATCHED) */
	uint64_t tmr_cleared;		/* ticks when TMR_STS was last cleared */
	bool sci;
	bool sleeping;			/* in S3, between machine->sleep and ->wake */
	struct loop_timer *timer;	/* wakes the SCI when TMR_EN waits for a toggle */
	bool armed;			/* so that writes with TMR_EN clear cost no syscall */
	_Atomic uint64_t sci_raised, sleeps_ignored, s3_sleeps, s3_wakes;
	atomic_bool said_sleep, said_no_wake;
};

static uint64_t pm_ticks(const struct acpi_pm *pm)
{
	struct timespec now;
	uint64_t s, ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	s = now.tv_sec - pm->t0.tv_sec;
	if (now.tv_nsec >= pm->t0.tv_nsec) {
		ns = now.tv_nsec - pm->t0.tv_nsec;
	} else {
		s--;
		ns = now.tv_nsec + 1000000000 - pm->t0.tv_nsec;
	}
	return pm->tick0 + s * ACPI_PM_TIMER_HZ + ns * ACPI_PM_TIMER_HZ / 1000000000;
}

/* TMR_STS: has the counter's top bit changed since the guest last cleared it? */
static bool tmr_sts(const struct acpi_pm *pm, uint64_t now)
{
	return now / TMR_MSB != pm->tmr_cleared / TMR_MSB;
}

/* Under the lock: the SCI follows STS & EN, and the timer waits for the next toggle. */
static void sci_update(struct acpi_pm *pm)
{
	uint64_t now = pm_ticks(pm);
	bool sts = tmr_sts(pm, now);
	bool level = ((sts ? ACPI_PM1_TMR : 0) | pm->sts) & pm->en;

	if (level != pm->sci) {
		pm->sci = level;
		if (level)
			atomic_fetch_add_explicit(&pm->sci_raised, 1, memory_order_relaxed);
		pm->m->irq_set(pm->m, ACPI_SCI_IRQ, level);
	}
	if (pm->timer && (pm->en & ACPI_PM1_TMR) && !sts) {
		uint64_t left = (pm->tmr_cleared / TMR_MSB + 1) * TMR_MSB - now;

		/* Rounded up: an early wake-up finds no toggle and sleeps again. */
		pm->armed = !loop_timer_arm(pm->timer, (left * 1000000000 + ACPI_PM_TIMER_HZ - 1) /
					    ACPI_PM_TIMER_HZ + 1);
	} else if (pm->armed) {
		loop_timer_arm(pm->timer, 0);
		pm->armed = false;
	}
}

static void pm_timer_fired(void *opaque)
{
	struct acpi_pm *pm = opaque;

	pthread_mutex_lock(&pm->lock);
	sci_update(pm);
	pthread_mutex_unlock(&pm->lock);
}

static void pm_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct acpi_pm *pm = opaque;
	uint8_t regs[ACPI_PM_LEN] = { 0 };
	uint64_t now;

	pthread_mutex_lock(&pm->lock);
	now = pm_ticks(pm);
	le_store(regs + PM_STS, (tmr_sts(pm, now) ? ACPI_PM1_TMR : 0) | pm->sts, 2);
	le_store(regs + PM_EN, pm->en, 2);
	le_store(regs + PM_CNT, pm->cnt | ACPI_PM1_CNT_SCI_EN, 2);
	le_store(regs + PM_TMR, now & (TMR_MSB * 2 - 1), 4);
	pthread_mutex_unlock(&pm->lock);
	memcpy(data, regs + offset, len);
}

/* Under the lock: SLP_TYP = S3 with SLP_EN. */
static void pm_enter_s3(struct acpi_pm *pm)
{
	if (pm->sleeping)
		return;		/* another vCPU's write, before it stopped: asleep already */
	pm->sleeping = true;
	atomic_fetch_add_explicit(&pm->s3_sleeps, 1, memory_order_relaxed);
	if (!(pm->en & PM1_WAKE_EVENTS) && !atomic_exchange(&pm->said_no_wake, true))
		pr_info("acpi-pm: guest entered S3 with no wake event enabled (PM1_EN %#x): it sleeps until qlite is stopped",
			pm->en);
	pm->m->sleep(pm->m);
}

/* Any other sleep type than S3, outside the lock. */
static void pm_sleep_other(struct acpi_pm *pm, unsigned typ)
{
	char detail[96];

	if (typ == ACPI_S5_SLP_TYP) {
		snprintf(detail, sizeof(detail), "guest entered ACPI S5 (SLP_TYP %u, SLP_EN)", typ);
		pm->m->request_stop(pm->m, STOP_POWEROFF, 0, detail);
		return;
	}
	/* Only \_S3 and \_S5 are declared: another sleep state is not one this machine has. */
	atomic_fetch_add_explicit(&pm->sleeps_ignored, 1, memory_order_relaxed);
	if (!atomic_exchange(&pm->said_sleep, true))
		pr_info("acpi-pm: guest asked for sleep type %u; only S3 (type %u) and S5 (type %u) exist, ignored",
			typ, ACPI_S3_SLP_TYP, ACPI_S5_SLP_TYP);
}

/* A machine PM event (the RTC's interrupt): its status, and a wake when enabled. */
static void pm_event(void *opaque, enum machine_pm_event ev)
{
	struct acpi_pm *pm = opaque;

	if (ev != PM_EVENT_RTC_ALARM)
		return;
	pthread_mutex_lock(&pm->lock);
	pm->sts |= ACPI_PM1_RTC;
	if (pm->sleeping && (pm->en & ACPI_PM1_RTC)) {
		pm->sleeping = false;
		pm->sts |= ACPI_PM1_WAK;
		atomic_fetch_add_explicit(&pm->s3_wakes, 1, memory_order_relaxed);
		pm->m->wake(pm->m);
	}
	sci_update(pm);
	pthread_mutex_unlock(&pm->lock);
}

/* The bytes of [offset, offset + len) that fall in the 2-byte register at reg. */
static bool reg_part(uint64_t offset, unsigned len, const uint8_t *data, unsigned reg,
		     uint16_t *val, uint16_t *mask)
{
	*val = *mask = 0;
	for (unsigned i = 0; i < len; i++) {
		uint64_t at = offset + i;

		if (at < reg || at >= reg + 2)
			continue;
		*val |= (uint16_t)data[i] << (8 * (at - reg));
		*mask |= 0xffu << (8 * (at - reg));
	}
	return *mask;
}

static void pm_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct acpi_pm *pm = opaque;
	uint16_t val, mask;
	int sleep_typ = -1;

	pthread_mutex_lock(&pm->lock);
	if (reg_part(offset, len, data, PM_STS, &val, &mask)) {
		uint64_t now = pm_ticks(pm);

		if ((val & ACPI_PM1_TMR) && tmr_sts(pm, now))
			pm->tmr_cleared = now;
		pm->sts &= ~(val & PM1_STS_LATCHED);
	}
	if (reg_part(offset, len, data, PM_EN, &val, &mask))
		pm->en = ((pm->en & ~mask) | (val & mask)) & PM1_EN_WRITABLE;
	if (reg_part(offset, len, data, PM_CNT, &val, &mask)) {
		pm->cnt = ((pm->cnt & ~mask) | (val & mask)) & PM1_CNT_KEPT;
		if (val & mask & ACPI_PM1_CNT_SLP_EN)
			sleep_typ = (pm->cnt & ACPI_PM1_CNT_SLP_TYP) >> ACPI_PM1_CNT_SLP_TYP_SHIFT;
	}
	sci_update(pm);
	/* Under the lock, so that a wake event cannot come between deciding and sleeping. */
	if (sleep_typ == ACPI_S3_SLP_TYP)
		pm_enter_s3(pm);
	pthread_mutex_unlock(&pm->lock);
	if (sleep_typ >= 0 && sleep_typ != ACPI_S3_SLP_TYP)
		pm_sleep_other(pm, sleep_typ);
}

static const char *pm_reg_name(void *opaque, uint64_t offset)
{
	static const char *const names[ACPI_PM_LEN] = {
		"PM1_STS", "PM1_STS", "PM1_EN", "PM1_EN", "PM1_CNT", "PM1_CNT",
		"reserved", "reserved", "PM_TMR", "PM_TMR", "PM_TMR", "PM_TMR",
	};

	return offset < ACPI_PM_LEN ? names[offset] : "?";
}

static const struct bus_ops acpi_pm_ops = {
	.read = pm_read,
	.write = pm_write,
	.reg_name = pm_reg_name,
};

static void acpi_pm_report(void *opaque, struct device_report *out)
{
	struct acpi_pm *pm = opaque;

	snprintf(out->path, sizeof(out->path), "SCI irq %u (level), timer %u-bit",
		 ACPI_SCI_IRQ, ACPI_PM_TIMER_BITS);
	device_report_add(out, "sci_raised",
			  atomic_load_explicit(&pm->sci_raised, memory_order_relaxed));
	device_report_add(out, "s3_sleeps",
			  atomic_load_explicit(&pm->s3_sleeps, memory_order_relaxed));
	device_report_add(out, "s3_wakes",
			  atomic_load_explicit(&pm->s3_wakes, memory_order_relaxed));
	device_report_add(out, "sleeps_ignored",
			  atomic_load_explicit(&pm->sleeps_ignored, memory_order_relaxed));
}

static void acpi_pm_release(void *state)
{
	struct acpi_pm *pm = state;

	loop_timer_destroy(pm->timer);
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

int acpi_pm_create(struct machine *m)
{
	return acpi_pm_create_counting_from(m, 0);
}

int acpi_pm_create_counting_from(struct machine *m, uint32_t count)
{
	struct acpi_pm *pm = machine_alloc_device(m, sizeof(*pm), acpi_pm_release);
	char summary[96];
	int ret;

	if (!pm)
		return -ENOMEM;
	pm->m = m;
	pthread_mutex_init(&pm->lock, NULL);
	clock_gettime(CLOCK_MONOTONIC, &pm->t0);
	pm->tick0 = pm->tmr_cleared = count;
	if (m->loop) {
		ret = machine_timer_create(m, pm_timer_fired, pm, &pm->timer);
		if (ret < 0)
			return report(ret, "acpi-pm: timer: %s", strerror(-ret));
	}
	ret = machine_claim(m, BUS_PIO, ACPI_PM_BASE, ACPI_PM_LEN, "acpi-pm", &acpi_pm_ops, pm);
	if (ret < 0)
		return ret;
	ret = machine_claim_irq(m, ACPI_SCI_IRQ, "acpi-pm (SCI)", false);
	if (ret < 0)
		return report(ret, "acpi-pm: cannot claim IRQ %u (the SCI)", ACPI_SCI_IRQ);
	ret = machine_pm_listen(m, pm_event, pm);
	if (ret < 0)
		return report(ret, "acpi-pm: another device listens to the machine's PM events");
	snprintf(summary, sizeof(summary), "pio %#x-%#x, SCI irq %u, PM timer %u-bit, S3 (RTC wake) and S5",
		 ACPI_PM_BASE, ACPI_PM_BASE + ACPI_PM_LEN - 1, ACPI_SCI_IRQ, ACPI_PM_TIMER_BITS);
	return machine_add_report(m, "acpi-pm", summary, acpi_pm_report, pm);
}
