import { recordConfigChange } from '../resolvers/operators/audit.js';
import { issueActionToken, submitAction } from '../resolvers/scoring/actions.js';
import { RankModeEnum } from './board.js';
import { builder } from './builder.js';
import { StandingRef } from './leaderboard.js';
import { PlayerRef } from './player.js';
import { AchievementRef } from './social.js';

const ActionTypeRef = builder.prismaObject('ActionType', {
  description: "One row of the server's points table.",
  fields: (t) => ({
    code: t.exposeString('code', { description: 'Identifier used in issueActionToken.' }),
    points: t.exposeInt('points', { description: 'Points credited per action.' }),
    minSeconds: t.exposeInt('minSeconds', { description: 'Minimum seconds between issuing a ticket and submitting it.' }),
  }),
});

builder.queryField('actionTypes', (t) =>
  t.field({
    type: [ActionTypeRef],
    description: 'The enabled action types and the points each is worth.',
    resolve: (_root, _args, ctx) => ctx.services.actionTypes.list() as never,
  }),
);

const ActionTypeInput = builder.inputType('ActionTypeInput', {
  description: 'A row of the points table. Omitted fields keep their value on an update.',
  fields: (t) => ({
    code: t.string({ required: true, description: 'Identifier: [A-Z][A-Z0-9_]{0,39}.' }),
    points: t.int({ description: 'Points per action (1..1000000); required for a new type. New points apply to later credits only.' }),
    minSeconds: t.int({ description: 'Minimum seconds between issuing a ticket and submitting it (0..86400; default 0).' }),
    enabled: t.boolean({ description: 'Disabled types issue no tickets and credit nothing (default true).' }),
  }),
});

builder.mutationField('upsertActionType', (t) =>
  t.field({
    type: ActionTypeRef,
    description: 'Creates or updates an action type (operators only). In force on every instance before the next credit.',
    args: { input: t.arg({ type: ActionTypeInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const operator = await ctx.operator();
      const saved = await ctx.services.actionTypes.upsert(input);
      await recordConfigChange(ctx.services, operator.playerId, 'actionType', { ...saved });
      ctx.services.logger.info({ actor: operator.playerId, actionType: saved.code, points: saved.points }, 'action type upserted');
      return saved;
    },
  }),
);

interface ActionTicketShape {
  actionId: string;
  actionType: string;
  token: string;
  expiresAt: Date;
}

const ActionTicketRef = builder.objectRef<ActionTicketShape>('ActionTicket').implement({
  description: 'A signed, single-use, short-lived permission to credit one action.',
  fields: (t) => ({
    actionId: t.exposeID('actionId', { description: 'Fresh UUID identifying this action.' }),
    actionType: t.exposeString('actionType', { description: 'The action type this ticket is for.' }),
    token: t.exposeString('token', { description: 'Signed ticket; pass it back to submitAction unchanged.' }),
    expiresAt: t.field({ type: 'DateTime', description: 'After this time the ticket is refused.', resolve: (x) => x.expiresAt }),
  }),
});

const SubmitActionInput = builder.inputType('SubmitActionInput', {
  description: 'A ticket from issueActionToken, redeemed once. Carries no score: points come from the server.',
  fields: (t) => ({
    actionId: t.id({ required: true, description: "The ticket's actionId (UUID)." }),
    actionType: t.string({ required: true, description: "The ticket's action type." }),
    token: t.string({ required: true, description: "The ticket's token." }),
  }),
});

type SubmitActionResult = Awaited<ReturnType<typeof submitAction>>;

const SubmitActionPayloadRef = builder.objectRef<SubmitActionResult>('SubmitActionPayload').implement({
  description: 'Outcome of a submitted action.',
  fields: (t) => ({
    actionId: t.exposeID('actionId', { description: 'The action credited.' }),
    scoreDelta: t.exposeInt('scoreDelta', { description: 'Points this action credited.' }),
    newScore: t.field({ type: 'SafeInt', description: 'Score right after this action.', resolve: (r) => r.newScore }),
    rank: t.exposeInt('rank', { description: "The player's rank now." }),
    seq: t.field({
      type: 'SafeInt',
      description: 'Board version at which this write is visible (read-your-write): boards showing it have seq >= this.',
      resolve: (r) => r.seq,
    }),
    replayed: t.exposeBoolean('replayed', { description: 'True for a retry of an action already applied: nothing was credited again.' }),
    standings: t.field({
      type: [StandingRef],
      description: "Every board, period and segment the credit landed on, with the player's standing there (global first).",
      args: { rankMode: t.arg({ type: RankModeEnum, defaultValue: 'ORDINAL', description: 'How ranks count ties.' }) },
      resolve: (r, { rankMode }) => r.standings.map((s) => ({ ...s, rankMode: rankMode ?? 'ORDINAL' })),
    }),
    unlocked: t.field({
      type: [AchievementRef],
      description: 'Achievements this credit unlocked (a replay: the ones the original credit unlocked; nothing unlocks twice).',
      resolve: async (r, _args, ctx) => {
        if (r.unlocked.length === 0) return [];
        const byCode = await ctx.services.achievements.byCodes(r.unlocked.map((u) => u.code));
        return r.unlocked.map((u) => byCode.get(u.code)).filter((a) => a !== undefined);
      },
    }),
    player: t.field({
      type: PlayerRef,
      description: 'The player right after this action (for a replay: as they are now).',
      // Known from the credit itself: no extra database round trip.
      resolve: (r) => ({ ...r.player, score: BigInt(r.player.score), reachedSeq: BigInt(r.player.reachedSeq) }) as never,
    }),
  }),
});

builder.mutationFields((t) => ({
  issueActionToken: t.field({
    type: ActionTicketRef,
    description: 'Issues a ticket for one action of the given type (needs a JWT).',
    args: { actionType: t.arg.string({ required: true }) },
    resolve: async (_root, { actionType }, ctx) => issueActionToken(ctx.services, await ctx.viewer(), actionType),
  }),
  submitAction: t.field({
    type: SubmitActionPayloadRef,
    description: "Redeems a ticket: credits the server's points for it exactly once (needs a JWT).",
    args: { input: t.arg({ type: SubmitActionInput, required: true }) },
    resolve: async (_root, { input }, ctx) =>
      submitAction(ctx.services, await ctx.viewer(), { actionId: String(input.actionId), actionType: input.actionType, token: input.token }),
  }),
}));
