import { recordConfigChange } from '../resolvers/operators/audit.js';
import { badInput } from '../errors.js';
import type { BoardDefinition } from '../resolvers/boards/definitions.js';
import type { PrismaClient } from '../db/database.js';
import { isFinal, periodByKey, previousPeriod, WEEKDAYS, BOARD_WINDOWS, type Period } from '../resolvers/boards/periods.js';
import { currentPeriod } from '../resolvers/boards/views.js';
import { builder } from './builder.js';

export const BoardWindowEnum = builder.enumType('BoardWindow', {
  description: 'How a board is split into periods.',
  values: Object.fromEntries(BOARD_WINDOWS.map((w) => [w, { value: w }])) as Record<(typeof BOARD_WINDOWS)[number], { value: (typeof BOARD_WINDOWS)[number] }>,
});

export const WeekdayEnum = builder.enumType('Weekday', {
  description: 'A day of the week (the first day of WEEKLY periods).',
  values: Object.fromEntries(WEEKDAYS.map((d) => [d, { value: d }])) as Record<(typeof WEEKDAYS)[number], { value: (typeof WEEKDAYS)[number] }>,
});

export const RankModeEnum = builder.enumType('RankMode', {
  description: 'How `rank` counts ties: ORDINAL = position (1, 2, 3, 4); COMPETITION = 1 + higher scores (1, 2, 2, 4); DENSE = 1 + distinct higher scores (1, 2, 2, 3).',
  values: { ORDINAL: { value: 'ORDINAL' }, COMPETITION: { value: 'COMPETITION' }, DENSE: { value: 'DENSE' } } as const,
});

/** A period together with the board it belongs to (finality depends on the ticket TTL). */
export interface PeriodShape extends Period {
  ticketTtlSeconds: number;
}

export const PeriodRef = builder.objectRef<PeriodShape>('Period').implement({
  description: 'One period of a board: half-open [startsAt, endsAt).',
  fields: (t) => ({
    key: t.exposeString('key', {
      description: 'ALL_TIME "all"; DAILY and WEEKLY the local start date ("2026-11-30"); MONTHLY "2026-11"; CUSTOM the index ("0", "1", ...).',
    }),
    startsAt: t.field({ type: 'DateTime', nullable: true, description: 'Start (inclusive); null for ALL_TIME.', resolve: (p) => p.startsAt }),
    endsAt: t.field({ type: 'DateTime', nullable: true, description: 'End (exclusive); null for ALL_TIME.', resolve: (p) => p.endsAt }),
    final: t.boolean({
      description: 'True once endsAt + the ticket lifetime has passed: no ticket issued inside the period can still land.',
      resolve: (p) => isFinal(p, p.ticketTtlSeconds, Date.now()),
    }),
  }),
});

export const BoardRef = builder.objectRef<BoardDefinition>('Board').implement({
  description: 'A leaderboard defined by operators. `global` (ALL_TIME, every action type) always exists.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Slug: [a-z0-9-]{1,40}.' }),
    title: t.exposeString('title', { description: 'Display title.' }),
    window: t.field({ type: BoardWindowEnum, description: 'How the board is split into periods.', resolve: (b) => b.window }),
    timeZone: t.exposeString('timeZone', { description: 'IANA zone: DAILY/WEEKLY/MONTHLY periods start at local midnight there.' }),
    weekStart: t.field({ type: WeekdayEnum, description: 'WEEKLY: the first day of the week.', resolve: (b) => b.weekStart }),
    periodSeconds: t.int({ nullable: true, description: 'CUSTOM: length of every period.', resolve: (b) => b.periodSeconds }),
    anchor: t.field({ type: 'DateTime', nullable: true, description: 'CUSTOM: start of period 0.', resolve: (b) => b.anchor }),
    segmentBy: t.string({ nullable: true, description: 'Player attribute the board is split by (one standings table per value), or null.', resolve: (b) => b.segmentBy }),
    actionTypes: t.stringList({ nullable: true, description: 'Action types that count here; null: every action type.', resolve: (b) => b.actionTypes }),
    enabled: t.exposeBoolean('enabled', { description: 'Disabled: no new credits land here; reads still work.' }),
    currentPeriod: t.field({
      type: PeriodRef,
      description: 'The period the board is in now.',
      resolve: (b, _args, ctx) => withTtl(currentPeriod(b), ctx.services.config.actionToken.ttlSeconds),
    }),
    periods: t.field({
      type: [PeriodRef],
      description: 'The current period and every past period with entries, newest first.',
      args: {
        first: t.arg.int({ defaultValue: 10, description: 'How many (1..100).' }),
        before: t.arg.string({ description: 'Only periods older than this key.' }),
      },
      resolve: async (b, { first, before }, ctx) => {
        const n = first ?? 10;
        if (!Number.isInteger(n) || n < 1 || n > 100) throw badInput('first must be between 1 and 100');
        const ttl = ctx.services.config.actionToken.ttlSeconds;
        if (b.window === 'ALL_TIME') return before == null ? [withTtl(currentPeriod(b), ttl)] : (periodByKey(b, before), []);
        const current = currentPeriod(b);
        const cursor = before == null ? null : periodByKey(b, before);
        const out: Period[] = [];
        if (!cursor || (cursor.startsAt && current.startsAt && current.startsAt < cursor.startsAt)) out.push(current);
        // Past periods with entries: a skip scan over the primary key (one index probe per period, not per entry).
        // History: the replica answers once it has replayed past the moment the previous period became final
        // (no past period can gain its first entry after that); before, the primary does.
        const previous = previousPeriod(b, current);
        const settled = previous?.endsAt && new Date(previous.endsAt.getTime() + ttl * 1000);
        const listKeys = (db: PrismaClient) => db.$queryRaw<{ key: string }[]>`
          WITH RECURSIVE keys AS (
            SELECT min(period_key) AS key FROM board_entries WHERE board_id = ${b.id}
            UNION ALL
            SELECT (SELECT min(period_key) FROM board_entries WHERE board_id = ${b.id} AND period_key > keys.key) FROM keys WHERE keys.key IS NOT NULL
          ) SELECT key FROM keys WHERE key IS NOT NULL`;
        const keys =
          settled && settled.getTime() <= Date.now()
            ? await ctx.services.history.read(listKeys, { what: 'past-periods', replayedSince: settled })
            : await listKeys(ctx.services.prisma);
        const past = keys
          .map((k) => periodByKey(b, k.key))
          .filter((p) => p.key !== current.key && p.startsAt! < current.startsAt! && (!cursor || p.startsAt! < cursor.startsAt!))
          .sort((x, y) => y.startsAt!.getTime() - x.startsAt!.getTime());
        out.push(...past);
        return out.slice(0, n).map((p) => withTtl(p, ttl));
      },
    }),
    previousPeriod: t.field({
      type: PeriodRef,
      nullable: true,
      description: 'The period just before the current one (null for ALL_TIME).',
      resolve: (b, _args, ctx) => {
        const p = previousPeriod(b, currentPeriod(b));
        return p && withTtl(p, ctx.services.config.actionToken.ttlSeconds);
      },
    }),
  }),
});

export function withTtl(period: Period, ticketTtlSeconds: number): PeriodShape {
  return { ...period, ticketTtlSeconds };
}

const BoardInput = builder.inputType('BoardInput', {
  description: 'A board definition. Omitted fields keep their value on an update (or take the default on create).',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Slug: [a-z0-9-]{1,40}.' }),
    title: t.string({ description: 'Display title (default: the id).' }),
    window: t.field({ type: BoardWindowEnum, description: 'Required for a new board; fixed once the board has entries.' }),
    timeZone: t.string({ description: 'IANA zone (default "UTC"); fixed once the board has entries.' }),
    weekStart: t.field({ type: WeekdayEnum, description: 'WEEKLY: first day of the week (default MONDAY); fixed once the board has entries.' }),
    periodSeconds: t.int({ description: 'CUSTOM only: period length (>= 1); fixed once the board has entries.' }),
    anchor: t.field({ type: 'DateTime', description: 'CUSTOM only: start of period 0 (default: now); fixed once the board has entries.' }),
    segmentBy: t.string({ description: 'A player attribute (PLAYER_ATTRIBUTE_CLAIMS) to split by; fixed once the board has entries.' }),
    actionTypes: t.stringList({ description: 'Only these action types count (null: all).' }),
    enabled: t.boolean({ description: 'Disabled boards take no new credits (default true).' }),
  }),
});

builder.queryFields((t) => ({
  boards: t.field({
    type: [BoardRef],
    description: 'Every board, `global` first.',
    resolve: (_root, _args, ctx) => ctx.services.definitions.list(),
  }),
  board: t.field({
    type: BoardRef,
    nullable: true,
    description: 'A board by id; null when unknown.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => (/^[a-z0-9-]{1,40}$/.test(String(id)) ? ctx.services.definitions.get(String(id)) : null),
  }),
}));

builder.mutationField('upsertBoard', (t) =>
  t.field({
    type: BoardRef,
    description: 'Creates or updates a board (operators only). In force on every instance before the next credit.',
    args: { input: t.arg({ type: BoardInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const operator = await ctx.operator();
      const board = await ctx.services.definitions.upsert({ ...input, id: String(input.id) }, (codes) => ctx.services.actionTypes.existing(codes));
      await recordConfigChange(ctx.services, operator.playerId, 'board', { id: board.id, version: board.version, input: { ...input, id: String(input.id) } });
      ctx.services.logger.info({ actor: operator.playerId, board: board.id, version: board.version }, 'board upserted');
      return board;
    },
  }),
);
