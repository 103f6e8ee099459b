import { Temporal } from 'temporal-polyfill';
import { badInput } from '../../errors.js';

/**
 * Board periods: which time window an instant falls in, and the key naming it.
 * Pure; all zone arithmetic goes through Temporal.
 */

export type BoardWindow = 'ALL_TIME' | 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'CUSTOM';
export type Weekday = 'MONDAY' | 'TUESDAY' | 'WEDNESDAY' | 'THURSDAY' | 'FRIDAY' | 'SATURDAY' | 'SUNDAY';

/** In ISO order: index + 1 is Temporal's dayOfWeek. */
export const WEEKDAYS: readonly Weekday[] = Object.freeze(['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] as const);

export const BOARD_WINDOWS: readonly BoardWindow[] = Object.freeze(['ALL_TIME', 'DAILY', 'WEEKLY', 'MONTHLY', 'CUSTOM'] as const);

export interface PeriodSpec {
  window: BoardWindow;
  timeZone: string;
  weekStart: Weekday;
  periodSeconds: number | null;
  anchor: Date | null;
}

export interface Period {
  key: string;
  startsAt: Date | null;
  endsAt: Date | null;
}

export const ALL_TIME_KEY = 'all';

/** Keys name local dates in years 1970..9999 (four-digit years). */
const MIN_YEAR = 1970;
const MAX_YEAR = 9999;
/** Largest millisecond value a Date can hold. */
const DATE_LIMIT_MS = 8.64e15;
/** CUSTOM periods must start before 10000-01-01T00:00Z, like calendar keys. */
const CUSTOM_START_LIMIT_MS = Date.UTC(10000, 0, 1);
/** Coarse bounds for calendar windows, so Temporal never sees absurd instants; the year check is exact. */
const CALENDAR_MIN_MS = Date.UTC(1969, 11, 20);
const CALENDAR_MAX_MS = Date.UTC(10000, 0, 10);

// Letters first so offsets ("+05:00") and ISO strings ("2020-01-01T00:00Z[UTC]"),
// which Temporal would also accept, are not taken as zone ids.
const ZONE_ID_SHAPE = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;
const MAX_ZONE_ID_LENGTH = 64;

const DATE_KEY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH_KEY = /^(\d{4})-(\d{2})$/;
const INDEX_KEY = /^(?:0|[1-9]\d*)$/;

// ---------------------------------------------------------------------------
// Time zones

/** Temporal's case-normalised id, or null when `zone` is not a named zone. */
function resolveZone(zone: unknown): string | null {
  if (typeof zone !== 'string' || zone.length > MAX_ZONE_ID_LENGTH || !ZONE_ID_SHAPE.test(zone)) return null;
  try {
    return Temporal.Instant.fromEpochMilliseconds(0).toZonedDateTimeISO(zone).timeZoneId;
  } catch {
    return null;
  }
}

/** True when `zone` is a valid IANA time zone id (case-insensitive, as IANA ids are); offsets are not accepted. */
export function isValidTimeZone(zone: string): boolean {
  return resolveZone(zone) !== null;
}

/**
 * Case-normalised zone id for storage ("america/new_york" -> "America/New_York").
 * Links are kept as given ("Asia/Calcutta" stays), as Temporal does. Throws badInput when invalid.
 */
export function canonicalTimeZone(zone: string): string {
  const id = resolveZone(zone);
  if (id === null) throw badInput(`${JSON.stringify(zone)} is not a valid IANA time zone (e.g. "UTC", "Europe/Paris")`);
  return id;
}

// ---------------------------------------------------------------------------
// Specs: validated once, then cached with a memo of the last period computed.

interface Span {
  key: string;
  startMs: number;
  endMs: number;
}

interface Compiled {
  window: BoardWindow;
  zone: string;
  /** 1 = Monday .. 7 = Sunday. */
  weekStartDay: number;
  lengthMs: number;
  anchorMs: number;
  last: Span | null;
}

const COMPILED_LIMIT = 4096;
const compiledSpecs = new Map<string, Compiled>();

function compile(spec: PeriodSpec): Compiled {
  const anchorMs = spec.anchor instanceof Date ? spec.anchor.getTime() : spec.anchor === null ? null : NaN;
  const cacheKey = `${spec.window}\0${spec.timeZone}\0${spec.weekStart}\0${spec.periodSeconds}\0${anchorMs}`;
  const hit = compiledSpecs.get(cacheKey);
  if (hit) return hit;

  if (!BOARD_WINDOWS.includes(spec.window)) throw badInput(`Unknown board window ${JSON.stringify(spec.window)}`);
  const zone = canonicalTimeZone(spec.timeZone);
  const weekIndex = WEEKDAYS.indexOf(spec.weekStart);
  if (weekIndex < 0) throw badInput(`weekStart must be one of ${WEEKDAYS.join(', ')}; got ${JSON.stringify(spec.weekStart)}`);
  let lengthMs = 0;
  let anchor = 0;
  if (spec.window === 'CUSTOM') {
    const s = spec.periodSeconds;
    if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 1 || s * 1000 > DATE_LIMIT_MS) {
      throw badInput(`A CUSTOM board needs periodSeconds, a whole number >= 1; got ${JSON.stringify(s)}`);
    }
    if (anchorMs === null || !Number.isFinite(anchorMs) || Math.abs(anchorMs) >= CUSTOM_START_LIMIT_MS) {
      throw badInput('A CUSTOM board needs an anchor, a valid instant before year 10000');
    }
    lengthMs = s * 1000;
    anchor = anchorMs;
  }

  const compiled: Compiled = { window: spec.window, zone, weekStartDay: weekIndex + 1, lengthMs, anchorMs: anchor, last: null };
  // Oldest-first eviction keeps the cache bounded; a miss only costs a re-validation.
  if (compiledSpecs.size >= COMPILED_LIMIT) compiledSpecs.delete(compiledSpecs.keys().next().value!);
  compiledSpecs.set(cacheKey, compiled);
  return compiled;
}

/** Throws badInput when the spec is unusable (unknown zone, bad weekStart, CUSTOM without length/anchor). */
export function validatePeriodSpec(spec: PeriodSpec): void {
  compile(spec);
}

// ---------------------------------------------------------------------------
// Calendar arithmetic

const pad = (n: number, width: number) => String(n).padStart(width, '0');

function startOfLocalDay(date: Temporal.PlainDate, zone: string): number {
  // With no time given Temporal takes the start of the day, which is not 00:00 where midnight is skipped.
  return date.toZonedDateTime({ timeZone: zone }).epochMilliseconds;
}

/** The first local date of the calendar period containing `date`. */
function periodStartDate(c: Compiled, date: Temporal.PlainDate): Temporal.PlainDate {
  switch (c.window) {
    case 'DAILY':
      return date;
    case 'WEEKLY':
      return date.subtract({ days: (date.dayOfWeek - c.weekStartDay + 7) % 7 });
    default:
      return date.with({ day: 1 });
  }
}

function calendarSpan(c: Compiled, start: Temporal.PlainDate): Span {
  if (start.year < MIN_YEAR || start.year > MAX_YEAR) {
    throw badInput(`Periods are only defined for years ${MIN_YEAR}..${MAX_YEAR}`);
  }
  const next = c.window === 'DAILY' ? start.add({ days: 1 }) : c.window === 'WEEKLY' ? start.add({ days: 7 }) : start.add({ months: 1 });
  const key = c.window === 'MONTHLY' ? `${pad(start.year, 4)}-${pad(start.month, 2)}` : start.toString();
  return { key, startMs: startOfLocalDay(start, c.zone), endMs: startOfLocalDay(next, c.zone) };
}

/** Null when the period would start in year 10000 or later. */
function customSpan(c: Compiled, index: number): Span | null {
  const startMs = c.anchorMs + index * c.lengthMs;
  if (!Number.isSafeInteger(startMs) || startMs >= CUSTOM_START_LIMIT_MS) return null;
  return { key: String(index), startMs, endMs: startMs + c.lengthMs };
}

const CUSTOM_RANGE = 'out of range (periods must start before year 10000)';

const toPeriod = (s: Span): Period => ({ key: s.key, startsAt: new Date(s.startMs), endsAt: new Date(s.endMs) });

function allTime(): Period {
  return { key: ALL_TIME_KEY, startsAt: null, endsAt: null };
}

// ---------------------------------------------------------------------------
// Public API

/** The period containing the instant (ms since epoch); null only for CUSTOM before its anchor. */
export function periodAt(spec: PeriodSpec, atMs: number): Period | null {
  const c = compile(spec);
  if (c.window === 'ALL_TIME') return allTime();
  if (!Number.isFinite(atMs)) throw badInput('The instant must be a finite number of milliseconds');
  const last = c.last;
  if (last && atMs >= last.startMs && atMs < last.endMs) return toPeriod(last);

  let span: Span;
  if (c.window === 'CUSTOM') {
    if (atMs < c.anchorMs) return null;
    const custom = customSpan(c, Math.floor((atMs - c.anchorMs) / c.lengthMs));
    if (!custom) throw badInput(`The instant is ${CUSTOM_RANGE}`);
    span = custom;
  } else {
    if (atMs < CALENDAR_MIN_MS || atMs > CALENDAR_MAX_MS) {
      throw badInput(`Periods are only defined for years ${MIN_YEAR}..${MAX_YEAR}`);
    }
    const date = Temporal.Instant.fromEpochMilliseconds(atMs).toZonedDateTimeISO(c.zone).toPlainDate();
    span = calendarSpan(c, periodStartDate(c, date));
  }
  c.last = span;
  return toPeriod(span);
}

/** The period named by key; throws badInput for a malformed or impossible key. */
export function periodByKey(spec: PeriodSpec, key: string): Period {
  const c = compile(spec);
  const bad = (why: string) => badInput(`Invalid period key ${JSON.stringify(key)} for a ${c.window} board: ${why}`);
  if (typeof key !== 'string') throw bad('expected a string');

  switch (c.window) {
    case 'ALL_TIME':
      if (key !== ALL_TIME_KEY) throw bad(`the only period is "${ALL_TIME_KEY}"`);
      return allTime();

    case 'CUSTOM': {
      if (!INDEX_KEY.test(key)) throw bad('expected a period index "0", "1", ... (no sign or leading zeros)');
      const span = customSpan(c, Number(key));
      if (!span) throw bad(`index ${CUSTOM_RANGE}`);
      return toPeriod(span);
    }

    case 'MONTHLY': {
      const m = MONTH_KEY.exec(key);
      if (!m) throw bad('expected "YYYY-MM"');
      const year = Number(m[1]);
      const month = Number(m[2]);
      if (year < MIN_YEAR || year > MAX_YEAR) throw bad(`year must be within ${MIN_YEAR}..${MAX_YEAR}`);
      if (month < 1 || month > 12) throw bad('month must be 01..12');
      return toPeriod(calendarSpan(c, Temporal.PlainDate.from({ year, month, day: 1 })));
    }

    default: {
      const m = DATE_KEY.exec(key);
      if (!m) throw bad('expected "YYYY-MM-DD"');
      const year = Number(m[1]);
      if (year < MIN_YEAR || year > MAX_YEAR) throw bad(`year must be within ${MIN_YEAR}..${MAX_YEAR}`);
      let date: Temporal.PlainDate;
      try {
        date = Temporal.PlainDate.from({ year, month: Number(m[2]), day: Number(m[3]) }, { overflow: 'reject' });
      } catch {
        throw bad('no such date');
      }
      if (c.window === 'WEEKLY' && date.dayOfWeek !== c.weekStartDay) {
        throw bad(`weeks on this board start on ${WEEKDAYS[c.weekStartDay - 1]}`);
      }
      const span = calendarSpan(c, date);
      // A local date the zone skipped entirely (e.g. Pacific/Apia 2011-12-30) names no period.
      if (span.endMs <= span.startMs) throw bad(`that date does not exist in ${c.zone}`);
      return toPeriod(span);
    }
  }
}

/** The period just before `period`; null for ALL_TIME and for CUSTOM index 0. */
export function previousPeriod(spec: PeriodSpec, period: Period): Period | null {
  const c = compile(spec);
  if (c.window === 'ALL_TIME') return null;
  // Resolve through the key so a period from another spec is rejected, not silently misread.
  const current = periodByKey(spec, period.key);
  if (c.window === 'CUSTOM') {
    const index = Number(current.key);
    return index === 0 ? null : periodByKey(spec, String(index - 1));
  }
  // Periods are contiguous, so the previous one contains the last millisecond before this one.
  return periodAt(spec, current.startsAt!.getTime() - 1);
}

/** True once endsAt + ticketTtlSeconds has passed: no ticket issued in the period can still be redeemed. */
export function isFinal(period: Period, ticketTtlSeconds: number, nowMs: number): boolean {
  if (!(ticketTtlSeconds >= 0) || !Number.isFinite(ticketTtlSeconds)) {
    throw new RangeError(`ticketTtlSeconds must be a finite number >= 0; got ${ticketTtlSeconds}`);
  }
  if (period.endsAt === null) return false;
  return nowMs >= period.endsAt.getTime() + ticketTtlSeconds * 1000;
}

/** The next boundary strictly after atMs (endsAt of the current period), or null for ALL_TIME: used to schedule live rollover. */
export function nextBoundaryAfter(spec: PeriodSpec, atMs: number): Date | null {
  const c = compile(spec);
  if (c.window === 'ALL_TIME') return null;
  const period = periodAt(spec, atMs);
  // Before a CUSTOM anchor the first boundary is the anchor itself.
  return period ? period.endsAt : new Date(c.anchorMs);
}
