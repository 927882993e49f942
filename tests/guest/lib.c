// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib.c - the little libc the guest needs: the compiler may emit calls to
 * memcpy/memset even when freestanding, and the command line wants
 * number parsing. String ops use rep movsb/stosb so that the compiler
 * cannot turn the loops back into calls to themselves.
 */
#include "guest.h"

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;

	asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;

	asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

/* Decimal or 0x-prefixed hex, the whole string, no overflow. */
bool parse_u64(const char *s, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return false;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

/* "a,b,c" -> vals[]; returns the count, or -1 on a bad number or too many. */
int split_args(char *s, uint64_t *vals, int max)
{
	int n = 0;

	if (!s || !*s)
		return 0;
	for (;;) {
		char *comma = s;
		bool last;

		while (*comma && *comma != ',')
			comma++;
		last = !*comma;
		*comma = '\0';
		if (n == max || !parse_u64(s, &vals[n]))
			return -1;
		n++;
		if (last)
			return n;
		s = comma + 1;
	}
}

/* Whether [addr, addr + len) lies in one range the page tables map. */
bool phys_mapped(uint64_t addr, uint64_t len)
{
	const uint64_t gib = 1ULL << 30;

	if (len > 4 * gib || addr > 4 * gib - len)
		return false;
	return addr + len <= gib || (addr >= 3 * gib && addr + len <= 4 * gib);
}

uint64_t ram_top;

/*
 * SIZE bytes of RAM past the image (guest.ld's image_end), ALIGN-aligned
 * (a power of two), never given back: large buffers live there rather than
 * in .bss, so that the image itself stays small. FAIL when the memory map
 * says the RAM ends before.
 */
void *ram_alloc(const char *word, uint64_t size, uint64_t align)
{
	static uint64_t next;
	uint64_t at;

	if (!next)
		next = (uintptr_t)image_end;
	at = (next + align - 1) & ~(align - 1);
	if ((ram_top && at + size > ram_top) || !phys_mapped(at, size))
		fail("%s: %lu KiB at 0x%lx past the image: the RAM ends at 0x%lx", word,
		     (unsigned long)(size >> 10), (unsigned long)at, (unsigned long)ram_top);
	next = at + size;
	return (void *)(uintptr_t)at;
}
