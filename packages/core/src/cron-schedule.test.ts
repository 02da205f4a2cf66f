import { afterEach, describe, expect, it, vi } from 'vitest';
import { CronSchedule, CronScheduleError, cronScheduleError } from './cron-schedule';

/** Every fire time in [from, to), by iterating `next`, as ISO instants without milliseconds. */
function fires(expression: string, timezone: string | undefined, from: string, to: string): string[] {
  const schedule = CronSchedule.parse(expression, timezone);
  const end = new Date(to);
  const found: string[] = [];
  for (let at = schedule.next(new Date(from)); at !== undefined && at < end; at = schedule.next(at)) {
    found.push(iso(at));
  }
  return found;
}

function iso(date: Date): string;
function iso(date: Date | undefined): string | undefined;
function iso(date: Date | undefined): string | undefined {
  return date?.toISOString().replace('.000Z', 'Z');
}

/** The calendar day of `date` in `timezone`, e.g. `2026-03-29`. */
function localDay(date: Date, timezone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone, dateStyle: 'short' }).format(date);
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('CronSchedule.next', () => {
  it('reads 5 fields as minute-level and 6 fields as seconds first', () => {
    expect(fires('*/20 * * * *', undefined, '2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z')).toEqual([
      '2026-01-01T00:20:00Z',
      '2026-01-01T00:40:00Z',
    ]);
    expect(fires('*/20 * * * * *', undefined, '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z')).toEqual([
      '2026-01-01T00:00:20Z',
      '2026-01-01T00:00:40Z',
    ]);
    expect(fires('30 15 10 * * *', undefined, '2026-01-01T00:00:00Z', '2026-01-03T00:00:00Z')).toEqual([
      '2026-01-01T10:15:30Z',
      '2026-01-02T10:15:30Z',
    ]);
  });

  it('is strictly after its argument, also when that is a fire time or between seconds', () => {
    const hourly = CronSchedule.parse('0 * * * *');
    expect(iso(hourly.next(new Date('2026-01-01T10:00:00Z')))).toBe('2026-01-01T11:00:00Z');
    expect(iso(hourly.next(new Date('2026-01-01T09:59:59.999Z')))).toBe('2026-01-01T10:00:00Z');
    const everySecond = CronSchedule.parse('* * * * * *');
    expect(iso(everySecond.next(new Date('2026-01-01T10:00:00Z')))).toBe('2026-01-01T10:00:01Z');
    expect(iso(everySecond.next(new Date('2026-01-01T10:00:00.500Z')))).toBe('2026-01-01T10:00:01Z');
  });

  it('defaults to UTC, whatever the time zone of the process', () => {
    vi.stubEnv('TZ', 'Asia/Tokyo');
    expect(new Date('2026-01-01T00:00:00Z').getHours()).toBe(9); // the stub took effect
    const noon = CronSchedule.parse('0 12 * * *');
    expect(noon.timezone).toBe('UTC');
    expect(iso(noon.next(new Date('2026-01-01T00:00:00Z')))).toBe('2026-01-01T12:00:00Z');
    expect(iso(CronSchedule.parse('0 12 * * *', 'Etc/UTC').next(new Date('2026-01-01T00:00:00Z')))).toBe(
      '2026-01-01T12:00:00Z',
    );
  });

  it('reads wall-clock times in the given time zone and names it canonically', () => {
    const schedule = CronSchedule.parse('0 9 * * *', 'asia/singapore');
    expect(schedule.timezone).toBe('Asia/Singapore');
    expect(iso(schedule.next(new Date('2026-01-01T00:00:00Z')))).toBe('2026-01-01T01:00:00Z');
  });

  it('matches a day when day-of-month OR day-of-week does, and both with +', () => {
    // January 2026: the 1st is a Thursday, Mondays are the 5th, 12th, 19th, 26th.
    expect(fires('0 9 1 * MON', undefined, '2026-01-01T00:00:00Z', '2026-02-03T00:00:00Z')).toEqual([
      '2026-01-01T09:00:00Z',
      '2026-01-05T09:00:00Z',
      '2026-01-12T09:00:00Z',
      '2026-01-19T09:00:00Z',
      '2026-01-26T09:00:00Z',
      '2026-02-01T09:00:00Z',
      '2026-02-02T09:00:00Z',
    ]);
    // The next 1st that is a Monday is 1 June 2026.
    expect(iso(CronSchedule.parse('0 9 1 * +MON').next(new Date('2026-01-01T00:00:00Z')))).toBe(
      '2026-06-01T09:00:00Z',
    );
  });

  it('supports L, W, #, names and nicknames', () => {
    const after = new Date('2026-01-01T00:00:00Z');
    const first = (expression: string) => iso(CronSchedule.parse(expression).next(after));
    expect(first('0 0 L * *')).toBe('2026-01-31T00:00:00Z'); // last day of the month
    expect(first('0 0 3W * *')).toBe('2026-01-02T00:00:00Z'); // the 3rd is a Saturday: Friday the 2nd
    expect(first('0 0 * * FRI#2')).toBe('2026-01-09T00:00:00Z'); // second Friday
    expect(first('0 0 * * 5L')).toBe('2026-01-30T00:00:00Z'); // last Friday
    expect(first('0 0 1 FEB *')).toBe('2026-02-01T00:00:00Z');
    expect(first('@daily')).toBe('2026-01-02T00:00:00Z');
    expect(first('@hourly')).toBe('2026-01-01T01:00:00Z');
    expect(first('@weekly')).toBe('2026-01-04T00:00:00Z'); // Sunday
    expect(first('@monthly')).toBe('2026-02-01T00:00:00Z');
    expect(first('@yearly')).toBe('2027-01-01T00:00:00Z');
  });

  it('has no next fire time for a date that never comes', () => {
    expect(CronSchedule.parse('0 0 30 2 *').next(new Date('2026-01-01T00:00:00Z'))).toBeUndefined();
  });

  it('refuses an invalid date', () => {
    expect(() => CronSchedule.parse('* * * * *').next(new Date('nonsense'))).toThrow(RangeError);
  });

  it('computes 10,000 successive fire times quickly (printed, not asserted)', () => {
    for (const timezone of [undefined, 'Europe/Berlin']) {
      const schedule = CronSchedule.parse('* * * * * *', timezone);
      const started = performance.now();
      let at: Date | undefined = new Date('2026-01-01T00:00:00Z');
      for (let i = 0; i < 10_000 && at; i++) at = schedule.next(at);
      const ms = performance.now() - started;
      console.log(`10,000 next() of '* * * * * *' in ${schedule.timezone}: ${ms.toFixed(0)} ms`);
      expect(iso(at)).toBe('2026-01-01T02:46:40Z');
    }
  });
});

describe('CronSchedule.parse errors', () => {
  it.each([
    ['61 * * * *', 'minute field: 61 is out of range 0-59'],
    ['1-61 * * * *', "minute field '1-61': 61 is out of range 0-59"],
    ['0 24 * * *', 'hour field: 24 is out of range 0-23'],
    ['0 0 32 * *', 'day-of-month field: 32 is out of range 1-31'],
    ['0 0 0 * *', 'day-of-month field: 0 is out of range 1-31'],
    ['0 0 * 13 *', 'month field: 13 is out of range 1-12'],
    ['0 0 * * 8', 'day-of-week field: 8 is out of range 0-7'],
    ['60 0 0 * * *', 'second field: 60 is out of range 0-59'],
    ['* * *', 'expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), got 3'],
    ['0 0 0 1 1 * 2030', 'expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), got 7'],
    ['  ', 'is empty'],
    ['abc * * * *', "minute field 'abc': contains illegal characters"],
    ['*/0 * * * *', "minute field '*/0': illegal stepping: 0"],
    ['1,,2 * * * *', "minute field '1,,2': has an empty list item"],
    ['@every_minute', "unknown nickname '@every_minute' (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)"],
    ['@reboot', '@reboot is not supported: there is no reboot to wait for'],
    // croner would read these as a date to fire once at.
    ['2030-01-23T00:00:00', "'2030-01-23T00:00:00' is not a cron expression (':' is not allowed)"],
    ['Mon Jan 5 2026 10:00:00', "'Mon Jan 5 2026 10:00:00' is not a cron expression (':' is not allowed)"],
  ])('%j: %s', (expression, message) => {
    expect(cronScheduleError(expression)).toBe(message);
    expect(() => CronSchedule.parse(expression)).toThrow(CronScheduleError);
  });

  it('names an unknown time zone', () => {
    const message = "unknown time zone 'Mars/Olympus' (use an IANA name such as Europe/Berlin)";
    expect(cronScheduleError('0 * * * *', 'Mars/Olympus')).toBe(message);
    expect(() => CronSchedule.parse('0 * * * *', 'Mars/Olympus')).toThrow(CronScheduleError);
    expect(cronScheduleError('0 * * * *', '')).toBe("unknown time zone '' (use an IANA name such as Europe/Berlin)");
  });

  it('keeps the expression and croner’s error as the cause', () => {
    const error = (() => {
      try {
        CronSchedule.parse('61 * * * *');
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(CronScheduleError);
    expect(error).toMatchObject({ name: 'CronScheduleError', expression: '61 * * * *' });
    expect((error as CronScheduleError).cause).toBeInstanceOf(Error);
  });

  it('accepts valid expressions', () => {
    for (const expression of ['* * * * *', '0 0 * * * *', ' 0  12 * * MON-FRI ', '0 0 ? * *', '@midnight', '0 0 LW * *']) {
      expect(cronScheduleError(expression), expression).toBeUndefined();
    }
  });
});

// Europe/Berlin 2026: spring forward 29 March 02:00 CET (01:00Z) -> 03:00 CEST;
// fall back 25 October 03:00 CEST (01:00Z) -> 02:00 CET, so 02:00-03:00 local happens twice
// (00:00Z-01:00Z in summer time, 01:00Z-02:00Z in winter time).
describe('daylight saving in Europe/Berlin', () => {
  const berlin = 'Europe/Berlin';

  it('fires a time in the skipped hour once, at the end of the gap, and at 02:30 again the next day', () => {
    expect(fires('30 2 * * *', berlin, '2026-03-27T00:00:00Z', '2026-03-31T00:00:00Z')).toEqual([
      '2026-03-27T01:30:00Z', // 02:30 CET
      '2026-03-28T01:30:00Z', // 02:30 CET
      '2026-03-29T01:00:00Z', // 03:00 CEST: 02:30 does not exist
      '2026-03-30T00:30:00Z', // 02:30 CEST
    ]);
  });

  it('fires a time in the repeated hour once, at its first occurrence', () => {
    expect(fires('30 2 * * *', berlin, '2026-10-23T00:00:00Z', '2026-10-27T00:00:00Z')).toEqual([
      '2026-10-23T00:30:00Z', // 02:30 CEST
      '2026-10-24T00:30:00Z', // 02:30 CEST
      '2026-10-25T00:30:00Z', // 02:30 CEST, and not again at 02:30 CET (01:30Z)
      '2026-10-26T01:30:00Z', // 02:30 CET
    ]);
  });

  it('does not fire the repeated time again when resumed inside the repeated hour', () => {
    const schedule = CronSchedule.parse('30 2 * * *', berlin);
    expect(iso(schedule.next(new Date('2026-10-25T00:29:59Z')))).toBe('2026-10-25T00:30:00Z');
    expect(iso(schedule.next(new Date('2026-10-25T00:30:00Z')))).toBe('2026-10-26T01:30:00Z');
    expect(iso(schedule.next(new Date('2026-10-25T01:10:00Z')))).toBe('2026-10-26T01:30:00Z'); // 02:10 CET
  });

  it('treats lists and ranges of fixed times as fixed times', () => {
    expect(fires('30 2,14 * * *', berlin, '2026-03-29T00:00:00Z', '2026-03-30T00:00:00Z')).toEqual([
      '2026-03-29T01:00:00Z', // 03:00 CEST for 02:30
      '2026-03-29T12:30:00Z', // 14:30 CEST
    ]);
    expect(fires('30 2,14 * * *', berlin, '2026-10-25T00:00:00Z', '2026-10-26T00:00:00Z')).toEqual([
      '2026-10-25T00:30:00Z', // 02:30 CEST only
      '2026-10-25T13:30:00Z', // 14:30 CET
    ]);
    // 02:00 does not exist and meets 03:00 at the end of the gap: one run, not two.
    expect(fires('0 1-3 * * *', berlin, '2026-03-28T22:00:00Z', '2026-03-29T06:00:00Z')).toEqual([
      '2026-03-29T00:00:00Z', // 01:00 CET
      '2026-03-29T01:00:00Z', // 03:00 CEST, for 02:00 and 03:00
    ]);
    expect(fires('0 1-3 * * *', berlin, '2026-10-24T22:00:00Z', '2026-10-25T06:00:00Z')).toEqual([
      '2026-10-24T23:00:00Z', // 01:00 CEST
      '2026-10-25T00:00:00Z', // 02:00 CEST only
      '2026-10-25T02:00:00Z', // 03:00 CET
    ]);
  });

  it('fires an hourly schedule at every real hour: none in the gap, both passes of the repeated hour', () => {
    expect(fires('0 * * * *', berlin, '2026-03-28T23:30:00Z', '2026-03-29T02:30:00Z')).toEqual([
      '2026-03-29T00:00:00Z', // 01:00 CET
      '2026-03-29T01:00:00Z', // 03:00 CEST (02:00 does not exist)
      '2026-03-29T02:00:00Z', // 04:00 CEST
    ]);
    expect(fires('0 * * * *', berlin, '2026-10-24T23:30:00Z', '2026-10-25T02:30:00Z')).toEqual([
      '2026-10-25T00:00:00Z', // 02:00 CEST
      '2026-10-25T01:00:00Z', // 02:00 CET, a different instant
      '2026-10-25T02:00:00Z', // 03:00 CET
    ]);
  });

  it('keeps a 15-minute interval at its real instants through both transitions', () => {
    expect(fires('*/15 * * * *', berlin, '2026-03-29T00:30:00Z', '2026-03-29T01:31:00Z')).toEqual([
      '2026-03-29T00:45:00Z', // 01:45 CET
      '2026-03-29T01:00:00Z', // 03:00 CEST
      '2026-03-29T01:15:00Z',
      '2026-03-29T01:30:00Z',
    ]);
    expect(fires('*/15 * * * *', berlin, '2026-10-24T23:50:00Z', '2026-10-25T02:01:00Z')).toEqual([
      '2026-10-25T00:00:00Z', // 02:00 CEST
      '2026-10-25T00:15:00Z',
      '2026-10-25T00:30:00Z',
      '2026-10-25T00:45:00Z',
      '2026-10-25T01:00:00Z', // 02:00 CET
      '2026-10-25T01:15:00Z',
      '2026-10-25T01:30:00Z',
      '2026-10-25T01:45:00Z',
      '2026-10-25T02:00:00Z', // 03:00 CET
    ]);
  });

  it('fires a 6-field interval through the gap without a double', () => {
    expect(fires('*/20 59 1 * * *', berlin, '2026-03-29T00:58:50Z', '2026-03-29T01:05:00Z')).toEqual([
      '2026-03-29T00:59:00Z', // 01:59:00 CET
      '2026-03-29T00:59:20Z',
      '2026-03-29T00:59:40Z', // then nothing: 01:59 does not come again that day
    ]);
  });
});

// America/New_York 2026: spring forward 8 March 02:00 EST (07:00Z) -> 03:00 EDT;
// fall back 1 November 02:00 EDT (06:00Z) -> 01:00 EST, so 01:00-02:00 local happens twice
// (05:00Z-06:00Z in daylight time, 06:00Z-07:00Z in standard time).
describe('daylight saving in America/New_York', () => {
  const newYork = 'America/New_York';

  it('fires a time in the skipped hour once, at the end of the gap', () => {
    expect(fires('30 2 * * *', newYork, '2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z')).toEqual([
      '2026-03-07T07:30:00Z', // 02:30 EST
      '2026-03-08T07:00:00Z', // 03:00 EDT: 02:30 does not exist
      '2026-03-09T06:30:00Z', // 02:30 EDT
    ]);
  });

  it('fires a time in the repeated hour once, at its first occurrence', () => {
    expect(fires('30 1 * * *', newYork, '2026-10-31T00:00:00Z', '2026-11-03T00:00:00Z')).toEqual([
      '2026-10-31T05:30:00Z', // 01:30 EDT
      '2026-11-01T05:30:00Z', // 01:30 EDT, and not again at 01:30 EST (06:30Z)
      '2026-11-02T06:30:00Z', // 01:30 EST
    ]);
  });

  it('keeps interval schedules at their real instants', () => {
    expect(fires('0 * * * *', newYork, '2026-03-08T05:30:00Z', '2026-03-08T08:30:00Z')).toEqual([
      '2026-03-08T06:00:00Z', // 01:00 EST
      '2026-03-08T07:00:00Z', // 03:00 EDT (02:00 does not exist)
      '2026-03-08T08:00:00Z', // 04:00 EDT
    ]);
    expect(fires('*/30 * * * *', newYork, '2026-11-01T04:45:00Z', '2026-11-01T07:01:00Z')).toEqual([
      '2026-11-01T05:00:00Z', // 01:00 EDT
      '2026-11-01T05:30:00Z', // 01:30 EDT
      '2026-11-01T06:00:00Z', // 01:00 EST
      '2026-11-01T06:30:00Z', // 01:30 EST
      '2026-11-01T07:00:00Z', // 02:00 EST
    ]);
  });
});

describe('daylight saving over a whole year', () => {
  const year = ['2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'] as const;

  it.each([
    ['30 2 * * *', 'Europe/Berlin'],
    ['0 2 * * *', 'Europe/Berlin'],
    ['0 3 * * *', 'Europe/Berlin'],
    ['30 1 * * *', 'America/New_York'],
    ['30 2 * * *', 'America/New_York'],
    ['0 0 * * *', 'America/Santiago'], // the gap is at midnight (6 September 2026)
    ['15 2 * * *', 'Australia/Lord_Howe'], // a half-hour shift
  ])('%s in %s fires exactly once on each of the 365 local days, strictly increasing', (expression, timezone) => {
    const instants = fires(expression, timezone, ...year).map((text) => new Date(text));
    expect(instants).toHaveLength(365);
    for (let i = 1; i < instants.length; i++) {
      const [before, at] = [instants[i - 1], instants[i]];
      if (!before || !at) throw new Error('unreachable');
      expect(at.getTime()).toBeGreaterThan(before.getTime());
      // The local day of each fire is the calendar day after the previous one's: none lost, none twice.
      expect(Date.parse(localDay(at, timezone)) - Date.parse(localDay(before, timezone))).toBe(86_400_000);
    }
  });

  it('fires 0 * * * * in Europe/Berlin at every one of the 8,760 real hours of 2026', () => {
    // `next` is strictly after its argument: start an hour early to include 00:00Z.
    const instants = fires('0 * * * *', 'Europe/Berlin', '2025-12-31T23:00:00Z', year[1]);
    expect(instants).toHaveLength(365 * 24);
    expect(new Set(instants).size).toBe(instants.length);
    expect(instants.every((text) => text.endsWith(':00:00Z'))).toBe(true);
  });
});
