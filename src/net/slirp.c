// SPDX-License-Identifier: GPL-2.0-only
/*
 * The slirp backend: user-mode networking through libslirp (Debian's 4.7),
 * QEMU's -netdev user: the guest's network 10.0.2.0/24 by default, the
 * gateway .2, DNS .3, DHCP from .15, and forwards from host ports.
 *
 * libslirp is not thread-safe: every call into it holds s->lock. The NIC's
 * frames enter through slirp_input() on the NIC's thread (a vCPU for a
 * register write); slirp answers inside that call (an ARP reply, a DHCP
 * offer), so its output is queued (net_rx_queue) and delivered later from
 * the I/O thread, never inside net_backend_send().
 *
 * slirp's host sockets and its TCP timers run on the I/O thread. After
 * every call into slirp, the I/O thread asks it for the sockets it wants
 * polled (slirp_pollfds_fill) and brings the loop's watches in line; a watch
 * that fires, or the timer set to slirp's timeout, runs slirp_pollfds_poll.
 * A watch is on a dup of slirp's descriptor, so a watch never outlives the
 * socket it was made for: slirp may close a socket and reuse its number
 * inside a call from a vCPU thread, where the loop's watches cannot be
 * touched; the dup's inode tells the I/O thread at its next round.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <slirp/libslirp.h>

#include "qlite/machine.h"
#include "qlite/util.h"
#include "net_internal.h"

#define HOSTFWD_MAX	16
#define IDLE_TIMEOUT_MS	1000	/* slirp asks for at most this much between polls */

struct fwd {
	bool udp;
	struct in_addr haddr, gaddr;	/* gaddr 0: the first DHCP address */
	int hport, gport;
	char text[96];			/* the rule as written, for messages */
};

struct slirp_watch {
	struct net_slirp *s;
	int sfd;		/* slirp's descriptor */
	int fd;			/* our dup of it, the one watched */
	int events;		/* poll(2) events */
	ino_t ino;
	bool seen;		/* in the latest fill */
};

struct slirp_poll {
	int fd, events;		/* poll(2) events */
};

struct slirp_timer {
	struct net_slirp *s;
	struct loop_timer *t;
	SlirpTimerCb cb;
	void *cb_opaque;
};

struct net_slirp {
	struct net_backend *be;
	pthread_mutex_t lock;	/* every call into libslirp */
	Slirp *slirp;
	struct loop_timer *timer;	/* slirp_pollfds_poll at slirp's timeout */
	bool guest_error_said;

	/* Under lock, I/O thread: what the last fill asked for, and the watches. */
	struct slirp_poll *polls;
	unsigned nr_polls, cap_polls;
	struct slirp_watch **watches;
	unsigned nr_watches, cap_watches;
	int fired_sfd;		/* the poll being served: slirp's fd, or -1 */
	int fired_revents;
};

/* ---- options ---- */

static int why_fmt(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int why_fmt(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* "ADDR/PREFIX": the guest's network; it must hold .2, .3 and the DHCP range .15-.30. */
static int parse_net(const char *text, struct in_addr *net, struct in_addr *mask, char *why,
		     size_t len)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	unsigned long prefix;
	char *end;
	uint32_t m;

	if (!slash || (size_t)(slash - text) >= sizeof(addr))
		return why_fmt(why, len, "\"%s\" is not ADDR/PREFIX (10.0.2.0/24)", text);
	memcpy(addr, text, slash - text);
	addr[slash - text] = '\0';
	if (inet_pton(AF_INET, addr, net) != 1)
		return why_fmt(why, len, "\"%s\": \"%s\" is not an IPv4 address", text, addr);
	errno = 0;
	prefix = strtoul(slash + 1, &end, 10);
	if (!slash[1] || *end || errno || prefix < 1 || prefix > 27)
		return why_fmt(why, len, "\"%s\": the prefix is 1 to 27 (room for the gateway .2, "
			       "DNS .3 and DHCP .15-.30)", text);
	m = ~0u << (32 - prefix);
	mask->s_addr = htonl(m);
	if (ntohl(net->s_addr) & ~m)
		return why_fmt(why, len, "\"%s\": host bits are set in the network address", text);
	return 0;
}

static int parse_port(const char *s, size_t n, int *port)
{
	int v = 0;

	if (!n || n > 5)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -EINVAL;
	*port = v;
	return 0;
}

/* "[ADDR]:PORT" of n bytes; an empty ADDR leaves *addr as it is. */
static int parse_endpoint(const char *s, size_t n, struct in_addr *addr, int *port)
{
	const char *colon = memchr(s, ':', n);
	char a[INET_ADDRSTRLEN];

	if (!colon)
		return -EINVAL;
	if (colon > s) {
		if ((size_t)(colon - s) >= sizeof(a))
			return -EINVAL;
		memcpy(a, s, colon - s);
		a[colon - s] = '\0';
		if (inet_pton(AF_INET, a, addr) != 1)
			return -EINVAL;
	}
	return parse_port(colon + 1, s + n - colon - 1, port);
}

/* One rule of n bytes: tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT. */
static int parse_rule(const char *s, size_t n, struct fwd *f, char *why, size_t len)
{
	const char *dash, *rest;

	*f = (struct fwd){ .haddr.s_addr = htonl(INADDR_ANY) };
	snprintf(f->text, sizeof(f->text), "%.*s", (int)n, s);
	if (n > 4 && !strncmp(s, "tcp:", 4))
		f->udp = false;
	else if (n > 4 && !strncmp(s, "udp:", 4))
		f->udp = true;
	else
		return why_fmt(why, len, "\"%s\": a rule starts with tcp: or udp: "
			       "(tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT)", f->text);
	rest = s + 4;
	dash = memchr(rest, '-', s + n - rest);
	if (!dash)
		return why_fmt(why, len, "\"%s\": no '-' between the host and the guest side",
			       f->text);
	if (parse_endpoint(rest, dash - rest, &f->haddr, &f->hport))
		return why_fmt(why, len, "\"%s\": the host side is not [ADDR]:PORT "
			       "(an IPv4 address, a port 1 to 65535)", f->text);
	if (parse_endpoint(dash + 1, s + n - dash - 1, &f->gaddr, &f->gport))
		return why_fmt(why, len, "\"%s\": the guest side is not [ADDR]:PORT "
			       "(an IPv4 address, a port 1 to 65535)", f->text);
	return 0;
}

static int parse_hostfwd(const char *rules, struct fwd *f, unsigned *nr, char *why, size_t len)
{
	const char *s = rules;

	*nr = 0;
	while (*s) {
		const char *semi = strchr(s, ';');
		size_t n = semi ? (size_t)(semi - s) : strlen(s);
		int ret;

		if (*nr == HOSTFWD_MAX)
			return why_fmt(why, len, "at most %d rules", HOSTFWD_MAX);
		ret = parse_rule(s, n, &f[*nr], why, len);
		if (ret)
			return ret;
		++*nr;
		s += n + (semi ? 1 : 0);
	}
	if (!*nr)
		return why_fmt(why, len, "no rule (tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT)");
	return 0;
}

int net_hostfwd_check(const char *rules, char *why, size_t len)
{
	struct fwd f[HOSTFWD_MAX];
	unsigned nr;

	return parse_hostfwd(rules, f, &nr, why, len);
}

int net_slirp_net_check(const char *net, char *why, size_t len)
{
	struct in_addr a, m;

	return parse_net(net, &a, &m, why, len);
}

/* ---- slirp's callbacks (under s->lock, on whichever thread called slirp) ---- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct net_slirp *s = opaque;

	/* Never delivered here: the NIC may be the caller, holding its own lock. */
	if (len > NET_MAX_FRAME) {
		net_count_rx_drop(s->be);
		return len;
	}
	net_rx_queue(s->be, buf, len);
	return len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	struct net_slirp *s = opaque;

	/* The guest could say this at every frame: once is enough. */
	if (!s->guest_error_said) {
		s->guest_error_said = true;
		report(0, "%s: slirp: the guest sent %s (said once)", s->be->owner, msg);
	}
}

static int64_t cb_clock_get_ns(void *opaque)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void slirp_timer_fired(void *opaque);

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct net_slirp *s = opaque;
	struct slirp_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	*t = (struct slirp_timer){ .s = s, .cb = cb, .cb_opaque = cb_opaque };
	if (machine_timer_create(s->be->m, slirp_timer_fired, t, &t->t) < 0) {
		free(t);
		return NULL;
	}
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct slirp_timer *t = timer;

	if (t) {
		loop_timer_destroy(t->t);
		free(t);
	}
}

/* expire_time is in ms of clock_get_ns. */
static void cb_timer_mod(void *timer, int64_t expire_time, void *opaque)
{
	struct slirp_timer *t = timer;
	int64_t now_ms = cb_clock_get_ns(NULL) / 1000000;
	int64_t ms = expire_time - now_ms;

	if (t)
		loop_timer_arm(t->t, ms > 0 ? (uint64_t)ms * 1000000 : 1);
}

/* Sockets are found by slirp_pollfds_fill at each round: nothing to do at birth or death. */
static void cb_register_poll_fd(int fd, void *opaque) { }
static void cb_unregister_poll_fd(int fd, void *opaque) { }

static void cb_notify(void *opaque)
{
	struct net_slirp *s = opaque;

	/* A socket may have room again: the I/O thread asks slirp for its fds anew. */
	net_wake(s->be);
}

static const SlirpCb slirp_callbacks = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_register_poll_fd,
	.unregister_poll_fd = cb_unregister_poll_fd,
	.notify = cb_notify,
};

/* ---- the I/O thread's rounds (under s->lock) ---- */

static int to_poll_events(int e)
{
	return (e & SLIRP_POLL_IN ? POLLIN : 0) | (e & SLIRP_POLL_OUT ? POLLOUT : 0) |
	       (e & SLIRP_POLL_PRI ? POLLPRI : 0);
}

static int to_slirp_events(uint32_t r)
{
	return (r & POLLIN ? SLIRP_POLL_IN : 0) | (r & POLLOUT ? SLIRP_POLL_OUT : 0) |
	       (r & POLLPRI ? SLIRP_POLL_PRI : 0) | (r & POLLERR ? SLIRP_POLL_ERR : 0) |
	       (r & POLLHUP ? SLIRP_POLL_HUP : 0);
}

static int cb_add_poll(int fd, int events, void *opaque)
{
	struct net_slirp *s = opaque;

	if (s->nr_polls == s->cap_polls) {
		unsigned cap = s->cap_polls ? 2 * s->cap_polls : 16;
		struct slirp_poll *p = realloc(s->polls, cap * sizeof(*p));

		if (!p)
			return -1;	/* slirp then skips the socket this round */
		s->polls = p;
		s->cap_polls = cap;
	}
	s->polls[s->nr_polls] = (struct slirp_poll){ fd, to_poll_events(events) };
	return s->nr_polls++;
}

static int cb_get_revents(int idx, void *opaque)
{
	struct net_slirp *s = opaque;

	if (idx < 0 || (unsigned)idx >= s->nr_polls || s->polls[idx].fd != s->fired_sfd)
		return 0;
	return s->fired_revents;
}

static bool on_slirp_fd(void *opaque, int fd, uint32_t revents);

static void watch_drop(struct net_slirp *s, unsigned i)
{
	struct slirp_watch *w = s->watches[i];

	machine_unwatch_fd(s->be->m, w->fd);
	close(w->fd);
	free(w);
	s->watches[i] = s->watches[--s->nr_watches];
}

static ino_t fd_ino(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

static void watch_add(struct net_slirp *s, const struct slirp_poll *p, ino_t ino)
{
	struct slirp_watch *w;

	if (s->nr_watches == s->cap_watches) {
		unsigned cap = s->cap_watches ? 2 * s->cap_watches : 16;
		struct slirp_watch **n = realloc(s->watches, cap * sizeof(*n));

		if (!n)
			return;
		s->watches = n;
		s->cap_watches = cap;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return;
	*w = (struct slirp_watch){ .s = s, .sfd = p->fd, .events = p->events, .ino = ino,
				   .seen = true };
	w->fd = fcntl(p->fd, F_DUPFD_CLOEXEC, 3);
	if (w->fd < 0) {
		free(w);
		return;
	}
	if (machine_watch_fd(s->be->m, w->fd, p->events, on_slirp_fd, w) < 0) {
		close(w->fd);
		free(w);
		return;
	}
	s->watches[s->nr_watches++] = w;
}

/* Ask slirp what it wants polled, bring the watches in line, arm the timer. */
static void slirp_refill(struct net_slirp *s)
{
	uint32_t timeout = IDLE_TIMEOUT_MS;

	s->nr_polls = 0;
	slirp_pollfds_fill(s->slirp, &timeout, cb_add_poll, s);
	for (unsigned i = 0; i < s->nr_watches; i++)
		s->watches[i]->seen = false;
	for (unsigned j = 0; j < s->nr_polls; j++) {
		const struct slirp_poll *p = &s->polls[j];
		ino_t ino = fd_ino(p->fd);
		bool found = false;

		for (unsigned i = 0; i < s->nr_watches; i++) {
			struct slirp_watch *w = s->watches[i];

			if (w->sfd != p->fd || w->seen)
				continue;
			/* Same descriptor, same socket, same interest: keep the watch. */
			if (w->events == p->events && w->ino == ino) {
				w->seen = true;
				found = true;
			}
			break;
		}
		if (!found && p->events)
			watch_add(s, p, ino);
	}
	for (unsigned i = 0; i < s->nr_watches;) {
		if (!s->watches[i]->seen)
			watch_drop(s, i);	/* gone, closed, or its events changed */
		else
			i++;
	}
	loop_timer_arm(s->timer, (uint64_t)(timeout ? timeout : 1) * 1000000);
}

/* One poll round: revents for slirp's fd sfd (or none: timers only). */
static void slirp_round(struct net_slirp *s, int sfd, uint32_t revents)
{
	pthread_mutex_lock(&s->lock);
	/* pollfds_poll reads the indexes of the fill just before it. */
	s->nr_polls = 0;
	{
		uint32_t timeout = IDLE_TIMEOUT_MS;

		slirp_pollfds_fill(s->slirp, &timeout, cb_add_poll, s);
	}
	s->fired_sfd = sfd;
	s->fired_revents = to_slirp_events(revents);
	slirp_pollfds_poll(s->slirp, 0, cb_get_revents, s);
	s->fired_sfd = -1;
	slirp_refill(s);
	pthread_mutex_unlock(&s->lock);
}

static bool on_slirp_fd(void *opaque, int fd, uint32_t revents)
{
	struct slirp_watch *w = opaque;

	/* w may be freed by the round (its socket closed): nothing of it is used after. */
	slirp_round(w->s, w->sfd, revents);
	return true;
}

static void on_slirp_timeout(void *opaque)
{
	slirp_round(opaque, -1, 0);
}

static void slirp_timer_fired(void *opaque)
{
	struct slirp_timer *t = opaque;
	struct net_slirp *s = t->s;

	pthread_mutex_lock(&s->lock);
	t->cb(t->cb_opaque);
	slirp_refill(s);
	pthread_mutex_unlock(&s->lock);
}

/* After slirp_input from a vCPU, or slirp's notify: new sockets to watch, new timeouts. */
static void slirp_wake(struct net_backend *be)
{
	struct net_slirp *s = be->priv;

	pthread_mutex_lock(&s->lock);
	slirp_refill(s);
	pthread_mutex_unlock(&s->lock);
}

/* ---- the backend ---- */

static int slirp_send(struct net_backend *be, const struct iovec *iov, unsigned iovcnt,
		      size_t len)
{
	struct net_slirp *s = be->priv;
	uint8_t stack[2048], *buf = stack;

	if (len > sizeof(stack)) {
		buf = malloc(len);
		if (!buf)
			return -ENOMEM;
	}
	net_iov_copy(buf, iov, iovcnt, 0, len);
	pthread_mutex_lock(&s->lock);
	slirp_input(s->slirp, buf, len);
	pthread_mutex_unlock(&s->lock);
	if (buf != stack)
		free(buf);
	/* The frame may have opened a socket or started a TCP timer: the I/O thread looks. */
	net_wake(be);
	return 0;
}

static int add_forwards(struct net_backend *be, struct net_slirp *s, const struct fwd *f,
			unsigned nr, struct in_addr dhcp)
{
	for (unsigned i = 0; i < nr; i++) {
		struct in_addr g = f[i].gaddr.s_addr ? f[i].gaddr : dhcp;

		errno = 0;
		if (slirp_add_hostfwd(s->slirp, f[i].udp, f[i].haddr, f[i].hport, g,
				      f[i].gport) < 0)
			return report(errno ? -errno : -EADDRINUSE,
				      "%s: hostfwd %s: cannot listen on the host port",
				      be->owner, f[i].text);
	}
	return 0;
}

static int slirp_open(struct net_backend *be, const struct net_backend_opts *o)
{
	const char *net_text = o->net ? o->net : "10.0.2.0/24";
	SlirpConfig cfg = { .version = 1, .in_enabled = true };
	struct fwd fwd[HOSTFWD_MAX];
	unsigned nr_fwd = 0;
	struct net_slirp *s;
	char why[256];
	uint32_t net;
	int ret;

	if (parse_net(net_text, &cfg.vnetwork, &cfg.vnetmask, why, sizeof(why)))
		return report(-EINVAL, "%s: net %s", be->owner, why);
	if (o->hostfwd && parse_hostfwd(o->hostfwd, fwd, &nr_fwd, why, sizeof(why)))
		return report(-EINVAL, "%s: hostfwd %s", be->owner, why);
	snprintf(be->desc, sizeof(be->desc), "slirp %s%s%s", net_text,
		 nr_fwd ? " hostfwd " : "", nr_fwd ? o->hostfwd : "");
	if (be->offline)
		return 0;

	/* As QEMU: the gateway (and host) .2, DNS .3, DHCP from .15. */
	net = ntohl(cfg.vnetwork.s_addr);
	cfg.vhost.s_addr = htonl(net | 2);
	cfg.vnameserver.s_addr = htonl(net | 3);
	cfg.vdhcp_start.s_addr = htonl(net | 15);
	s = calloc(1, sizeof(*s));
	if (!s)
		return report(-ENOMEM, "%s: slirp", be->owner);
	s->be = be;
	s->fired_sfd = -1;
	pthread_mutex_init(&s->lock, NULL);
	ret = machine_timer_create(be->m, on_slirp_timeout, s, &s->timer);
	if (ret < 0) {
		report(ret, "%s: slirp: timer", be->owner);
		goto err;
	}
	s->slirp = slirp_new(&cfg, &slirp_callbacks, s);
	if (!s->slirp) {
		ret = report(-ENOMEM, "%s: slirp: cannot set up the user-mode network", be->owner);
		goto err;
	}
	be->priv = s;
	ret = add_forwards(be, s, fwd, nr_fwd, cfg.vdhcp_start);
	if (ret < 0)
		goto err;
	pthread_mutex_lock(&s->lock);
	slirp_refill(s);
	pthread_mutex_unlock(&s->lock);
	return 0;
err:
	be->priv = NULL;
	if (s->slirp)
		slirp_cleanup(s->slirp);
	loop_timer_destroy(s->timer);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return ret;
}

static void slirp_close(struct net_backend *be)
{
	struct net_slirp *s = be->priv;

	if (!s)
		return;
	while (s->nr_watches)
		watch_drop(s, 0);
	slirp_cleanup(s->slirp);
	loop_timer_destroy(s->timer);
	pthread_mutex_destroy(&s->lock);
	free(s->polls);
	free(s->watches);
	free(s);
}

const struct net_kind_ops net_slirp_ops = {
	.open = slirp_open,
	.close = slirp_close,
	.send = slirp_send,
	.wake = slirp_wake,
};
