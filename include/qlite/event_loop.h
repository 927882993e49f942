/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The I/O thread: io_uring polls on file descriptors (console input,
 * eventfds, later tap devices and disk completions) and calls back.
 */
#ifndef QLITE_EVENT_LOOP_H
#define QLITE_EVENT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct event_loop;

/* revents as poll(2) reports them; return false to stop watching the fd. */
typedef bool (*event_fn)(void *opaque, int fd, uint32_t revents);

struct event_loop *event_loop_create(void);
void event_loop_destroy(struct event_loop *loop);
/* Watch fd for events (POLLIN...); the watch re-arms after each callback. */
int event_loop_add(struct event_loop *loop, int fd, uint32_t events, event_fn fn, void *opaque);
/* Serve callbacks until event_loop_stop() is called from one of them. */
int event_loop_run(struct event_loop *loop);
void event_loop_stop(struct event_loop *loop);

#endif
