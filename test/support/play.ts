import { IssueActionTokenDocument, SubmitActionDocument } from '../../sdk/generated/graphql.js';
import { expectNoGraphQLErrors, type Instance } from './app.js';

/** Issues a ticket and redeems it, through HTTP, like a client would. */
export async function completeTask(instance: Instance, token: string, submitOn: Instance = instance) {
  const ticket = expectNoGraphQLErrors(await instance.gql(IssueActionTokenDocument, { actionType: 'COMPLETE_TASK' }, token)).issueActionToken;
  return submit(submitOn, token, ticket);
}

export async function issue(instance: Instance, token: string, actionType = 'COMPLETE_TASK') {
  return expectNoGraphQLErrors(await instance.gql(IssueActionTokenDocument, { actionType }, token)).issueActionToken;
}

export async function submit(instance: Instance, token: string, ticket: { actionId: string; actionType: string; token: string }) {
  return expectNoGraphQLErrors(await instance.gql(SubmitActionDocument, { input: { actionId: ticket.actionId, actionType: ticket.actionType, token: ticket.token } }, token))
    .submitAction;
}

export async function submitRaw(instance: Instance, token: string | undefined, input: { actionId: string; actionType: string; token: string }) {
  return instance.gql(SubmitActionDocument, { input: { actionId: input.actionId, actionType: input.actionType, token: input.token } }, token);
}
