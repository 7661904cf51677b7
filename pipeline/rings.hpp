// pipeline/rings: the daemon's rings, their capacities, and what each does when it is full. A full
// ring is never silent: every refused push is counted (SpscRing::full_count, exported as
// bot_ring_full_total{ring}) and its consequence is one of these, decided here for each ring.
#pragma once

#include "core/spsc_ring.hpp"
#include "pipeline/events.hpp"

namespace cbtrade {

// Ring A, feed -> signal, bot_ring_full_total{ring="ticks"}. 4096 events (512 KiB) is seconds of
// the busiest product's market data. Full: the newest event is dropped and the next one that fits
// carries event_flag_lost_before; the signal stage then marks market data unfit for entries until
// a candle has closed after the loss (the open candle may miss a trade) or a fresh snapshot
// arrives. Not retried: a stalled consumer must never make the feed stop reading the socket (the
// exchange would then see a slow client and the data would be old when it is finally read).
using MarketRing = SpscRing<MarketEvent, 4096>;

// Ring B, signal -> exec, bot_ring_full_total{ring="decisions"}. Full: the newest record is dropped
// and the next one carries price_flag_lost_before; the exec stage blocks entries until a candle
// close record arrives after the loss. Exits are never blocked: the next price checks stops again.
using PriceRing = SpscRing<PriceRecord, 4096>;

// signal -> ops, closed candles and model adoptions, bot_ring_full_total{ring="ops"}. One candle
// per GRANULARITY: it is full only if the ops thread has not run for 1024 candles. Full: the note
// is dropped; the ops thread's candle history misses one candle (walk-forward refits go on).
using SignalNoteRing = SpscRing<SignalNote, 1024>;

// signal -> ops, every event the signal stage consumed, only with RECORD_TICKS, ring="ops". Full:
// dropped; the recording gets a "! lost N" line and `cbtrade replay` reports it incomplete.
using RecordRing = SpscRing<MarketEvent, 16384>;

// exec -> ops, decisions and fills for the decision log and the summary, ring="ops". Full: dropped;
// the decision log gets a "! lost N" line (the trader's own state and metrics are unaffected).
using ExecNoteRing = SpscRing<ExecNote, 4096>;

// exec -> notifier, entries, exits, order errors and breaker trips, only with SLACK_WEBHOOK. Full
// (the notifier far behind, e.g. a webhook that hangs): dropped and counted
// (bot_notifications_dropped_total); the exec stage never waits for a notification.
using NoticeRing = SpscRing<Notice, 256>;

}  // namespace cbtrade
