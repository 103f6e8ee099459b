import { describe, expect, it } from 'vitest';
import {
  type BoardWindow,
  type Period,
  type PeriodSpec,
  type Weekday,
  WEEKDAYS,
  canonicalTimeZone,
  isFinal,
  isValidTimeZone,
  nextBoundaryAfter,
  periodAt,
  periodByKey,
  previousPeriod,
  validatePeriodSpec,
} from '../../src/resolvers/boards/periods.js';

// Expected instants are hard-coded from known offsets, not computed with Temporal:
// New York is UTC-5 (EST) / UTC-4 (EDT); 2026 DST starts Sun 03-08 02:00 and ends Sun 11-01 02:00 local.
// Tokyo is UTC+9 all year. 2026-03-01, 03-08 and 11-01 are Sundays.

const HOUR = 3_600_000;
const ms = (iso: string) => {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`bad test instant ${iso}`);
  return t;
};

function spec(window: BoardWindow, over: Partial<PeriodSpec> = {}): PeriodSpec {
  return { window, timeZone: 'UTC', weekStart: 'MONDAY', periodSeconds: null, anchor: null, ...over };
}

const ANCHOR = '2026-01-01T00:00:00.000Z';
const custom = (periodSeconds: number, anchor = ANCHOR, over: Partial<PeriodSpec> = {}) => spec('CUSTOM', { periodSeconds, anchor: new Date(anchor), ...over });

function at(s: PeriodSpec, iso: string | number): Period {
  const p = periodAt(s, typeof iso === 'number' ? iso : ms(iso));
  if (!p) throw new Error('expected a period');
  return p;
}

function expectPeriod(p: Period | null, key: string, startIso: string, endIso: string) {
  expect(p).not.toBeNull();
  expect(p!.key).toBe(key);
  expect(p!.startsAt?.toISOString()).toBe(new Date(startIso).toISOString());
  expect(p!.endsAt?.toISOString()).toBe(new Date(endIso).toISOString());
}

const lengthHours = (p: Period) => (p.endsAt!.getTime() - p.startsAt!.getTime()) / HOUR;

function badInputError(fn: () => unknown): Error & { extensions: Record<string, unknown> } {
  try {
    fn();
  } catch (error) {
    expect((error as { extensions?: Record<string, unknown> }).extensions?.code).toBe('BAD_USER_INPUT');
    return error as Error & { extensions: Record<string, unknown> };
  }
  throw new Error('expected a BAD_USER_INPUT error');
}

describe('UTC calendar windows', () => {
  const daily = spec('DAILY');
  const weekly = spec('WEEKLY');
  const monthly = spec('MONTHLY');

  it('daily: key is the date; half-open at midnight', () => {
    expectPeriod(at(daily, '2026-03-15T13:45:00Z'), '2026-03-15', '2026-03-15T00:00:00Z', '2026-03-16T00:00:00Z');
    expect(at(daily, '2026-03-15T23:59:59.999Z').key).toBe('2026-03-15');
    expect(at(daily, '2026-03-16T00:00:00.000Z').key).toBe('2026-03-16');
    expect(at(daily, '2026-03-15T00:00:00.000Z').key).toBe('2026-03-15');
  });

  it('weekly (MONDAY): key is the Monday; a Sunday belongs to the week before', () => {
    expectPeriod(at(weekly, '2026-03-15T13:45:00Z'), '2026-03-09', '2026-03-09T00:00:00Z', '2026-03-16T00:00:00Z');
    expectPeriod(at(weekly, '2026-03-16T00:00:00Z'), '2026-03-16', '2026-03-16T00:00:00Z', '2026-03-23T00:00:00Z');
    expect(at(weekly, '2026-03-15T23:59:59.999Z').key).toBe('2026-03-09');
  });

  it('weekly across a year end', () => {
    // 2026-12-28 is a Monday.
    expectPeriod(at(weekly, '2027-01-01T12:00:00Z'), '2026-12-28', '2026-12-28T00:00:00Z', '2027-01-04T00:00:00Z');
  });

  it('monthly: key is YYYY-MM; handles December and leap February', () => {
    expectPeriod(at(monthly, '2026-03-15T13:45:00Z'), '2026-03', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z');
    expectPeriod(at(monthly, '2026-12-31T23:59:59.999Z'), '2026-12', '2026-12-01T00:00:00Z', '2027-01-01T00:00:00Z');
    expect(at(monthly, '2027-01-01T00:00:00Z').key).toBe('2027-01');
    const feb = at(monthly, '2028-02-29T12:00:00Z');
    expectPeriod(feb, '2028-02', '2028-02-01T00:00:00Z', '2028-03-01T00:00:00Z');
    expect(lengthHours(feb)).toBe(29 * 24);
  });

  it('ALL_TIME: one period with no bounds', () => {
    expect(periodAt(spec('ALL_TIME'), ms('2026-03-15T13:45:00Z'))).toEqual({ key: 'all', startsAt: null, endsAt: null });
    expect(periodByKey(spec('ALL_TIME'), 'all')).toEqual({ key: 'all', startsAt: null, endsAt: null });
  });
});

describe('America/New_York', () => {
  const ny = { timeZone: 'America/New_York' };
  const daily = spec('DAILY', ny);

  it('an ordinary day runs local midnight to midnight', () => {
    expectPeriod(at(daily, '2026-01-15T12:00:00Z'), '2026-01-15', '2026-01-15T05:00:00Z', '2026-01-16T05:00:00Z');
    expectPeriod(at(daily, '2026-07-15T12:00:00Z'), '2026-07-15', '2026-07-15T04:00:00Z', '2026-07-16T04:00:00Z');
  });

  it('the local date, not the UTC date, names the period', () => {
    // 02:00Z on 07-04 is 22:00 EDT on 07-03.
    expect(at(daily, '2026-07-04T02:00:00Z').key).toBe('2026-07-03');
    expect(at(daily, '2026-07-04T03:59:59.999Z').key).toBe('2026-07-03');
    expect(at(daily, '2026-07-04T04:00:00.000Z').key).toBe('2026-07-04');
  });

  it('spring-forward day lasts 23 hours', () => {
    const p = at(daily, '2026-03-08T12:00:00Z');
    expectPeriod(p, '2026-03-08', '2026-03-08T05:00:00Z', '2026-03-09T04:00:00Z');
    expect(lengthHours(p)).toBe(23);
    // 01:59:59 EST, just before the jump, and 23:59:59.999 EDT both belong to 03-08.
    expect(at(daily, '2026-03-08T06:59:59Z').key).toBe('2026-03-08');
    expect(at(daily, '2026-03-09T03:59:59.999Z').key).toBe('2026-03-08');
    expect(at(daily, '2026-03-09T04:00:00Z').key).toBe('2026-03-09');
  });

  it('fall-back day lasts 25 hours; both 01:30s are on that day', () => {
    const p = at(daily, '2026-11-01T12:00:00Z');
    expectPeriod(p, '2026-11-01', '2026-11-01T04:00:00Z', '2026-11-02T05:00:00Z');
    expect(lengthHours(p)).toBe(25);
    expect(at(daily, '2026-11-01T05:30:00Z').key).toBe('2026-11-01'); // 01:30 EDT
    expect(at(daily, '2026-11-01T06:30:00Z').key).toBe('2026-11-01'); // 01:30 EST
    expect(at(daily, '2026-11-02T04:59:59.999Z').key).toBe('2026-11-01');
  });

  it('weekly (MONDAY) containing spring-forward lasts 167 hours', () => {
    const p = at(spec('WEEKLY', ny), '2026-03-08T12:00:00Z');
    expectPeriod(p, '2026-03-02', '2026-03-02T05:00:00Z', '2026-03-09T04:00:00Z');
    expect(lengthHours(p)).toBe(167);
  });

  it('weekly (MONDAY) containing fall-back lasts 169 hours', () => {
    const p = at(spec('WEEKLY', ny), '2026-11-01T12:00:00Z');
    expectPeriod(p, '2026-10-26', '2026-10-26T04:00:00Z', '2026-11-02T05:00:00Z');
    expect(lengthHours(p)).toBe(169);
  });

  it('weekly (SUNDAY) starts on the DST Sundays themselves', () => {
    const sunday = spec('WEEKLY', { ...ny, weekStart: 'SUNDAY' });
    const spring = at(sunday, '2026-03-08T12:00:00Z');
    expectPeriod(spring, '2026-03-08', '2026-03-08T05:00:00Z', '2026-03-15T04:00:00Z');
    expect(lengthHours(spring)).toBe(167);
    const fall = at(sunday, '2026-11-01T12:00:00Z');
    expectPeriod(fall, '2026-11-01', '2026-11-01T04:00:00Z', '2026-11-08T05:00:00Z');
    expect(lengthHours(fall)).toBe(169);
  });

  it('monthly across a DST change', () => {
    expectPeriod(at(spec('MONTHLY', ny), '2026-03-20T12:00:00Z'), '2026-03', '2026-03-01T05:00:00Z', '2026-04-01T04:00:00Z');
    // 03:00Z on 04-01 is still 23:00 EDT on 03-31.
    expect(at(spec('MONTHLY', ny), '2026-04-01T03:00:00Z').key).toBe('2026-03');
  });
});

describe('weekStart', () => {
  it('SUNDAY vs MONDAY on the same instants', () => {
    const mon = spec('WEEKLY', { weekStart: 'MONDAY' });
    const sun = spec('WEEKLY', { weekStart: 'SUNDAY' });
    // Sunday 2026-03-08
    expect(at(mon, '2026-03-08T12:00:00Z').key).toBe('2026-03-02');
    expect(at(sun, '2026-03-08T12:00:00Z').key).toBe('2026-03-08');
    // Saturday 2026-03-07
    expect(at(mon, '2026-03-07T12:00:00Z').key).toBe('2026-03-02');
    expect(at(sun, '2026-03-07T12:00:00Z').key).toBe('2026-03-01');
    // Monday 2026-03-09
    expect(at(mon, '2026-03-09T00:00:00Z').key).toBe('2026-03-09');
    expect(at(sun, '2026-03-09T00:00:00Z').key).toBe('2026-03-08');
  });

  it('every weekday can start a week', () => {
    // 2026-03-09 is a Monday; the week containing Sunday 03-15 starts on 03-09 + i.
    const expected = ['2026-03-09', '2026-03-10', '2026-03-11', '2026-03-12', '2026-03-13', '2026-03-14', '2026-03-15'];
    WEEKDAYS.forEach((weekStart: Weekday, i) => {
      const p = at(spec('WEEKLY', { weekStart }), '2026-03-15T12:00:00Z');
      expect(p.key).toBe(expected[i]);
      expect(lengthHours(p)).toBe(168);
    });
  });
});

describe('Asia/Tokyo (UTC+9)', () => {
  const tokyo = { timeZone: 'Asia/Tokyo' };

  it('monthly: the local month begins at 15:00Z the day before', () => {
    expectPeriod(at(spec('MONTHLY', tokyo), '2026-03-31T15:30:00Z'), '2026-04', '2026-03-31T15:00:00Z', '2026-04-30T15:00:00Z');
    expectPeriod(at(spec('MONTHLY', tokyo), '2026-03-31T14:59:59.999Z'), '2026-03', '2026-02-28T15:00:00Z', '2026-03-31T15:00:00Z');
    // New Year arrives in Tokyo while it is still 2025 in UTC.
    expect(at(spec('MONTHLY', tokyo), '2025-12-31T15:00:00Z').key).toBe('2026-01');
  });

  it('daily', () => {
    expectPeriod(at(spec('DAILY', tokyo), '2026-01-01T00:00:00Z'), '2026-01-01', '2025-12-31T15:00:00Z', '2026-01-01T15:00:00Z');
  });
});

describe('zones where midnight is skipped or a whole day is skipped', () => {
  it('America/Sao_Paulo 2018-11-04 began at 01:00 (DST started at midnight)', () => {
    const daily = spec('DAILY', { timeZone: 'America/Sao_Paulo' });
    // 2018-11-03 00:00 -03 = 03:00Z; the clock then jumped from 24:00 -03 to 01:00 -02 (03:00Z).
    const p = at(daily, '2018-11-04T12:00:00Z');
    expectPeriod(p, '2018-11-04', '2018-11-04T03:00:00Z', '2018-11-05T02:00:00Z');
    expect(lengthHours(p)).toBe(23);
    expectPeriod(periodByKey(daily, '2018-11-03'), '2018-11-03', '2018-11-03T03:00:00Z', '2018-11-04T03:00:00Z');
  });

  it('Pacific/Apia skipped 2011-12-30: no such daily period', () => {
    const daily = spec('DAILY', { timeZone: 'Pacific/Apia' });
    // 2011-12-29 ran at -10; at its end the zone moved to +14, straight into 12-31.
    expectPeriod(at(daily, '2011-12-30T09:59:59.999Z'), '2011-12-29', '2011-12-29T10:00:00Z', '2011-12-30T10:00:00Z');
    expectPeriod(at(daily, '2011-12-30T10:00:00Z'), '2011-12-31', '2011-12-30T10:00:00Z', '2011-12-31T10:00:00Z');
    expect(badInputError(() => periodByKey(daily, '2011-12-30')).message).toContain('does not exist');
    expect(previousPeriod(daily, periodByKey(daily, '2011-12-31'))?.key).toBe('2011-12-29');
  });
});

describe('CUSTOM', () => {
  const five = custom(5);
  const A = ms(ANCHOR);

  it('indexes seconds-long periods from the anchor, half-open', () => {
    expectPeriod(at(five, A), '0', '2026-01-01T00:00:00Z', '2026-01-01T00:00:05Z');
    expect(at(five, A + 4_999).key).toBe('0');
    expectPeriod(at(five, A + 5_000), '1', '2026-01-01T00:00:05Z', '2026-01-01T00:00:10Z');
    expect(at(five, A + 9_999).key).toBe('1');
    expect(at(five, A + 10_000).key).toBe('2');
    // 12345 s = 2469 periods of 5 s exactly.
    expectPeriod(at(five, A + 12_345_000), '2469', '2026-01-01T03:25:45Z', '2026-01-01T03:25:50Z');
  });

  it('has no period before the anchor', () => {
    expect(periodAt(five, A - 1)).toBeNull();
    expect(periodAt(five, A - 86_400_000)).toBeNull();
  });

  it('anchors with milliseconds keep exact boundaries', () => {
    const one = custom(1, '2026-01-01T00:00:00.250Z');
    expect(periodAt(one, ms('2026-01-01T00:00:00.249Z'))).toBeNull();
    expect(at(one, '2026-01-01T00:00:00.250Z').key).toBe('0');
    expect(at(one, '2026-01-01T00:00:01.249Z').key).toBe('0');
    expectPeriod(at(one, '2026-01-01T00:00:01.250Z'), '1', '2026-01-01T00:00:01.250Z', '2026-01-01T00:00:02.250Z');
  });

  it('is absolute time: a 1-day period ignores the zone and DST', () => {
    const day = custom(86_400, '2026-03-07T05:00:00Z', { timeZone: 'America/New_York' });
    const p = at(day, '2026-03-08T12:00:00Z');
    expectPeriod(p, '1', '2026-03-08T05:00:00Z', '2026-03-09T05:00:00Z');
    expect(lengthHours(p)).toBe(24);
  });
});

describe('periodByKey', () => {
  const specs: [string, PeriodSpec][] = [
    ['ALL_TIME', spec('ALL_TIME')],
    ['DAILY UTC', spec('DAILY')],
    ['DAILY New_York', spec('DAILY', { timeZone: 'America/New_York' })],
    ['WEEKLY New_York MONDAY', spec('WEEKLY', { timeZone: 'America/New_York' })],
    ['WEEKLY New_York SUNDAY', spec('WEEKLY', { timeZone: 'America/New_York', weekStart: 'SUNDAY' })],
    ['WEEKLY Tokyo THURSDAY', spec('WEEKLY', { timeZone: 'Asia/Tokyo', weekStart: 'THURSDAY' })],
    ['MONTHLY Tokyo', spec('MONTHLY', { timeZone: 'Asia/Tokyo' })],
    ['MONTHLY New_York', spec('MONTHLY', { timeZone: 'America/New_York' })],
    ['CUSTOM 5s', custom(5)],
    ['CUSTOM 7d', custom(7 * 86_400, '2026-01-05T09:30:00Z')],
  ];
  const instants = [
    '2026-01-05T09:30:00Z',
    '2026-03-08T06:59:59.999Z',
    '2026-03-08T07:00:00Z',
    '2026-03-09T04:00:00Z',
    '2026-03-31T15:00:00Z',
    '2026-11-01T05:30:00Z',
    '2026-11-01T06:30:00Z',
    '2026-12-31T23:59:59.999Z',
    '2027-06-15T00:00:00Z',
  ];

  for (const [name, s] of specs) {
    it(`round-trips periodAt: ${name}`, () => {
      for (const iso of instants) {
        const p = periodAt(s, ms(iso))!;
        expect(periodByKey(s, p.key)).toEqual(p);
        if (p.startsAt) {
          // Both bounds map back to the same period / the next one (half-open).
          expect(periodAt(s, p.startsAt.getTime())).toEqual(p);
          expect(periodAt(s, p.endsAt!.getTime() - 1)).toEqual(p);
          expect(periodAt(s, p.endsAt!.getTime())!.key).not.toBe(p.key);
        }
      }
    });
  }

  it('names specific periods', () => {
    const ny = { timeZone: 'America/New_York' };
    expectPeriod(periodByKey(spec('DAILY', ny), '2026-03-08'), '2026-03-08', '2026-03-08T05:00:00Z', '2026-03-09T04:00:00Z');
    expectPeriod(periodByKey(spec('WEEKLY', ny), '2026-10-26'), '2026-10-26', '2026-10-26T04:00:00Z', '2026-11-02T05:00:00Z');
    expectPeriod(periodByKey(spec('MONTHLY', { timeZone: 'Asia/Tokyo' }), '2026-04'), '2026-04', '2026-03-31T15:00:00Z', '2026-04-30T15:00:00Z');
    expectPeriod(periodByKey(custom(5), '3'), '3', '2026-01-01T00:00:15Z', '2026-01-01T00:00:20Z');
    expectPeriod(periodByKey(spec('DAILY'), '1970-01-01'), '1970-01-01', '1970-01-01T00:00:00Z', '1970-01-02T00:00:00Z');
    expectPeriod(periodByKey(spec('MONTHLY'), '9999-12'), '9999-12', '9999-12-01T00:00:00Z', '+010000-01-01T00:00:00Z');
  });

  const malformed: [string, PeriodSpec, string[]][] = [
    [
      'DAILY',
      spec('DAILY'),
      [
        '2026-13-45',
        '2026-02-30',
        '2027-02-29',
        '2026-04-31',
        '2026-00-10',
        '2026-01-00',
        '2026-2-3',
        '20260203',
        '2026/02/03',
        '2026-02-03T00:00',
        ' 2026-02-03',
        '2026-02-03 ',
        '2026-02-03\n',
        '',
        'all',
        '2026-02',
        '1969-12-31',
        '0000-01-01',
        '10000-01-01',
        '+010000-01-01',
        '-002026-01-01',
        '２０２６-01-01',
      ],
    ],
    ['WEEKLY MONDAY', spec('WEEKLY'), ['2026-03-08', '2026-03-10', '2026-13-02', '2026-03', 'all', '1969-12-29']],
    ['WEEKLY SUNDAY', spec('WEEKLY', { weekStart: 'SUNDAY' }), ['2026-03-09', '2026-03-07']],
    ['MONTHLY', spec('MONTHLY'), ['2026-13', '2026-00', '2026-1', '2026-3', '2026-03-01', '202603', '1969-12', '10000-01', '', 'all']],
    ['ALL_TIME', spec('ALL_TIME'), ['', 'ALL', 'All', ' all', 'all ', '2026-01-01', '0']],
    ['CUSTOM', custom(5), ['01', '00', '-1', '-0', '+1', '1.5', '1.0', '1e3', '0x10', ' 1', '1 ', '', 'all', '9007199254740993', '99999999999999']],
  ];

  for (const [name, s, keys] of malformed) {
    it(`rejects malformed or impossible keys: ${name}`, () => {
      for (const key of keys) {
        const error = badInputError(() => periodByKey(s, key));
        expect(error.message).toContain(JSON.stringify(key));
      }
    });
  }

  it('accepts the week start for the board but not another weekday', () => {
    expect(periodByKey(spec('WEEKLY'), '2026-03-09').key).toBe('2026-03-09');
    expect(periodByKey(spec('WEEKLY', { weekStart: 'SUNDAY' }), '2026-03-08').key).toBe('2026-03-08');
    expect(badInputError(() => periodByKey(spec('WEEKLY'), '2026-03-08')).message).toContain('MONDAY');
  });
});

describe('previousPeriod', () => {
  it('calendar windows', () => {
    const ny = { timeZone: 'America/New_York' };
    const daily = spec('DAILY', ny);
    expectPeriod(previousPeriod(daily, periodByKey(daily, '2026-03-09')), '2026-03-08', '2026-03-08T05:00:00Z', '2026-03-09T04:00:00Z');
    expect(previousPeriod(daily, periodByKey(daily, '2026-03-01'))?.key).toBe('2026-02-28');
    const weekly = spec('WEEKLY');
    expectPeriod(previousPeriod(weekly, periodByKey(weekly, '2026-03-09')), '2026-03-02', '2026-03-02T00:00:00Z', '2026-03-09T00:00:00Z');
    const monthly = spec('MONTHLY', { timeZone: 'Asia/Tokyo' });
    expectPeriod(previousPeriod(monthly, periodByKey(monthly, '2026-03')), '2026-02', '2026-01-31T15:00:00Z', '2026-02-28T15:00:00Z');
    expect(previousPeriod(spec('MONTHLY'), periodByKey(spec('MONTHLY'), '2026-01'))?.key).toBe('2025-12');
  });

  it('CUSTOM steps back one index; index 0 has none', () => {
    const s = custom(5);
    expectPeriod(previousPeriod(s, periodByKey(s, '3')), '2', '2026-01-01T00:00:10Z', '2026-01-01T00:00:15Z');
    expect(previousPeriod(s, periodByKey(s, '1'))?.key).toBe('0');
    expect(previousPeriod(s, periodByKey(s, '0'))).toBeNull();
  });

  it('ALL_TIME has none', () => {
    expect(previousPeriod(spec('ALL_TIME'), { key: 'all', startsAt: null, endsAt: null })).toBeNull();
  });

  it('rejects a period that does not belong to the spec', () => {
    badInputError(() => previousPeriod(spec('WEEKLY'), periodByKey(spec('DAILY'), '2026-03-08')));
    badInputError(() => previousPeriod(spec('MONTHLY'), periodByKey(spec('DAILY'), '2026-03-08')));
  });
});

describe('isFinal', () => {
  const p = periodByKey(spec('DAILY'), '2026-03-15');
  const end = ms('2026-03-16T00:00:00Z');

  it('flips exactly at endsAt + ttl', () => {
    expect(isFinal(p, 60, end - 1)).toBe(false);
    expect(isFinal(p, 60, end)).toBe(false);
    expect(isFinal(p, 60, end + 59_999)).toBe(false);
    expect(isFinal(p, 60, end + 60_000)).toBe(true);
    expect(isFinal(p, 60, end + 86_400_000)).toBe(true);
  });

  it('with ttl 0 it flips at endsAt', () => {
    expect(isFinal(p, 0, end - 1)).toBe(false);
    expect(isFinal(p, 0, end)).toBe(true);
  });

  it('ALL_TIME is never final', () => {
    expect(isFinal({ key: 'all', startsAt: null, endsAt: null }, 0, Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it('rejects a negative or non-finite ttl', () => {
    expect(() => isFinal(p, -1, end)).toThrow(RangeError);
    expect(() => isFinal(p, Number.NaN, end)).toThrow(RangeError);
  });
});

describe('nextBoundaryAfter', () => {
  it('is the end of the current period, strictly after the instant', () => {
    const daily = spec('DAILY');
    expect(nextBoundaryAfter(daily, ms('2026-03-15T23:59:59.999Z'))?.toISOString()).toBe('2026-03-16T00:00:00.000Z');
    expect(nextBoundaryAfter(daily, ms('2026-03-16T00:00:00.000Z'))?.toISOString()).toBe('2026-03-17T00:00:00.000Z');
    const ny = spec('DAILY', { timeZone: 'America/New_York' });
    expect(nextBoundaryAfter(ny, ms('2026-03-08T12:00:00Z'))?.toISOString()).toBe('2026-03-09T04:00:00.000Z');
    expect(nextBoundaryAfter(spec('MONTHLY', { timeZone: 'Asia/Tokyo' }), ms('2026-04-10T00:00:00Z'))?.toISOString()).toBe('2026-04-30T15:00:00.000Z');
  });

  it('CUSTOM: next multiple of the length; the anchor itself before the anchor', () => {
    const s = custom(5);
    const A = ms(ANCHOR);
    expect(nextBoundaryAfter(s, A - 1_000)?.getTime()).toBe(A);
    expect(nextBoundaryAfter(s, A)?.getTime()).toBe(A + 5_000);
    expect(nextBoundaryAfter(s, A + 4_999)?.getTime()).toBe(A + 5_000);
    expect(nextBoundaryAfter(s, A + 5_000)?.getTime()).toBe(A + 10_000);
  });

  it('ALL_TIME has none', () => {
    expect(nextBoundaryAfter(spec('ALL_TIME'), Date.now())).toBeNull();
  });
});

describe('time zones', () => {
  it('accepts IANA ids, case-insensitively', () => {
    for (const z of ['UTC', 'Etc/UTC', 'America/New_York', 'Asia/Tokyo', 'Europe/London', 'Etc/GMT+5', 'America/Argentina/Buenos_Aires', 'america/new_york']) {
      expect(isValidTimeZone(z), z).toBe(true);
    }
  });

  it('rejects unknown ids, whitespace, offsets and ISO strings', () => {
    for (const z of [
      'Mars/Olympus',
      '',
      'America/New_York ',
      ' America/New_York',
      'America/NewYork',
      'America//New_York',
      'America/New_York/',
      '+05:00',
      '-00:00',
      'Z',
      '2020-01-01T00:00Z[UTC]',
      '[UTC]',
      'x'.repeat(200),
    ]) {
      expect(isValidTimeZone(z), JSON.stringify(z)).toBe(false);
    }
  });

  it('canonicalTimeZone case-normalises and rejects invalid ids', () => {
    expect(canonicalTimeZone('america/new_york')).toBe('America/New_York');
    expect(canonicalTimeZone('utc')).toBe('UTC');
    expect(canonicalTimeZone('Asia/Tokyo')).toBe('Asia/Tokyo');
    badInputError(() => canonicalTimeZone('Mars/Olympus'));
    badInputError(() => canonicalTimeZone('America/New_York '));
  });

  it('a spec with an invalid zone is rejected', () => {
    badInputError(() => periodAt(spec('DAILY', { timeZone: 'Mars/Olympus' }), Date.now()));
    badInputError(() => periodByKey(spec('DAILY', { timeZone: '' }), '2026-01-01'));
  });

  it('a case-variant zone gives the same periods', () => {
    expect(at(spec('DAILY', { timeZone: 'america/new_york' }), '2026-07-04T02:00:00Z')).toEqual(at(spec('DAILY', { timeZone: 'America/New_York' }), '2026-07-04T02:00:00Z'));
  });
});

describe('spec validation', () => {
  it('rejects unusable CUSTOM settings and unknown enums', () => {
    badInputError(() => validatePeriodSpec(spec('CUSTOM', { periodSeconds: 5, anchor: null })));
    badInputError(() => validatePeriodSpec(spec('CUSTOM', { periodSeconds: null, anchor: new Date(ANCHOR) })));
    badInputError(() => validatePeriodSpec(custom(0)));
    badInputError(() => validatePeriodSpec(custom(-5)));
    badInputError(() => validatePeriodSpec(custom(1.5)));
    badInputError(() => validatePeriodSpec(spec('CUSTOM', { periodSeconds: 5, anchor: new Date(Number.NaN) })));
    badInputError(() => validatePeriodSpec(spec('WEEKLY', { weekStart: 'FUNDAY' as Weekday })));
    badInputError(() => validatePeriodSpec(spec('YEARLY' as BoardWindow)));
    expect(() => validatePeriodSpec(custom(1))).not.toThrow();
  });

  it('rejects instants it cannot name', () => {
    badInputError(() => periodAt(spec('DAILY'), Number.NaN));
    badInputError(() => periodAt(spec('DAILY'), Number.POSITIVE_INFINITY));
    badInputError(() => periodAt(spec('DAILY'), ms('1969-06-01T00:00:00Z')));
    badInputError(() => periodAt(spec('DAILY'), 8.64e15));
  });
});

describe('memo of the current period', () => {
  it('stays correct across boundaries and between specs', () => {
    const utc = spec('DAILY');
    const ny = spec('DAILY', { timeZone: 'America/New_York' });
    const t = ms('2026-07-04T02:00:00Z');
    expect(at(utc, t).key).toBe('2026-07-04');
    expect(at(ny, t).key).toBe('2026-07-03');
    expect(at(utc, t).key).toBe('2026-07-04');
    // Just past the memoised period, then back into it, then before it.
    expect(at(utc, '2026-07-05T00:00:00Z').key).toBe('2026-07-05');
    expect(at(utc, '2026-07-04T23:59:59.999Z').key).toBe('2026-07-04');
    expect(at(utc, '2026-07-03T23:59:59.999Z').key).toBe('2026-07-03');
  });

  it('a spec object reused with a changed field is not served stale periods', () => {
    const s = spec('WEEKLY');
    expect(at(s, '2026-03-08T12:00:00Z').key).toBe('2026-03-02');
    s.weekStart = 'SUNDAY';
    expect(at(s, '2026-03-08T12:00:00Z').key).toBe('2026-03-08');
  });

  it('returns fresh Dates each call', () => {
    const s = spec('DAILY');
    const first = at(s, '2026-03-15T12:00:00Z');
    first.startsAt!.setTime(0);
    expect(at(s, '2026-03-15T13:00:00Z').startsAt?.toISOString()).toBe('2026-03-15T00:00:00.000Z');
  });
});
