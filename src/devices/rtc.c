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
 * Interrupts: there is no timer here, so nothing raises GSI 8. The periodic,
 * alarm and update-ended flags of register C are computed when register C is
 * read, from how far the clock moved since the previous read, so a guest
 * polling C (hwclock's busy-wait fallback) still sees them; guests waiting for
 * the RTC interrupt (hwclock --rtc with UIE) fall back to polling or time out.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "qlite/devices.h"
#include "qlite/util.h"

#define RTC_INDEX_PORT	0x70
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

struct rtc {
	pthread_mutex_t lock;
	struct machine *m;
	uint8_t index;
	uint8_t cmos[RTC_NR_REGS];
	int64_t offset_ns;	/* guest time - host CLOCK_REALTIME */
	int64_t c_read_ns;	/* guest time of the previous register C read */
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
	r->c_read_ns = rtc_now_ns(r);
}

static bool alarm_match(uint8_t alarm, unsigned value, const struct rtc *r, bool hour)
{
	if (alarm >= ALARM_DONT_CARE)
		return true;
	return (hour ? rtc_decode_hour(r, alarm) : rtc_decode(r, alarm)) == value;
}

/* Did the alarm time come up in a second of (from, to]? */
static bool rtc_alarm_passed(const struct rtc *r, int64_t from, int64_t to)
{
	/* The alarm matches once a day at most: a day of seconds covers every case. */
	if (to - from > 86400)
		from = to - 86400;
	for (int64_t s = from + 1; s <= to; s++) {
		int64_t day_sec = s - floor_div(s, 86400) * 86400;

		if (alarm_match(r->cmos[REG_SEC_ALARM], day_sec % 60, r, false) &&
		    alarm_match(r->cmos[REG_MIN_ALARM], day_sec / 60 % 60, r, false) &&
		    alarm_match(r->cmos[REG_HOUR_ALARM], day_sec / 3600, r, true))
			return true;
	}
	return false;
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

/* Register C, computed from the time elapsed since it was last read; reading clears it. */
static uint8_t rtc_read_c(struct rtc *r)
{
	int64_t now = rtc_now_ns(r), prev = r->c_read_ns, period = rtc_period_ns(r);
	int64_t s_now = floor_div(now, NSEC), s_prev = floor_div(prev, NSEC);
	uint8_t c = 0, b = r->cmos[REG_B];

	r->c_read_ns = now;
	if (period && floor_div(now, period) != floor_div(prev, period))
		c |= C_PF;
	/* No update cycles run while SET holds the clock. */
	if (!(b & B_SET) && s_now != s_prev) {
		c |= C_UF;
		if (rtc_alarm_passed(r, s_prev, s_now))
			c |= C_AF;
	}
	if (((c & C_PF) && (b & B_PIE)) || ((c & C_AF) && (b & B_AIE)) ||
	    ((c & C_UF) && (b & B_UIE)))
		c |= C_IRQF;
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

	pthread_mutex_lock(&r->lock);
	if (offset == 0)
		b[0] = r->index;
	else
		b[0] = rtc_read_reg(r, r->index & ~RTC_NMI_MASK);
	pthread_mutex_unlock(&r->lock);
	for (unsigned i = 1; i < len; i++)
		b[i] = 0xff;
}

static void rtc_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct rtc *r = opaque;
	uint8_t v = *(const uint8_t *)data;

	pthread_mutex_lock(&r->lock);
	if (offset == 0)
		r->index = v;
	else
		rtc_write_reg(r, r->index & ~RTC_NMI_MASK, v);
	pthread_mutex_unlock(&r->lock);
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
	r->c_read_ns = rtc_now_ns(r);
	pthread_mutex_init(&r->lock, NULL);

	/* GSI 8 is not claimed: nothing here drives it (see the top of the file). */
	ret = machine_claim(m, BUS_PIO, RTC_INDEX_PORT, 2, "rtc", &rtc_ops, r);
	return ret < 0 ? ret : 0;
}
