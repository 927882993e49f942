// SPDX-License-Identifier: GPL-2.0-only
/*
 * MC146818 CMOS real-time clock at 0x70 (index; bit 7 masks NMIs, which the
 * in-kernel irqchip does not model: it is kept, not acted upon) and 0x71
 * (data).
 *
 * The clock is the host's CLOCK_REALTIME in UTC plus an offset: a guest that
 * sets the time moves its own offset, never the host clock. The time
 * registers are computed on each read, honouring register B's binary/BCD and
 * 12/24-hour bits; while B.SET is on they hold still and take the guest's
 * writes, and clearing SET turns what was written into the new offset.
 *
 * UIP reads 1 in the last 244 us before each second boundary, like the real
 * part's update cycle, so a guest that waits for UIP == 0 then reads the
 * time has the whole window to read a stable value.
 *
 * Interrupts, as the chip raises them: register C latches the periodic,
 * alarm and update-ended flags as time passes them, IRQF says that one of
 * them is on with its enable (register B), and IRQF drives GSI 8 until the
 * guest reads C, which clears it all. The flags are brought up to date on
 * every access (from the time passed since the previous one, so a guest that
 * polls C sees them whether or not it enabled the interrupt) and by a timer
 * on the I/O thread, armed only while an enabled flag is still clear, for
 * the next event that would set one. Each rise of the line is a power-
 * management event (ACPI RTC_STS, a wake from S3: machine_pm_event).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qlite/devices.h"
#include "qlite/util.h"

#define RTC_DATA_PORT	0x71
#define RTC_NR_REGS	128
#define RTC_NMI_MASK	0x80

#define REG_SEC		0x00
#define REG_SEC_ALARM	0x01
#define REG_MIN		0x02
#define REG_MIN_ALARM	0x03
#define REG_HOUR	0x04
#define REG_HOUR_ALARM	0x05
#define REG_WDAY	0x06
#define REG_MDAY	0x07
#define REG_MONTH	0x08
#define REG_YEAR	0x09
#define REG_A		0x0a
#define REG_B		0x0b
#define REG_C		0x0c
#define REG_D		0x0d
#define REG_CENTURY	0x32

#define A_UIP		0x80
#define A_DV_NORMAL	0x20	/* 32.768 kHz time base, running */
#define A_RATE		0x0f

#define B_SET		0x80
#define B_PIE		0x40
#define B_AIE		0x20
#define B_UIE		0x10
#define B_DM_BINARY	0x04
#define B_24H		0x02

#define C_IRQF		0x80
#define C_PF		0x40
#define C_AF		0x20
#define C_UF		0x10

#define D_VRT		0x80

#define HOUR_PM		0x80
#define ALARM_DONT_CARE	0xc0	/* alarm byte values >= 0xc0 match anything */

/* The update cycle takes 1984 us; UIP rises 244 us before it. */
#define UIP_WINDOW_NS	244000


#define NSEC		1000000000LL
#define RTC_MAX_SECONDS	(INT64_MAX / NSEC / 2)
#define RTC_NEVER	INT64_MAX

struct rtc {
	pthread_mutex_t lock;
	struct machine *m;
	uint8_t index;
	uint8_t cmos[RTC_NR_REGS];
	int64_t offset_ns;	/* guest time - host CLOCK_REALTIME */
	int64_t scan_ns;	/* guest time up to which register C's flags are latched */
	uint8_t c;		/* PF, AF, UF latched since the guest last read C */
	bool irq;		/* GSI 8's level: IRQF */
	struct loop_timer *timer;	/* the next event that would raise IRQF */
	bool armed;
	int64_t deadline;	/* guest time the timer is armed for */
};

static int64_t host_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * NSEC + ts.tv_nsec;
}

static int64_t rtc_now_ns(const struct rtc *r)
{
	return host_now_ns() + r->offset_ns;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

static bool rtc_binary(const struct rtc *r)
{
	return r->cmos[REG_B] & B_DM_BINARY;
}

static uint8_t to_bcd(unsigned v)
{
	return ((v / 10) << 4) | (v % 10);
}

static unsigned from_bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t rtc_encode(const struct rtc *r, unsigned v)
{
	return rtc_binary(r) ? v : to_bcd(v % 100);
}

static unsigned rtc_decode(const struct rtc *r, uint8_t v)
{
	return rtc_binary(r) ? v : from_bcd(v);
}

static uint8_t rtc_encode_hour(const struct rtc *r, unsigned hour)
{
	unsigned h12;

	if (r->cmos[REG_B] & B_24H)
		return rtc_encode(r, hour);
	h12 = hour % 12 ? hour % 12 : 12;
	return rtc_encode(r, h12) | (hour >= 12 ? HOUR_PM : 0);
}

static unsigned rtc_decode_hour(const struct rtc *r, uint8_t v)
{
	unsigned h;

	if (r->cmos[REG_B] & B_24H)
		return rtc_decode(r, v);
	h = rtc_decode(r, v & ~HOUR_PM) % 12;
	return (v & HOUR_PM) ? h + 12 : h;
}

/* Fill the time and date registers from the guest's current time. */
static void rtc_latch_time(struct rtc *r)
{
	time_t t = floor_div(rtc_now_ns(r), NSEC);
	struct tm tm;

	gmtime_r(&t, &tm);
	r->cmos[REG_SEC] = rtc_encode(r, tm.tm_sec);
	r->cmos[REG_MIN] = rtc_encode(r, tm.tm_min);
	r->cmos[REG_HOUR] = rtc_encode_hour(r, tm.tm_hour);
	r->cmos[REG_WDAY] = rtc_encode(r, tm.tm_wday + 1);
	r->cmos[REG_MDAY] = rtc_encode(r, tm.tm_mday);
	r->cmos[REG_MONTH] = rtc_encode(r, tm.tm_mon + 1);
	r->cmos[REG_YEAR] = rtc_encode(r, tm.tm_year % 100);
	r->cmos[REG_CENTURY] = rtc_encode(r, (tm.tm_year + 1900) / 100);
}

/* The guest wrote the time registers: make them the current time. */
static void rtc_adopt_time(struct rtc *r)
{
	struct tm tm = {
		.tm_sec = rtc_decode(r, r->cmos[REG_SEC]),
		.tm_min = rtc_decode(r, r->cmos[REG_MIN]),
		.tm_hour = rtc_decode_hour(r, r->cmos[REG_HOUR]),
		.tm_mday = rtc_decode(r, r->cmos[REG_MDAY]),
		.tm_mon = (int)rtc_decode(r, r->cmos[REG_MONTH]) - 1,
		.tm_year = rtc_decode(r, r->cmos[REG_CENTURY]) * 100 +
			   rtc_decode(r, r->cmos[REG_YEAR]) - 1900,
	};
	int64_t host = host_now_ns();
	time_t t;

	/* timegm() normalizes out-of-range fields, as the chip would roll them over. */
	t = timegm(&tm);
	/* Keep t * NSEC far from overflow: 1824..2116 is all a guest gets. */
	if (t == (time_t)-1 || t > RTC_MAX_SECONDS || t < -RTC_MAX_SECONDS)
		return;
	/* Keep the host's phase within the second: the guest set whole seconds. */
	r->offset_ns = (int64_t)t * NSEC + (host % NSEC) - host;
	/* The jump is no passage of time: no update or alarm for the seconds skipped. */
	r->scan_ns = rtc_now_ns(r);
	r->deadline = RTC_NEVER;	/* the timer's deadline moved with the clock */
}

static bool alarm_match(uint8_t alarm, unsigned value, const struct rtc *r, bool hour)
{
	if (alarm >= ALARM_DONT_CARE)
		return true;
	return (hour ? rtc_decode_hour(r, alarm) : rtc_decode(r, alarm)) == value;
}

/* The first value >= v below n that an alarm byte matches; n when none does. */
static unsigned alarm_next(const struct rtc *r, uint8_t alarm, unsigned v, unsigned n, bool hour)
{
	while (v < n && !alarm_match(alarm, v, r, hour))
		v++;
	return v;
}

/*
 * The first second after `after` whose time of day the alarm matches, or
 * RTC_NEVER. A match, if any, comes within a day; each step jumps to the
 * next hour, minute or second that can match, so a day takes a few dozen.
 */
static int64_t rtc_next_alarm(const struct rtc *r, int64_t after)
{
	int64_t t = after + 1;

	while (t <= after + 86400) {
		int64_t day = floor_div(t, 86400) * 86400;
		unsigned ds = t - day, h = ds / 3600, m = ds / 60 % 60, s = ds % 60, v;

		v = alarm_next(r, r->cmos[REG_HOUR_ALARM], h, 24, true);
		if (v != h) {
			t = day + v * 3600;	/* v == 24: tomorrow */
			continue;
		}
		v = alarm_next(r, r->cmos[REG_MIN_ALARM], m, 60, false);
		if (v != m) {
			t = day + h * 3600 + v * 60;
			continue;
		}
		v = alarm_next(r, r->cmos[REG_SEC_ALARM], s, 60, false);
		if (v == s)
			return t;
		t = day + h * 3600 + m * 60 + v;
	}
	return RTC_NEVER;
}

/* Periodic interrupt period from the rate select bits, 0 when off. */
static int64_t rtc_period_ns(const struct rtc *r)
{
	unsigned rate = r->cmos[REG_A] & A_RATE;

	if (!rate)
		return 0;
	if (rate <= 2)
		rate += 7;	/* rates 1 and 2 repeat 8 and 9 with a 32.768 kHz base */
	return (NSEC << (rate - 1)) / 32768;
}

/* Latch the flags of the events in (scan_ns, now]. */
static void rtc_scan(struct rtc *r, int64_t now)
{
	int64_t prev = r->scan_ns, period = rtc_period_ns(r);
	int64_t s_now = floor_div(now, NSEC), s_prev = floor_div(prev, NSEC);

	if (now <= prev)
		return;
	r->scan_ns = now;
	if (period && floor_div(now, period) != floor_div(prev, period))
		r->c |= C_PF;
	/* No update cycles run while SET holds the clock. */
	if (!(r->cmos[REG_B] & B_SET) && s_now != s_prev) {
		r->c |= C_UF;
		if (rtc_next_alarm(r, s_prev) <= s_now)
			r->c |= C_AF;
	}
}

/* IRQF: a latched flag with its interrupt enabled. */
static bool rtc_irqf(const struct rtc *r)
{
	uint8_t b = r->cmos[REG_B];

	return ((r->c & C_PF) && (b & B_PIE)) || ((r->c & C_AF) && (b & B_AIE)) ||
	       ((r->c & C_UF) && (b & B_UIE));
}

/* When the next event would set a flag that is enabled and still clear (guest ns), or RTC_NEVER. */
static int64_t rtc_next_event(const struct rtc *r)
{
	int64_t period = rtc_period_ns(r), s_scan = floor_div(r->scan_ns, NSEC), next = RTC_NEVER;
	uint8_t b = r->cmos[REG_B];

	if ((b & B_PIE) && period)
		next = (floor_div(r->scan_ns, period) + 1) * period;
	if (b & B_SET)
		return next;
	if ((b & B_UIE) && (s_scan + 1) * NSEC < next)
		next = (s_scan + 1) * NSEC;
	if ((b & B_AIE) && (s_scan + 1) * NSEC < next) {
		int64_t s = rtc_next_alarm(r, s_scan);

		if (s != RTC_NEVER && s * NSEC < next)
			next = s * NSEC;
	}
	return next;
}

/*
 * Under the lock, after the flags or the enables changed: GSI 8 follows
 * IRQF, and the timer waits for the next event only while the line is low
 * (a high line stays high until C is read). True when the line rose.
 */
static bool rtc_update(struct rtc *r)
{
	bool level = rtc_irqf(r), rose = level && !r->irq;
	int64_t next = level ? RTC_NEVER : rtc_next_event(r);

	if (level != r->irq) {
		r->irq = level;
		r->m->irq_set(r->m, RTC_GSI, level);
	}
	if (r->timer && next != RTC_NEVER) {
		int64_t left = next - rtc_now_ns(r);

		if (r->armed && next == r->deadline)
			return rose;
		/* 0 would cancel; a wake-up before the event finds nothing and re-arms. */
		r->armed = !loop_timer_arm(r->timer, left > 0 ? (uint64_t)left + 1 : 1);
		r->deadline = next;
	} else if (r->armed) {
		loop_timer_arm(r->timer, 0);
		r->armed = false;
	}
	return rose;
}

static void rtc_timer_fired(void *opaque)
{
	struct rtc *r = opaque;
	bool rose;

	pthread_mutex_lock(&r->lock);
	r->armed = false;
	rtc_scan(r, rtc_now_ns(r));
	rose = rtc_update(r);
	pthread_mutex_unlock(&r->lock);
	if (rose)
		machine_pm_event(r->m, PM_EVENT_RTC_ALARM);
}

/* Register C: the latched flags and IRQF; reading clears them and lowers the line. */
static uint8_t rtc_read_c(struct rtc *r)
{
	uint8_t c = r->c | (rtc_irqf(r) ? C_IRQF : 0);

	r->c = 0;
	return c;
}

static bool rtc_is_time_reg(unsigned reg)
{
	return reg <= REG_YEAR || reg == REG_CENTURY;
}

static bool rtc_is_alarm_reg(unsigned reg)
{
	return reg == REG_SEC_ALARM || reg == REG_MIN_ALARM || reg == REG_HOUR_ALARM;
}

static uint8_t rtc_read_reg(struct rtc *r, unsigned reg)
{
	int64_t ns;

	switch (reg) {
	case REG_A:
		ns = rtc_now_ns(r) % NSEC;
		if (ns < 0)
			ns += NSEC;
		if (!(r->cmos[REG_B] & B_SET) && ns >= NSEC - UIP_WINDOW_NS)
			return r->cmos[REG_A] | A_UIP;
		return r->cmos[REG_A];
	case REG_C:
		return rtc_read_c(r);
	case REG_D:
		return D_VRT;
	default:
		if (rtc_is_time_reg(reg) && !rtc_is_alarm_reg(reg) && !(r->cmos[REG_B] & B_SET))
			rtc_latch_time(r);
		return r->cmos[reg];
	}
}

static void rtc_write_b(struct rtc *r, uint8_t v)
{
	uint8_t old = r->cmos[REG_B];

	if ((v & B_SET) && !(old & B_SET)) {
		/* Freeze the clock in the registers, in the format in force. */
		rtc_latch_time(r);
		r->cmos[REG_B] = v;
		return;
	}
	if (!(v & B_SET) && (old & B_SET)) {
		/* The registers were written in the format of the old B. */
		rtc_adopt_time(r);
	}
	r->cmos[REG_B] = v;
}

static void rtc_write_reg(struct rtc *r, unsigned reg, uint8_t v)
{
	switch (reg) {
	case REG_A:
		r->cmos[REG_A] = v & ~A_UIP;
		return;
	case REG_B:
		rtc_write_b(r, v);
		return;
	case REG_C:
	case REG_D:
		return;		/* read-only */
	default:
		if (rtc_is_time_reg(reg) && !rtc_is_alarm_reg(reg) && !(r->cmos[REG_B] & B_SET)) {
			/* A running clock takes the write too: latch, patch, adopt. */
			rtc_latch_time(r);
			r->cmos[reg] = v;
			rtc_adopt_time(r);
			return;
		}
		r->cmos[reg] = v;
		return;
	}
}

static void rtc_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct rtc *r = opaque;
	uint8_t *b = data;
	bool rose = false;

	pthread_mutex_lock(&r->lock);
	if (offset == 0) {
		b[0] = r->index;
	} else {
		rtc_scan(r, rtc_now_ns(r));
		b[0] = rtc_read_reg(r, r->index & ~RTC_NMI_MASK);
		rose = rtc_update(r);
	}
	pthread_mutex_unlock(&r->lock);
	if (rose)
		machine_pm_event(r->m, PM_EVENT_RTC_ALARM);
	for (unsigned i = 1; i < len; i++)
		b[i] = 0xff;
}

static void rtc_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct rtc *r = opaque;
	uint8_t v = *(const uint8_t *)data;
	bool rose = false;

	pthread_mutex_lock(&r->lock);
	if (offset == 0) {
		r->index = v;
	} else {
		/* Events before the write happened under the old settings. */
		rtc_scan(r, rtc_now_ns(r));
		rtc_write_reg(r, r->index & ~RTC_NMI_MASK, v);
		rose = rtc_update(r);
	}
	pthread_mutex_unlock(&r->lock);
	if (rose)
		machine_pm_event(r->m, PM_EVENT_RTC_ALARM);
}

static const char *rtc_reg_name(void *opaque, uint64_t offset)
{
	return offset == 0 ? "INDEX" : "DATA";
}

static const struct bus_ops rtc_ops = {
	.read = rtc_read,
	.write = rtc_write,
	.reg_name = rtc_reg_name,
};

static void rtc_release(void *state)
{
	struct rtc *r = state;

	loop_timer_destroy(r->timer);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int rtc_create(struct machine *m)
{
	struct rtc *r = machine_alloc_device(m, sizeof(*r), rtc_release);
	int ret;

	if (!r)
		return -ENOMEM;
	r->m = m;
	r->cmos[REG_A] = A_DV_NORMAL | 0x06;	/* 1024 Hz periodic rate, as a BIOS sets it */
	r->cmos[REG_B] = B_24H;			/* BCD, 24-hour */
	r->cmos[REG_SEC_ALARM] = 0xff;
	r->cmos[REG_MIN_ALARM] = 0xff;
	r->cmos[REG_HOUR_ALARM] = 0xff;
	r->scan_ns = rtc_now_ns(r);
	pthread_mutex_init(&r->lock, NULL);
	if (m->loop) {
		ret = machine_timer_create(m, rtc_timer_fired, r, &r->timer);
		if (ret < 0)
			return report(ret, "rtc: timer: %s", strerror(-ret));
	}
	ret = machine_claim(m, BUS_PIO, RTC_INDEX_PORT, RTC_NR_PORTS, "rtc", &rtc_ops, r);
	if (ret < 0)
		return ret;
	ret = machine_claim_irq(m, RTC_GSI, "rtc", false);
	return ret < 0 ? ret : 0;
}
