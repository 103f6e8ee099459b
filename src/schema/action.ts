import { listActionTypes } from '../resolvers/scoring/action-types.js';
import { issueActionToken, submitAction } from '../resolvers/scoring/actions.js';
import { PlayerRef } from './player.js';
import { builder } from './builder.js';

const ActionTypeRef = builder.prismaObject('ActionType', {
  description: 'One row of the server\'s points table.',
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
    resolve: (_root, _args, ctx) => listActionTypes(ctx.services) as never,
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
    actionId: t.id({ required: true, description: 'The ticket\'s actionId (UUID).' }),
    actionType: t.string({ required: true, description: 'The ticket\'s action type.' }),
    token: t.string({ required: true, description: 'The ticket\'s token.' }),
  }),
});

type SubmitActionResult = Awaited<ReturnType<typeof submitAction>>;

const SubmitActionPayloadRef = builder.objectRef<SubmitActionResult>('SubmitActionPayload').implement({
  description: 'Outcome of a submitted action.',
  fields: (t) => ({
    actionId: t.exposeID('actionId', { description: 'The action credited.' }),
    scoreDelta: t.exposeInt('scoreDelta', { description: 'Points this action credited.' }),
    newScore: t.field({ type: 'SafeInt', description: 'Score right after this action.', resolve: (r) => r.newScore }),
    rank: t.exposeInt('rank', { description: 'The player\'s rank now.' }),
    seq: t.field({
      type: 'SafeInt',
      description: 'Board version at which this write is visible (read-your-write): boards showing it have seq >= this.',
      resolve: (r) => r.seq,
    }),
    replayed: t.exposeBoolean('replayed', { description: 'True for a retry of an action already applied: nothing was credited again.' }),
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
    description: 'Redeems a ticket: credits the server\'s points for it exactly once (needs a JWT).',
    args: { input: t.arg({ type: SubmitActionInput, required: true }) },
    resolve: async (_root, { input }, ctx) =>
      submitAction(ctx.services, await ctx.viewer(), { actionId: String(input.actionId), actionType: input.actionType, token: input.token }),
  }),
}));
